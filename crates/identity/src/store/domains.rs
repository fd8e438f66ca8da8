use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, name_is, object, pick_named, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub extra: Object,
    pub options: Object,
}

fn from_row(r: &AnyRow) -> Domain {
    Domain {
        id: text(r, "id"),
        name: text(r, "name"),
        description: text(r, "description"),
        enabled: boolean(r, "enabled"),
        extra: object(r, "extra"),
        options: object(r, "options"),
    }
}

pub async fn create(db: &Db, d: &Domain, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_domain (id, name, description, enabled, extra, options, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(&d.description)
    .bind(flag(d.enabled))
    .bind(to_json(&d.extra))
    .bind(to_json(&d.options))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, d: &Domain) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_domain SET name=$2, description=$3, enabled=$4, extra=$5, options=$6 \
         WHERE id=$1",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(&d.description)
    .bind(flag(d.enabled))
    .bind(to_json(&d.extra))
    .bind(to_json(&d.options))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Domain>> {
    let row = sqlx::query("SELECT * FROM identity_domain WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_by_name(db: &Db, name: &str) -> sqlx::Result<Option<Domain>> {
    let sql = format!("SELECT * FROM identity_domain WHERE {}", name_is("name", 1));
    let rows = sqlx::query(&sql).bind(name).fetch_all(db.read()).await?;
    Ok(pick_named(rows.iter().map(from_row).collect(), name, |d| {
        &d.name
    }))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Domain>> {
    let rows = sqlx::query("SELECT * FROM identity_domain ORDER BY name")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Delete a domain and everything that lives in it, in one transaction.
pub async fn delete_cascade(db: &Db, id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    let scoped = [
        super::trusts::DELETE_FOR_DOMAIN[0],
        super::trusts::DELETE_FOR_DOMAIN[1],
        "DELETE FROM identity_assignment WHERE target_type='project' AND target_id IN \
           (SELECT id FROM identity_project WHERE domain_id=$1)",
        "DELETE FROM identity_assignment WHERE actor_type='user' AND actor_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_assignment WHERE actor_type='group' AND actor_id IN \
           (SELECT id FROM identity_group WHERE domain_id=$1)",
        "DELETE FROM identity_assignment WHERE target_type='domain' AND target_id=$1",
        "DELETE FROM identity_project_tag WHERE project_id IN \
           (SELECT id FROM identity_project WHERE domain_id=$1)",
        "DELETE FROM identity_group_member WHERE group_id IN \
           (SELECT id FROM identity_group WHERE domain_id=$1)",
        "DELETE FROM identity_group_member WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_application_credential WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_access_rule WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_credential WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_password_history WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_failed_auth WHERE user_id IN \
           (SELECT id FROM identity_user WHERE domain_id=$1)",
        "DELETE FROM identity_domain_config WHERE domain_id=$1",
        "DELETE FROM identity_project WHERE domain_id=$1",
        "DELETE FROM identity_user WHERE domain_id=$1",
        "DELETE FROM identity_group WHERE domain_id=$1",
        "DELETE FROM identity_role WHERE domain_id=$1",
        "DELETE FROM identity_domain WHERE id=$1",
    ];
    for sql in scoped {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await
}
