//! Snapshot rows.

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db, Table};

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub volume_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub size: i64,
    pub status: String,
    pub metadata: Map<String, Value>,
    pub error_message: Option<String>,
    /// The group snapshot (3.14) it was made by.
    pub group_snapshot_id: Option<String>,
    /// Set by `os-update_snapshot_status`; otherwise derived from the status.
    pub progress: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, project_id, user_id, volume_id, name, description, size, status, \
    metadata, error_message, created_at, updated_at, group_snapshot_id, progress";

fn from_row(r: &AnyRow) -> Snapshot {
    Snapshot {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        volume_id: text(r, "volume_id"),
        name: opt_text(r, "name"),
        description: opt_text(r, "description"),
        size: int(r, "size"),
        status: text(r, "status"),
        metadata: object(r, "metadata"),
        error_message: opt_text(r, "error_message"),
        group_snapshot_id: opt_text(r, "group_snapshot_id"),
        progress: opt_text(r, "progress"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn insert(conn: &mut sqlx::AnyConnection, s: &Snapshot) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_snapshots ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
    ))
    .bind(&s.id)
    .bind(&s.project_id)
    .bind(&s.user_id)
    .bind(&s.volume_id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(s.size)
    .bind(&s.status)
    .bind(to_json(&s.metadata))
    .bind(&s.error_message)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(&s.group_snapshot_id)
    .bind(&s.progress)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

const TABLE: Table<Snapshot> = Table {
    name: "volume_snapshots",
    cols: COLS,
    from_row,
};

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Snapshot>> {
    TABLE.get(db, id).await
}

pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Snapshot>> {
    TABLE.rows_where(db, "project_id", project_id).await
}

pub async fn of_volume(db: &Db, volume_id: &str) -> sqlx::Result<Vec<Snapshot>> {
    TABLE.rows_where(db, "volume_id", Some(volume_id)).await
}

pub async fn update_fields(db: &Db, s: &Snapshot, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_snapshots SET name=$2, description=$3, metadata=$4, updated_at=$5 WHERE id=$1",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(to_json(&s.metadata))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn set_status(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE volume_snapshots SET status=$2, error_message=$3, updated_at=$4 WHERE id=$1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Move `id` to `to` if its status is one of `from`; true when it moved.
pub async fn transition(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    from: &[&str],
    to: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let done = sqlx::query(&format!(
        "UPDATE volume_snapshots SET status=$2, updated_at=$3 WHERE id=$1 AND status IN ({list})"
    ))
    .bind(id)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM volume_snapshots WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// (count, gigabytes) of a project's snapshots.
pub async fn usage(conn: &mut sqlx::AnyConnection, project_id: &str) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS gb \
         FROM volume_snapshots WHERE project_id=$1",
    )
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((int(&row, "n"), int(&row, "gb")))
}

pub async fn ids_with_status(db: &Db, status: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM volume_snapshots WHERE status=$1")
        .bind(status)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

/// Move a volume's snapshots (transfer accept) to another owner.
pub async fn set_owner_of_volume(
    conn: &mut sqlx::AnyConnection,
    volume_id: &str,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_snapshots SET project_id=$2, user_id=$3 WHERE volume_id=$1")
        .bind(volume_id)
        .bind(project_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// `os-update_snapshot_status`: status and progress together.
pub async fn set_status_progress(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: &str,
    progress: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_snapshots SET status=$2, progress=COALESCE($3, progress), updated_at=$4 \
         WHERE id=$1",
    )
    .bind(id)
    .bind(status)
    .bind(progress)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}
