//! Application credential access rules (`identity_access_rule`).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{text, Db};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRule {
    pub id: String,
    pub user_id: String,
    pub service: String,
    pub path: String,
    pub method: String,
}

fn from_row(r: &AnyRow) -> AccessRule {
    AccessRule {
        id: text(r, "id"),
        user_id: text(r, "user_id"),
        service: text(r, "service"),
        path: text(r, "path"),
        method: text(r, "method"),
    }
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<AccessRule>> {
    let row = sqlx::query("SELECT * FROM identity_access_rule WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// The user's rule for this service, path and method, if there is one.
pub async fn find(
    db: &Db,
    user_id: &str,
    service: &str,
    path: &str,
    method: &str,
) -> sqlx::Result<Option<AccessRule>> {
    let row = sqlx::query(
        "SELECT * FROM identity_access_rule WHERE user_id=$1 AND service=$2 AND path=$3 \
         AND method=$4",
    )
    .bind(user_id)
    .bind(service)
    .bind(path)
    .bind(method)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list_for_user(db: &Db, user_id: &str) -> sqlx::Result<Vec<AccessRule>> {
    let rows =
        sqlx::query("SELECT * FROM identity_access_rule WHERE user_id=$1 ORDER BY created_at, id")
            .bind(user_id)
            .fetch_all(db.read())
            .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn create(db: &Db, r: &AccessRule, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_access_rule (id, user_id, service, path, method, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.id)
    .bind(&r.user_id)
    .bind(&r.service)
    .bind(&r.path)
    .bind(&r.method)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_access_rule WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
