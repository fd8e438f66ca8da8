//! The shared write counter (`identity_generation`): bumped after identity
//! writes, read before trusting cached token validations.

use ferro_store::sqlx::{self, Row};

use super::Db;

/// The current count.
pub async fn get(db: &Db) -> sqlx::Result<i64> {
    let row = sqlx::query("SELECT n FROM identity_generation WHERE id=1")
        .fetch_optional(db.read())
        .await?;
    Ok(row.and_then(|r| r.try_get::<i64, _>(0).ok()).unwrap_or(0))
}

/// Count one more write.
pub async fn bump(db: &Db) -> sqlx::Result<()> {
    sqlx::query("UPDATE identity_generation SET n = n + 1 WHERE id=1")
        .execute(db.write())
        .await
        .map(|_| ())
}
