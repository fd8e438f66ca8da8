//! Small resources stored whole as JSON documents, keyed by kind and id.

use ferro_store::sqlx;

use super::{object, text, to_json, Db};
use crate::validate::Object;

pub async fn create(db: &Db, kind: &str, id: &str, body: &Object, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_document (kind, id, body, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(kind)
    .bind(id)
    .bind(to_json(body))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, kind: &str, id: &str, body: &Object) -> sqlx::Result<()> {
    sqlx::query("UPDATE identity_document SET body=$3 WHERE kind=$1 AND id=$2")
        .bind(kind)
        .bind(id)
        .bind(to_json(body))
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get(db: &Db, kind: &str, id: &str) -> sqlx::Result<Option<Object>> {
    let row = sqlx::query("SELECT body FROM identity_document WHERE kind=$1 AND id=$2")
        .bind(kind)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(|r| object(r, "body")))
}

pub async fn list(db: &Db, kind: &str) -> sqlx::Result<Vec<(String, Object)>> {
    let rows =
        sqlx::query("SELECT id, body FROM identity_document WHERE kind=$1 ORDER BY created_at, id")
            .bind(kind)
            .fetch_all(db.read())
            .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "id"), object(r, "body")))
        .collect())
}

pub async fn delete(db: &Db, kind: &str, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_document WHERE kind=$1 AND id=$2")
        .bind(kind)
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
