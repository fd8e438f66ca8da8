use ferro_store::sqlx::{self, any::AnyRow};

use super::{object, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: String,
    pub extra: Object,
}

fn from_row(r: &AnyRow) -> Group {
    Group {
        id: text(r, "id"),
        name: text(r, "name"),
        domain_id: text(r, "domain_id"),
        description: text(r, "description"),
        extra: object(r, "extra"),
    }
}

pub async fn create(db: &Db, g: &Group, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_group (id, name, domain_id, description, extra, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&g.id)
    .bind(&g.name)
    .bind(&g.domain_id)
    .bind(&g.description)
    .bind(to_json(&g.extra))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, g: &Group) -> sqlx::Result<()> {
    sqlx::query("UPDATE identity_group SET name=$2, description=$3, extra=$4 WHERE id=$1")
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.description)
        .bind(to_json(&g.extra))
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Group>> {
    let row = sqlx::query("SELECT * FROM identity_group WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_by_name(db: &Db, domain_id: &str, name: &str) -> sqlx::Result<Option<Group>> {
    let sql = format!(
        "SELECT * FROM identity_group WHERE domain_id=$1 AND {}",
        super::name_is("name", 2)
    );
    let rows = sqlx::query(&sql)
        .bind(domain_id)
        .bind(name)
        .fetch_all(db.read())
        .await?;
    Ok(super::pick_named(
        rows.iter().map(from_row).collect(),
        name,
        |x| &x.name,
    ))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Group>> {
    let rows = sqlx::query("SELECT * FROM identity_group ORDER BY name")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn list_for_user(db: &Db, user_id: &str) -> sqlx::Result<Vec<Group>> {
    let rows = sqlx::query(
        "SELECT g.* FROM identity_group g JOIN identity_group_member m ON m.group_id = g.id \
         WHERE m.user_id=$1 ORDER BY g.name",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn group_ids_for_user(db: &Db, user_id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT group_id FROM identity_group_member WHERE user_id=$1")
        .bind(user_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "group_id")).collect())
}

pub async fn is_member(db: &Db, group_id: &str, user_id: &str) -> sqlx::Result<bool> {
    let row =
        sqlx::query("SELECT 1 AS one FROM identity_group_member WHERE group_id=$1 AND user_id=$2")
            .bind(group_id)
            .bind(user_id)
            .fetch_optional(db.read())
            .await?;
    Ok(row.is_some())
}

pub async fn add_member(db: &Db, group_id: &str, user_id: &str) -> sqlx::Result<()> {
    if is_member(db, group_id, user_id).await? {
        return Ok(());
    }
    sqlx::query("INSERT INTO identity_group_member (group_id, user_id) VALUES ($1, $2)")
        .bind(group_id)
        .bind(user_id)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn remove_member(db: &Db, group_id: &str, user_id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_group_member WHERE group_id=$1 AND user_id=$2")
        .bind(group_id)
        .bind(user_id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_assignment WHERE actor_type='group' AND actor_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM identity_group_member WHERE group_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM identity_group WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
