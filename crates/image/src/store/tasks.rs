//! `image_task`: asynchronous work on images (imports and legacy tasks).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, opt_text, text, Db};
use crate::model::Task;

const COLUMNS: &str = "id, type, status, owner, image_id, request_id, user_id, input, result, \
    message, expires_at, created_at, updated_at";

fn from_row(r: &AnyRow) -> Task {
    let json = |col: &str| {
        opt_text(r, col)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    Task {
        id: text(r, "id"),
        kind: text(r, "type"),
        status: text(r, "status"),
        owner: opt_text(r, "owner"),
        image_id: opt_text(r, "image_id"),
        request_id: opt_text(r, "request_id"),
        user_id: opt_text(r, "user_id"),
        input: json("input"),
        result: json("result"),
        message: text(r, "message"),
        expires_at: opt_int(r, "expires_at"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

pub async fn insert(db: &Db, t: &Task) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO image_task ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&t.id)
    .bind(&t.kind)
    .bind(&t.status)
    .bind(&t.owner)
    .bind(&t.image_id)
    .bind(&t.request_id)
    .bind(&t.user_id)
    .bind(t.input.to_string())
    .bind((!t.result.is_null()).then(|| t.result.to_string()))
    .bind(&t.message)
    .bind(t.expires_at)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(db.write())
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Task>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM image_task WHERE id=$1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Every task, newest first (listing filters in memory, as images do).
pub async fn all(db: &Db) -> sqlx::Result<Vec<Task>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM image_task ORDER BY created_at DESC, id DESC"
    ))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn of_image(db: &Db, image_id: &str) -> sqlx::Result<Vec<Task>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM image_task WHERE image_id=$1 ORDER BY created_at, id"
    ))
    .bind(image_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Record a new status (and, when finished, result, message, expiry).
pub async fn save_status(db: &Db, t: &Task) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE image_task SET status=$2, result=$3, message=$4, expires_at=$5, updated_at=$6 \
         WHERE id=$1",
    )
    .bind(&t.id)
    .bind(&t.status)
    .bind((!t.result.is_null()).then(|| t.result.to_string()))
    .bind(&t.message)
    .bind(t.expires_at)
    .bind(t.updated_at)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Tasks a crash interrupted (`pending`/`processing`) become `failure`.
pub async fn fail_interrupted(db: &Db, now: i64, expires: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE image_task SET status='failure', message=$1, expires_at=$2, updated_at=$3 \
         WHERE status IN ('pending', 'processing')",
    )
    .bind("The server stopped while this task was running.")
    .bind(expires)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected())
}
