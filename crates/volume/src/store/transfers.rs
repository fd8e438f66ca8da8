//! Volume transfer records. Accepting or deleting a transfer marks it
//! `deleted` (kept as history with the accepting project, as upstream).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, opt_text, text, Db};

#[derive(Clone, Debug)]
pub struct Transfer {
    pub id: String,
    pub volume_id: String,
    pub name: Option<String>,
    pub salt: String,
    pub crypt_hash: String,
    pub source_project_id: String,
    pub destination_project_id: Option<String>,
    pub accepted: bool,
    pub no_snapshots: bool,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, volume_id, name, salt, crypt_hash, source_project_id, \
    destination_project_id, accepted, no_snapshots, created_at, updated_at";

fn from_row(r: &AnyRow) -> Transfer {
    Transfer {
        id: text(r, "id"),
        volume_id: text(r, "volume_id"),
        name: opt_text(r, "name"),
        salt: text(r, "salt"),
        crypt_hash: text(r, "crypt_hash"),
        source_project_id: text(r, "source_project_id"),
        destination_project_id: opt_text(r, "destination_project_id"),
        accepted: int(r, "accepted") != 0,
        no_snapshots: int(r, "no_snapshots") != 0,
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn insert(conn: &mut sqlx::AnyConnection, t: &Transfer) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_transfers ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
    ))
    .bind(&t.id)
    .bind(&t.volume_id)
    .bind(&t.name)
    .bind(&t.salt)
    .bind(&t.crypt_hash)
    .bind(&t.source_project_id)
    .bind(&t.destination_project_id)
    .bind(t.accepted as i64)
    .bind(t.no_snapshots as i64)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// A live (not accepted, not deleted) transfer.
pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Transfer>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_transfers WHERE id=$1 AND deleted=0"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Live transfers, all or those offered by one project.
pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Transfer>> {
    let rows = match project_id {
        Some(p) => {
            sqlx::query(&format!(
                "SELECT {COLS} FROM volume_transfers WHERE deleted=0 AND source_project_id=$1"
            ))
            .bind(p)
            .fetch_all(db.read())
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLS} FROM volume_transfers WHERE deleted=0"
            ))
            .fetch_all(db.read())
            .await?
        }
    };
    Ok(rows.iter().map(from_row).collect())
}

/// Retire a transfer: deleted, or accepted by `destination`.
pub async fn retire(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    destination: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE volume_transfers SET deleted=1, accepted=$2, destination_project_id=$3, \
         updated_at=$4 WHERE id=$1 AND deleted=0",
    )
    .bind(id)
    .bind(destination.is_some() as i64)
    .bind(destination)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
