//! User messages (3.3): what asynchronous work tells the project about
//! failures (e.g. no backend could take a volume).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_text, text, Db, Table};

#[derive(Clone, Debug)]
pub struct Message {
    pub id: String,
    pub project_id: String,
    pub request_id: String,
    pub resource_type: String,
    pub resource_uuid: Option<String>,
    pub event_id: String,
    pub message_level: String,
    pub user_message: String,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLS: &str = "id, project_id, request_id, resource_type, resource_uuid, event_id, \
    message_level, user_message, created_at, expires_at";

fn from_row(r: &AnyRow) -> Message {
    Message {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        request_id: text(r, "request_id"),
        resource_type: text(r, "resource_type"),
        resource_uuid: opt_text(r, "resource_uuid"),
        event_id: text(r, "event_id"),
        message_level: text(r, "message_level"),
        user_message: text(r, "user_message"),
        created_at: int(r, "created_at"),
        expires_at: int(r, "expires_at"),
    }
}

pub async fn insert(conn: &mut sqlx::AnyConnection, m: &Message) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_messages ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    ))
    .bind(&m.id)
    .bind(&m.project_id)
    .bind(&m.request_id)
    .bind(&m.resource_type)
    .bind(&m.resource_uuid)
    .bind(&m.event_id)
    .bind(&m.message_level)
    .bind(&m.user_message)
    .bind(m.created_at)
    .bind(m.expires_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

const TABLE: Table<Message> = Table {
    name: "volume_messages",
    cols: COLS,
    from_row,
};

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Message>> {
    TABLE.get(db, id).await
}

pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Message>> {
    TABLE.rows_where(db, "project_id", project_id).await
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM volume_messages WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() == 1)
}
