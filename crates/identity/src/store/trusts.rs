//! Trusts (`identity_trust`) and the roles each delegates
//! (`identity_trust_role`).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, object, opt_int, opt_text, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Trust {
    pub id: String,
    pub trustor_user_id: String,
    pub trustee_user_id: String,
    pub project_id: Option<String>,
    pub impersonation: bool,
    /// Microseconds since the epoch.
    pub expires_at: Option<i64>,
    pub remaining_uses: Option<i64>,
    pub redelegated_trust_id: Option<String>,
    pub redelegation_count: Option<i64>,
    /// Properties the client sent beyond the known ones, shown back.
    pub extra: Object,
    /// The delegated role ids, in no particular order.
    pub role_ids: Vec<String>,
}

impl Trust {
    /// Expired at `now` (microseconds)?
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Whether it can still give tokens: not expired, uses left.
    pub fn usable(&self, now: i64) -> bool {
        !self.expired(now) && self.remaining_uses.is_none_or(|n| n > 0)
    }
}

fn from_row(r: &AnyRow) -> Trust {
    Trust {
        id: text(r, "id"),
        trustor_user_id: text(r, "trustor_user_id"),
        trustee_user_id: text(r, "trustee_user_id"),
        project_id: opt_text(r, "project_id"),
        impersonation: boolean(r, "impersonation"),
        expires_at: opt_int(r, "expires_at"),
        remaining_uses: opt_int(r, "remaining_uses"),
        redelegated_trust_id: opt_text(r, "redelegated_trust_id"),
        redelegation_count: opt_int(r, "redelegation_count"),
        extra: object(r, "extra"),
        role_ids: Vec::new(),
    }
}

pub async fn create(db: &Db, t: &Trust, now: i64) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query(
        "INSERT INTO identity_trust (id, trustor_user_id, trustee_user_id, project_id, \
         impersonation, expires_at, remaining_uses, redelegated_trust_id, redelegation_count, \
         extra, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&t.id)
    .bind(&t.trustor_user_id)
    .bind(&t.trustee_user_id)
    .bind(&t.project_id)
    .bind(flag(t.impersonation))
    .bind(t.expires_at)
    .bind(t.remaining_uses)
    .bind(&t.redelegated_trust_id)
    .bind(t.redelegation_count)
    .bind(to_json(&t.extra))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for role_id in &t.role_ids {
        sqlx::query("INSERT INTO identity_trust_role (trust_id, role_id) VALUES ($1, $2)")
            .bind(&t.id)
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// A trust with its roles, whatever its expiry or uses left.
pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Trust>> {
    let row = sqlx::query("SELECT * FROM identity_trust WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    let Some(mut t) = row.as_ref().map(from_row) else {
        return Ok(None);
    };
    let roles = sqlx::query("SELECT role_id FROM identity_trust_role WHERE trust_id=$1")
        .bind(id)
        .fetch_all(db.read())
        .await?;
    t.role_ids = roles.iter().map(|r| text(r, "role_id")).collect();
    Ok(Some(t))
}

/// Trusts (without roles), optionally those of one trustor or trustee.
pub async fn list(
    db: &Db,
    trustor: Option<&str>,
    trustee: Option<&str>,
) -> sqlx::Result<Vec<Trust>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_trust WHERE ($1 IS NULL OR trustor_user_id = $1) \
         AND ($2 IS NULL OR trustee_user_id = $2) ORDER BY created_at, id",
    )
    .bind(trustor)
    .bind(trustee)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Ids of the trusts redelegated from `parent_id` by `trustor_user_id`.
pub async fn children(
    db: &Db,
    parent_id: &str,
    trustor_user_id: &str,
) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM identity_trust WHERE redelegated_trust_id=$1 AND trustor_user_id=$2",
    )
    .bind(parent_id)
    .bind(trustor_user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

/// A trust of the same trustor, trustee, project, impersonation and expiry
/// (Keystone's `duplicate_trust_constraint`; a NULL never matches, as in
/// SQL).
pub async fn duplicate(db: &Db, t: &Trust) -> sqlx::Result<bool> {
    let (Some(project), Some(expires)) = (&t.project_id, t.expires_at) else {
        return Ok(false);
    };
    let row = sqlx::query(
        "SELECT 1 AS one FROM identity_trust WHERE trustor_user_id=$1 AND trustee_user_id=$2 \
         AND project_id=$3 AND impersonation=$4 AND expires_at=$5 LIMIT 1",
    )
    .bind(&t.trustor_user_id)
    .bind(&t.trustee_user_id)
    .bind(project)
    .bind(flag(t.impersonation))
    .bind(expires)
    .fetch_optional(db.read())
    .await?;
    Ok(row.is_some())
}

/// Take one use of a limited trust. `Ok(true)`: unlimited, or one use
/// taken; `Ok(false)`: gone or none left. One statement, so concurrent
/// issuers never take the last use twice.
pub async fn consume_use(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE identity_trust SET remaining_uses = remaining_uses - 1 \
         WHERE id=$1 AND remaining_uses > 0",
    )
    .bind(id)
    .execute(db.write())
    .await?;
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    let row =
        sqlx::query("SELECT 1 AS one FROM identity_trust WHERE id=$1 AND remaining_uses IS NULL")
            .bind(id)
            .fetch_optional(db.read())
            .await?;
    Ok(row.is_some())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_trust_role WHERE trust_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM identity_trust WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// The statements that drop the trusts of a deleted user (as trustor or
/// trustee), for that user's delete transaction; `$1` is the user id.
pub const DELETE_FOR_USER: [&str; 2] = [
    "DELETE FROM identity_trust_role WHERE trust_id IN (SELECT id FROM identity_trust \
       WHERE trustor_user_id=$1 OR trustee_user_id=$1)",
    "DELETE FROM identity_trust WHERE trustor_user_id=$1 OR trustee_user_id=$1",
];

/// The same for a deleted project; `$1` is the project id.
pub const DELETE_FOR_PROJECT: [&str; 2] = [
    "DELETE FROM identity_trust_role WHERE trust_id IN (SELECT id FROM identity_trust \
       WHERE project_id=$1)",
    "DELETE FROM identity_trust WHERE project_id=$1",
];

/// The same for a deleted domain: trusts of its users and on its projects;
/// `$1` is the domain id.
pub const DELETE_FOR_DOMAIN: [&str; 2] = [
    "DELETE FROM identity_trust_role WHERE trust_id IN (SELECT id FROM identity_trust \
       WHERE trustor_user_id IN (SELECT id FROM identity_user WHERE domain_id=$1) \
       OR trustee_user_id IN (SELECT id FROM identity_user WHERE domain_id=$1) \
       OR project_id IN (SELECT id FROM identity_project WHERE domain_id=$1))",
    "DELETE FROM identity_trust WHERE \
       trustor_user_id IN (SELECT id FROM identity_user WHERE domain_id=$1) \
       OR trustee_user_id IN (SELECT id FROM identity_user WHERE domain_id=$1) \
       OR project_id IN (SELECT id FROM identity_project WHERE domain_id=$1)",
];
