use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, name_is, object, opt_int, opt_text, pick_named, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub default_project_id: Option<String>,
    pub password_hash: Option<String>,
    pub password_created_at: Option<i64>,
    /// When the current password expires (microseconds; `None`: never).
    pub password_expires_at: Option<i64>,
    /// The day (since the epoch, UTC) the user last authenticated.
    pub last_active_day: Option<i64>,
    /// When the user was created (microseconds; read-only).
    pub created_at: Option<i64>,
    pub description: Option<String>,
    pub extra: Object,
    pub options: Object,
}

fn from_row(r: &AnyRow) -> User {
    User {
        id: text(r, "id"),
        name: text(r, "name"),
        domain_id: text(r, "domain_id"),
        enabled: boolean(r, "enabled"),
        default_project_id: opt_text(r, "default_project_id"),
        password_hash: opt_text(r, "password_hash"),
        password_created_at: opt_int(r, "password_created_at"),
        password_expires_at: opt_int(r, "password_expires_at"),
        last_active_day: opt_int(r, "last_active_day"),
        created_at: opt_int(r, "created_at"),
        description: opt_text(r, "description"),
        extra: object(r, "extra"),
        options: object(r, "options"),
    }
}

pub async fn create(db: &Db, u: &User, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_user (id, name, domain_id, enabled, default_project_id, \
         password_hash, password_created_at, description, extra, options, created_at, \
         password_expires_at, last_active_day) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&u.id)
    .bind(&u.name)
    .bind(&u.domain_id)
    .bind(flag(u.enabled))
    .bind(&u.default_project_id)
    .bind(&u.password_hash)
    .bind(u.password_created_at)
    .bind(&u.description)
    .bind(to_json(&u.extra))
    .bind(to_json(&u.options))
    .bind(now)
    .bind(u.password_expires_at)
    .bind(u.last_active_day)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, u: &User) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_user SET name=$2, enabled=$3, default_project_id=$4, password_hash=$5, \
         password_created_at=$6, description=$7, extra=$8, options=$9, password_expires_at=$10, \
         last_active_day=$11 WHERE id=$1",
    )
    .bind(&u.id)
    .bind(&u.name)
    .bind(flag(u.enabled))
    .bind(&u.default_project_id)
    .bind(&u.password_hash)
    .bind(u.password_created_at)
    .bind(&u.description)
    .bind(to_json(&u.extra))
    .bind(to_json(&u.options))
    .bind(u.password_expires_at)
    .bind(u.last_active_day)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Record the day the user last authenticated.
pub async fn set_last_active_day(db: &Db, id: &str, day: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE identity_user SET last_active_day=$2 WHERE id=$1")
        .bind(id)
        .bind(day)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<User>> {
    let row = sqlx::query("SELECT * FROM identity_user WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_by_name(db: &Db, domain_id: &str, name: &str) -> sqlx::Result<Option<User>> {
    let sql = format!(
        "SELECT * FROM identity_user WHERE domain_id=$1 AND {}",
        name_is("name", 2)
    );
    let rows = sqlx::query(&sql)
        .bind(domain_id)
        .bind(name)
        .fetch_all(db.read())
        .await?;
    Ok(pick_named(rows.iter().map(from_row).collect(), name, |u| {
        &u.name
    }))
}

/// Users, narrowed in SQL to a `name` (any case: the caller filters with
/// `same_name`) and/or `domain_id` when given.
pub async fn list(db: &Db, name: Option<&str>, domain_id: Option<&str>) -> sqlx::Result<Vec<User>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_user WHERE ($1 IS NULL OR LOWER(name) = LOWER($1)) \
         AND ($2 IS NULL OR domain_id = $2) ORDER BY name",
    )
    .bind(name)
    .bind(domain_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn list_in_group(db: &Db, group_id: &str) -> sqlx::Result<Vec<User>> {
    let rows = sqlx::query(
        "SELECT u.* FROM identity_user u JOIN identity_group_member m ON m.user_id = u.id \
         WHERE m.group_id=$1 ORDER BY u.name",
    )
    .bind(group_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    for sql in [
        "DELETE FROM identity_assignment WHERE actor_type='user' AND actor_id=$1",
        "DELETE FROM identity_group_member WHERE user_id=$1",
        "DELETE FROM identity_application_credential WHERE user_id=$1",
        "DELETE FROM identity_credential WHERE user_id=$1",
        "DELETE FROM identity_access_rule WHERE user_id=$1",
        "DELETE FROM identity_password_history WHERE user_id=$1",
        "DELETE FROM identity_failed_auth WHERE user_id=$1",
        super::trusts::DELETE_FOR_USER[0],
        super::trusts::DELETE_FOR_USER[1],
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    let done = sqlx::query("DELETE FROM identity_user WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
