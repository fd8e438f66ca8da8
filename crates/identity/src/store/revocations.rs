//! Revocation events: a token is invalid when an event matches it.

use ferro_store::sqlx;

use super::{new_id, Db};

/// What a revocation applies to; `None` fields match anything.
#[derive(Clone, Debug, Default)]
pub struct Event {
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    pub domain_id: Option<String>,
    pub audit_id: Option<String>,
}

/// The facts of a token that events are matched against.
pub struct TokenFacts<'a> {
    pub user_id: &'a str,
    /// A trust-scoped token's trustor: events for that user match too.
    pub trustor_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    /// Scope domain, user's domain and project's domain.
    pub domain_ids: [Option<&'a str>; 3],
    pub audit_ids: &'a [String],
    pub issued_at: i64,
}

pub async fn add(db: &Db, ev: &Event, issued_before: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_revocation_event (id, user_id, project_id, domain_id, audit_id, \
         issued_before, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(&ev.user_id)
    .bind(&ev.project_id)
    .bind(&ev.domain_id)
    .bind(&ev.audit_id)
    .bind(issued_before)
    .bind(issued_before)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// True when some event revokes a token with these facts.
pub async fn is_revoked(db: &Db, t: &TokenFacts<'_>) -> sqlx::Result<bool> {
    let audit = t.audit_ids.first().map(String::as_str).unwrap_or("");
    let chain = t.audit_ids.get(1).map(String::as_str).unwrap_or(audit);
    let [d1, d2, d3] = t.domain_ids;
    let row = sqlx::query(
        "SELECT 1 AS one FROM identity_revocation_event WHERE issued_before >= $1 \
         AND (user_id IS NULL OR user_id = $2 OR user_id = $9) \
         AND (project_id IS NULL OR project_id = $3) \
         AND (audit_id IS NULL OR audit_id = $4 OR audit_id = $5) \
         AND (domain_id IS NULL OR domain_id = $6 OR domain_id = $7 OR domain_id = $8) \
         LIMIT 1",
    )
    .bind(t.issued_at)
    .bind(t.user_id)
    .bind(t.project_id.unwrap_or(""))
    .bind(audit)
    .bind(chain)
    .bind(d1.unwrap_or(""))
    .bind(d2.unwrap_or(""))
    .bind(d3.unwrap_or(""))
    .bind(t.trustor_id.unwrap_or(t.user_id))
    .fetch_optional(db.read())
    .await?;
    Ok(row.is_some())
}

/// Drop events older than any token that could still be valid.
pub async fn prune(db: &Db, older_than: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM identity_revocation_event WHERE issued_before < $1")
        .bind(older_than)
        .execute(db.write())
        .await
        .map(|_| ())
}
