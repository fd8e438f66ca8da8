//! `image_member`: projects an image is shared with.

use std::collections::HashMap;

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, text, Db};

#[derive(Clone, Debug)]
pub struct Member {
    pub image_id: String,
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &AnyRow) -> Member {
    Member {
        image_id: text(r, "image_id"),
        member_id: text(r, "member_id"),
        status: text(r, "status"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

const COLUMNS: &str = "image_id, member_id, status, created_at, updated_at";

pub async fn list(db: &Db, image_id: &str) -> sqlx::Result<Vec<Member>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM image_member WHERE image_id=$1 ORDER BY created_at, member_id"
    ))
    .bind(image_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn get(db: &Db, image_id: &str, member_id: &str) -> sqlx::Result<Option<Member>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM image_member WHERE image_id=$1 AND member_id=$2"
    ))
    .bind(image_id)
    .bind(member_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Image id → membership status, for one member project.
pub async fn of_member(db: &Db, member_id: &str) -> sqlx::Result<HashMap<String, String>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM image_member WHERE member_id=$1"
    ))
    .bind(member_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(from_row)
        .map(|m| (m.image_id, m.status))
        .collect())
}

pub async fn insert(db: &Db, m: &Member) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO image_member ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&m.image_id)
    .bind(&m.member_id)
    .bind(&m.status)
    .bind(m.created_at)
    .bind(m.updated_at)
    .execute(db.write())
    .await?;
    Ok(())
}

pub async fn set_status(db: &Db, m: &Member) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE image_member SET status=$3, updated_at=$4 WHERE image_id=$1 AND member_id=$2",
    )
    .bind(&m.image_id)
    .bind(&m.member_id)
    .bind(&m.status)
    .bind(m.updated_at)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: &Db, image_id: &str, member_id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM image_member WHERE image_id=$1 AND member_id=$2")
        .bind(image_id)
        .bind(member_id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() == 1)
}
