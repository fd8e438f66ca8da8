//! Volume attachments (Nova's old attach flow: reserve, attach, detach).

use ferro_store::sqlx::{self, any::AnyRow};

use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db};

#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: String,
    pub volume_id: String,
    pub server_id: Option<String>,
    pub host_name: Option<String>,
    pub device: Option<String>,
    /// `reserved`, `attached`, `detaching`.
    pub attach_status: String,
    pub mode: String,
    pub attached_at: Option<i64>,
    pub created_at: i64,
    /// The host connector given to the attachments API (3.27), if any.
    pub connector: Option<Map<String, Value>>,
}

const COLS: &str = "id, volume_id, server_id, host_name, device, attach_status, mode, \
    attached_at, created_at, connector";

fn from_row(r: &AnyRow) -> Attachment {
    Attachment {
        id: text(r, "id"),
        volume_id: text(r, "volume_id"),
        server_id: opt_text(r, "server_id"),
        host_name: opt_text(r, "host_name"),
        device: opt_text(r, "device"),
        attach_status: text(r, "attach_status"),
        mode: text(r, "mode"),
        attached_at: opt_int(r, "attached_at"),
        created_at: int(r, "created_at"),
        connector: opt_text(r, "connector").map(|_| object(r, "connector")),
    }
}

pub async fn of_volume(db: &Db, volume_id: &str) -> sqlx::Result<Vec<Attachment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_attachments WHERE volume_id=$1 ORDER BY created_at"
    ))
    .bind(volume_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn all(db: &Db) -> sqlx::Result<Vec<Attachment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_attachments ORDER BY created_at"
    ))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn insert(conn: &mut sqlx::AnyConnection, a: &Attachment) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_attachments ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    ))
    .bind(&a.id)
    .bind(&a.volume_id)
    .bind(&a.server_id)
    .bind(&a.host_name)
    .bind(&a.device)
    .bind(&a.attach_status)
    .bind(&a.mode)
    .bind(a.attached_at)
    .bind(a.created_at)
    .bind(a.connector.as_ref().map(to_json))
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

pub async fn update(conn: &mut sqlx::AnyConnection, a: &Attachment) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_attachments SET server_id=$2, host_name=$3, device=$4, attach_status=$5, \
         mode=$6, attached_at=$7, connector=$8 WHERE id=$1",
    )
    .bind(&a.id)
    .bind(&a.server_id)
    .bind(&a.host_name)
    .bind(&a.device)
    .bind(&a.attach_status)
    .bind(&a.mode)
    .bind(a.attached_at)
    .bind(a.connector.as_ref().map(to_json))
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Attachment>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_attachments WHERE id=$1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn delete(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_attachments WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Remove a volume's attachments in `status` (e.g. all `reserved` ones).
pub async fn delete_with_status(
    conn: &mut sqlx::AnyConnection,
    volume_id: &str,
    status: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_attachments WHERE volume_id=$1 AND attach_status=$2")
        .bind(volume_id)
        .bind(status)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}
