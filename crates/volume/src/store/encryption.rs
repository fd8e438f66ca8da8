//! Volume type encryption specs.

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, opt_text, text, Db};

#[derive(Clone, Debug)]
pub struct Encryption {
    pub volume_type_id: String,
    pub encryption_id: String,
    pub provider: String,
    pub cipher: Option<String>,
    pub key_size: Option<i64>,
    pub control_location: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "volume_type_id, encryption_id, provider, cipher, key_size, \
    control_location, created_at, updated_at";

fn from_row(r: &AnyRow) -> Encryption {
    Encryption {
        volume_type_id: text(r, "volume_type_id"),
        encryption_id: text(r, "encryption_id"),
        provider: text(r, "provider"),
        cipher: opt_text(r, "cipher"),
        key_size: opt_int(r, "key_size"),
        control_location: text(r, "control_location"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn get(db: &Db, type_id: &str) -> sqlx::Result<Option<Encryption>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_encryption WHERE volume_type_id=$1"
    ))
    .bind(type_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// Insert or replace the spec of a type.
pub async fn put(db: &Db, e: &Encryption) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM volume_encryption WHERE volume_type_id=$1")
        .bind(&e.volume_type_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO volume_encryption ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
    ))
    .bind(&e.volume_type_id)
    .bind(&e.encryption_id)
    .bind(&e.provider)
    .bind(&e.cipher)
    .bind(e.key_size)
    .bind(&e.control_location)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn delete(db: &Db, type_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_encryption WHERE volume_type_id=$1")
        .bind(type_id)
        .execute(db.write())
        .await
        .map(|_| ())
}
