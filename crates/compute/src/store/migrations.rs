//! Migration records: `compute_migration`.

use ferro_api::time::now_micros;
use ferro_store::sqlx;

use super::{int, opt_int, opt_text, text, Db};

#[derive(Clone, Debug, Default)]
pub struct Migration {
    pub id: i64,
    pub uuid: String,
    pub instance_uuid: String,
    /// `resize`, `migration`, `live-migration` or `evacuation`.
    pub migration_type: String,
    pub status: String,
    pub source_compute: Option<String>,
    pub source_node: Option<String>,
    pub dest_compute: Option<String>,
    pub dest_node: Option<String>,
    pub dest_host: Option<String>,
    pub old_flavor_id: Option<String>,
    pub new_flavor_id: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLUMNS: &str = "id, uuid, instance_uuid, migration_type, status, source_compute, \
    source_node, dest_compute, dest_node, dest_host, old_flavor_id, new_flavor_id, project_id, \
    user_id, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Migration {
    Migration {
        id: int(r, "id"),
        uuid: text(r, "uuid"),
        instance_uuid: text(r, "instance_uuid"),
        migration_type: text(r, "migration_type"),
        status: text(r, "status"),
        source_compute: opt_text(r, "source_compute"),
        source_node: opt_text(r, "source_node"),
        dest_compute: opt_text(r, "dest_compute"),
        dest_node: opt_text(r, "dest_node"),
        dest_host: opt_text(r, "dest_host"),
        old_flavor_id: opt_text(r, "old_flavor_id"),
        new_flavor_id: opt_text(r, "new_flavor_id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

/// Record a new migration; its integer id is the next free one (retried
/// when another writer took it first).
pub async fn create(db: &Db, m: &Migration) -> sqlx::Result<i64> {
    for _ in 0..5 {
        let res = sqlx::query(&format!(
            "INSERT INTO compute_migration ({COLUMNS}) \
             SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, NULL FROM compute_migration WHERE true ON CONFLICT DO NOTHING"
        ))
        .bind(&m.uuid)
        .bind(&m.instance_uuid)
        .bind(&m.migration_type)
        .bind(&m.status)
        .bind(&m.source_compute)
        .bind(&m.source_node)
        .bind(&m.dest_compute)
        .bind(&m.dest_node)
        .bind(&m.dest_host)
        .bind(&m.old_flavor_id)
        .bind(&m.new_flavor_id)
        .bind(&m.project_id)
        .bind(&m.user_id)
        .bind(m.created_at)
        .execute(db.write())
        .await?;
        if res.rows_affected() == 1 {
            let row = sqlx::query("SELECT id FROM compute_migration WHERE uuid=$1")
                .bind(&m.uuid)
                .fetch_one(db.write())
                .await?;
            return Ok(int(&row, "id"));
        }
    }
    Err(sqlx::Error::Protocol(
        "could not allocate a migration id".into(),
    ))
}

/// Move the instance's newest migration of `kind` from one of `from` to
/// `status`.
pub async fn advance(
    db: &Db,
    instance_uuid: &str,
    from: &[&str],
    status: &str,
) -> sqlx::Result<()> {
    let Some(m) = latest(db, instance_uuid).await? else {
        return Ok(());
    };
    if !from.contains(&m.status.as_str()) {
        return Ok(());
    }
    sqlx::query("UPDATE compute_migration SET status=$1, updated_at=$2 WHERE id=$3")
        .bind(status)
        .bind(now_micros())
        .bind(m.id)
        .execute(db.write())
        .await?;
    Ok(())
}

/// The instance's newest migration.
pub async fn latest(db: &Db, instance_uuid: &str) -> sqlx::Result<Option<Migration>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM compute_migration WHERE instance_uuid=$1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(instance_uuid)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// All migrations, newest first (Nova's order).
pub async fn list(db: &Db) -> sqlx::Result<Vec<Migration>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM compute_migration ORDER BY created_at DESC, id DESC"
    ))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}
