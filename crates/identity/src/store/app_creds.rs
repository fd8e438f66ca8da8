use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, int, opt_int, opt_text, text, Db};

#[derive(Clone, Debug)]
pub struct AppCred {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub project_id: String,
    pub secret_hash: String,
    pub description: Option<String>,
    pub expires_at: Option<i64>,
    pub unrestricted: bool,
    /// `[{"id","name","domain_id"}]` as granted at creation.
    pub roles: serde_json::Value,
    pub access_rules: serde_json::Value,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> AppCred {
    AppCred {
        id: text(r, "id"),
        name: text(r, "name"),
        user_id: text(r, "user_id"),
        project_id: text(r, "project_id"),
        secret_hash: text(r, "secret_hash"),
        description: opt_text(r, "description"),
        expires_at: opt_int(r, "expires_at"),
        unrestricted: boolean(r, "unrestricted"),
        roles: serde_json::from_str(&text(r, "roles")).unwrap_or_default(),
        access_rules: serde_json::from_str(&text(r, "access_rules")).unwrap_or_default(),
        created_at: int(r, "created_at"),
    }
}

pub async fn create(db: &Db, a: &AppCred) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_application_credential (id, name, user_id, project_id, secret_hash, \
         description, expires_at, unrestricted, roles, access_rules, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&a.id)
    .bind(&a.name)
    .bind(&a.user_id)
    .bind(&a.project_id)
    .bind(&a.secret_hash)
    .bind(&a.description)
    .bind(a.expires_at)
    .bind(flag(a.unrestricted))
    .bind(a.roles.to_string())
    .bind(a.access_rules.to_string())
    .bind(a.created_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<AppCred>> {
    let row = sqlx::query("SELECT * FROM identity_application_credential WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_by_name(db: &Db, user_id: &str, name: &str) -> sqlx::Result<Option<AppCred>> {
    let sql = format!(
        "SELECT * FROM identity_application_credential WHERE user_id=$1 AND {}",
        super::name_is("name", 2)
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(name)
        .fetch_all(db.read())
        .await?;
    Ok(super::pick_named(
        rows.iter().map(from_row).collect(),
        name,
        |a| &a.name,
    ))
}

pub async fn list_for_user(db: &Db, user_id: &str) -> sqlx::Result<Vec<AppCred>> {
    let rows =
        sqlx::query("SELECT * FROM identity_application_credential WHERE user_id=$1 ORDER BY name")
            .bind(user_id)
            .fetch_all(db.read())
            .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_application_credential WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
