use ferro_store::sqlx::{self, any::AnyRow};

use super::{object, opt_text, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// `None` for a global role.
    pub domain_id: Option<String>,
    pub description: Option<String>,
    pub extra: Object,
    pub options: Object,
}

fn from_row(r: &AnyRow) -> Role {
    let domain = text(r, "domain_id");
    Role {
        id: text(r, "id"),
        name: text(r, "name"),
        domain_id: (!domain.is_empty()).then_some(domain),
        description: opt_text(r, "description"),
        extra: object(r, "extra"),
        options: object(r, "options"),
    }
}

pub async fn create(db: &Db, role: &Role, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_role (id, name, domain_id, description, extra, options, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&role.id)
    .bind(&role.name)
    .bind(role.domain_id.clone().unwrap_or_default())
    .bind(&role.description)
    .bind(to_json(&role.extra))
    .bind(to_json(&role.options))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, role: &Role) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_role SET name=$2, description=$3, extra=$4, options=$5 WHERE id=$1",
    )
    .bind(&role.id)
    .bind(&role.name)
    .bind(&role.description)
    .bind(to_json(&role.extra))
    .bind(to_json(&role.options))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Role>> {
    let row = sqlx::query("SELECT * FROM identity_role WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_global_by_name(db: &Db, name: &str) -> sqlx::Result<Option<Role>> {
    let sql = format!(
        "SELECT * FROM identity_role WHERE {} AND domain_id=''",
        super::name_is("name", 1)
    );
    let rows = sqlx::query(&sql).bind(name).fetch_all(db.read()).await?;
    Ok(super::pick_named(
        rows.iter().map(from_row).collect(),
        name,
        |x| &x.name,
    ))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Role>> {
    let rows = sqlx::query("SELECT * FROM identity_role ORDER BY name")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_assignment WHERE role_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM identity_implied_role WHERE prior_role_id=$1 OR implied_role_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM identity_role WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// All (prior, implied) pairs.
pub async fn list_implied(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT prior_role_id, implied_role_id FROM identity_implied_role \
         ORDER BY prior_role_id, implied_role_id",
    )
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "prior_role_id"), text(r, "implied_role_id")))
        .collect())
}

pub async fn add_implied(db: &Db, prior: &str, implied: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_implied_role (prior_role_id, implied_role_id) VALUES ($1, $2)",
    )
    .bind(prior)
    .bind(implied)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn delete_implied(db: &Db, prior: &str, implied: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM identity_implied_role WHERE prior_role_id=$1 AND implied_role_id=$2",
    )
    .bind(prior)
    .bind(implied)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}
