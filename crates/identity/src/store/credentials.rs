use ferro_store::sqlx::{self, any::AnyRow};

use super::{object, opt_text, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Credential {
    pub id: String,
    pub user_id: String,
    pub project_id: Option<String>,
    pub kind: String,
    pub blob: String,
    pub extra: Object,
}

fn from_row(r: &AnyRow) -> Credential {
    Credential {
        id: text(r, "id"),
        user_id: text(r, "user_id"),
        project_id: opt_text(r, "project_id"),
        kind: text(r, "type"),
        blob: text(r, "blob"),
        extra: object(r, "extra"),
    }
}

pub async fn create(db: &Db, c: &Credential, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_credential (id, user_id, project_id, type, blob, extra, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(&c.user_id)
    .bind(&c.project_id)
    .bind(&c.kind)
    .bind(&c.blob)
    .bind(to_json(&c.extra))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, c: &Credential) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_credential SET user_id=$2, project_id=$3, type=$4, blob=$5, extra=$6 \
         WHERE id=$1",
    )
    .bind(&c.id)
    .bind(&c.user_id)
    .bind(&c.project_id)
    .bind(&c.kind)
    .bind(&c.blob)
    .bind(to_json(&c.extra))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Credential>> {
    let row = sqlx::query("SELECT * FROM identity_credential WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Credential>> {
    let rows = sqlx::query("SELECT * FROM identity_credential ORDER BY id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_credential WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
