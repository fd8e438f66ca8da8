//! OAuth1 request and access tokens (`identity_oauth1_request_token`,
//! `identity_oauth1_access_token`).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{opt_int, opt_text, text, Db};

#[derive(Clone, Debug)]
pub struct RequestToken {
    pub id: String,
    pub secret: String,
    pub consumer_id: String,
    pub project_id: String,
    /// Set once a user authorized it.
    pub verifier: Option<String>,
    pub authorizing_user_id: Option<String>,
    pub role_ids: Vec<String>,
    /// Microseconds since the epoch.
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub id: String,
    pub secret: String,
    pub consumer_id: String,
    pub authorizing_user_id: String,
    pub project_id: String,
    pub role_ids: Vec<String>,
    /// Microseconds since the epoch.
    pub expires_at: Option<i64>,
}

impl AccessToken {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

fn ids(json: Option<String>) -> Vec<String> {
    json.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

fn ids_json(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

fn request_from_row(r: &AnyRow) -> RequestToken {
    RequestToken {
        id: text(r, "id"),
        secret: text(r, "request_secret"),
        consumer_id: text(r, "consumer_id"),
        project_id: text(r, "requested_project_id"),
        verifier: opt_text(r, "verifier"),
        authorizing_user_id: opt_text(r, "authorizing_user_id"),
        role_ids: ids(opt_text(r, "role_ids")),
        expires_at: opt_int(r, "expires_at"),
    }
}

fn access_from_row(r: &AnyRow) -> AccessToken {
    AccessToken {
        id: text(r, "id"),
        secret: text(r, "access_secret"),
        consumer_id: text(r, "consumer_id"),
        authorizing_user_id: text(r, "authorizing_user_id"),
        project_id: text(r, "project_id"),
        role_ids: ids(opt_text(r, "role_ids")),
        expires_at: opt_int(r, "expires_at"),
    }
}

pub async fn create_request_token(db: &Db, t: &RequestToken, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_oauth1_request_token (id, request_secret, consumer_id, \
         requested_project_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.id)
    .bind(&t.secret)
    .bind(&t.consumer_id)
    .bind(&t.project_id)
    .bind(t.expires_at)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get_request_token(db: &Db, id: &str) -> sqlx::Result<Option<RequestToken>> {
    let row = sqlx::query("SELECT * FROM identity_oauth1_request_token WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(request_from_row))
}

/// Record who authorized request token `id`, with which roles and verifier.
pub async fn authorize_request_token(
    db: &Db,
    id: &str,
    user_id: &str,
    role_ids: &[String],
    verifier: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE identity_oauth1_request_token SET authorizing_user_id=$2, role_ids=$3, \
         verifier=$4 WHERE id=$1",
    )
    .bind(id)
    .bind(user_id)
    .bind(ids_json(role_ids))
    .bind(verifier)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Exchange request token `request_id` for `access`: the request token
/// goes in the same transaction, so it is exchanged at most once (false
/// when it was already gone).
pub async fn exchange(
    db: &Db,
    request_id: &str,
    access: &AccessToken,
    now: i64,
) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    let gone = sqlx::query("DELETE FROM identity_oauth1_request_token WHERE id=$1")
        .bind(request_id)
        .execute(&mut *tx)
        .await?;
    if gone.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO identity_oauth1_access_token (id, access_secret, consumer_id, \
         authorizing_user_id, project_id, role_ids, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&access.id)
    .bind(&access.secret)
    .bind(&access.consumer_id)
    .bind(&access.authorizing_user_id)
    .bind(&access.project_id)
    .bind(ids_json(&access.role_ids))
    .bind(access.expires_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn get_access_token(db: &Db, id: &str) -> sqlx::Result<Option<AccessToken>> {
    let row = sqlx::query("SELECT * FROM identity_oauth1_access_token WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(access_from_row))
}

pub async fn list_access_tokens(db: &Db, user_id: &str) -> sqlx::Result<Vec<AccessToken>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_oauth1_access_token WHERE authorizing_user_id=$1 \
         ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(access_from_row).collect())
}

pub async fn delete_access_token(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_oauth1_access_token WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A deleted consumer's request and access tokens go with it.
pub async fn delete_for_consumer(db: &Db, consumer_id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for table in [
        "identity_oauth1_request_token",
        "identity_oauth1_access_token",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE consumer_id=$1"))
            .bind(consumer_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// A deleted user's access tokens (and request tokens it authorized) go.
pub async fn delete_for_user(db: &Db, user_id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for table in [
        "identity_oauth1_request_token",
        "identity_oauth1_access_token",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE authorizing_user_id=$1"))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
