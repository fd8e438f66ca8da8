//! Password history and failed-login counts (`identity_password_history`,
//! `identity_failed_auth`), for Keystone's `[security_compliance]` rules.

use ferro_store::sqlx::{self, Row};

use super::{boolean, flag, int, text, Db};

/// One password a user was given.
#[derive(Clone, Debug)]
pub struct PastPassword {
    pub password_hash: String,
    pub self_service: bool,
    pub created_at: i64,
}

/// Record a password just given to a user.
pub async fn record(
    db: &Db,
    user_id: &str,
    password_hash: &str,
    self_service: bool,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_password_history (user_id, password_hash, self_service, \
         created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user_id)
    .bind(password_hash)
    .bind(flag(self_service))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// The user's `n` most recent passwords, newest first.
pub async fn recent(db: &Db, user_id: &str, n: i64) -> sqlx::Result<Vec<PastPassword>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_password_history WHERE user_id=$1 \
         ORDER BY created_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(n)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| PastPassword {
            password_hash: text(r, "password_hash"),
            self_service: boolean(r, "self_service"),
            created_at: int(r, "created_at"),
        })
        .collect())
}

/// The user's failed logins since the last good one: (count, last time).
pub async fn failures(db: &Db, user_id: &str) -> sqlx::Result<Option<(i64, i64)>> {
    let row = sqlx::query("SELECT * FROM identity_failed_auth WHERE user_id=$1")
        .bind(user_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| {
        (
            r.try_get::<i64, _>("failed_count").unwrap_or_default(),
            r.try_get::<i64, _>("failed_at").unwrap_or_default(),
        )
    }))
}

/// Count one more failed login, in one statement.
pub async fn record_failure(db: &Db, user_id: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_failed_auth (user_id, failed_count, failed_at) VALUES ($1, 1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET failed_count = identity_failed_auth.failed_count + 1, \
         failed_at = $2",
    )
    .bind(user_id)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Forget the user's failed logins.
pub async fn reset_failures(db: &Db, user_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM identity_failed_auth WHERE user_id=$1")
        .bind(user_id)
        .execute(db.write())
        .await
        .map(|_| ())
}
