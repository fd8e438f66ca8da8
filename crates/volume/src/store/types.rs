//! Volume types, their extra specs and project access.

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db};

#[derive(Clone, Debug)]
pub struct VolumeType {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub extra_specs: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, name, description, is_public, extra_specs, created_at, updated_at";

fn from_row(r: &AnyRow) -> VolumeType {
    VolumeType {
        id: text(r, "id"),
        name: text(r, "name"),
        description: opt_text(r, "description"),
        is_public: int(r, "is_public") != 0,
        extra_specs: object(r, "extra_specs"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn insert(db: &Db, t: &VolumeType) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_types ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7)"
    ))
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.is_public as i64)
    .bind(to_json(&t.extra_specs))
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, t: &VolumeType, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_types SET name=$2, description=$3, is_public=$4, extra_specs=$5, \
         updated_at=$6 WHERE id=$1",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.is_public as i64)
    .bind(to_json(&t.extra_specs))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<VolumeType>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM volume_types WHERE id=$1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn by_name(db: &Db, name: &str) -> sqlx::Result<Option<VolumeType>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM volume_types WHERE name=$1"))
        .bind(name)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<VolumeType>> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM volume_types ORDER BY name"))
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM volume_type_access WHERE volume_type_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM volume_types WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn access_list(db: &Db, type_id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT project_id FROM volume_type_access WHERE volume_type_id=$1 ORDER BY project_id",
    )
    .bind(type_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| text(r, "project_id")).collect())
}

/// Type ids a project was given access to.
pub async fn accessible(db: &Db, project_id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT volume_type_id FROM volume_type_access WHERE project_id=$1")
        .bind(project_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "volume_type_id")).collect())
}

pub async fn add_access(db: &Db, type_id: &str, project_id: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO volume_type_access (volume_type_id, project_id) VALUES ($1, $2)")
        .bind(type_id)
        .bind(project_id)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn remove_access(db: &Db, type_id: &str, project_id: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM volume_type_access WHERE volume_type_id=$1 AND project_id=$2")
            .bind(type_id)
            .bind(project_id)
            .execute(db.write())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A project's own default type (3.62), if set.
pub async fn project_default(db: &Db, project_id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT volume_type_id FROM volume_default_types WHERE project_id=$1")
        .bind(project_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| text(&r, "volume_type_id")))
}

/// Every (project, type) default.
pub async fn all_defaults(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT project_id, volume_type_id FROM volume_default_types ORDER BY project_id",
    )
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "project_id"), text(r, "volume_type_id")))
        .collect())
}

pub async fn set_default(db: &Db, project_id: &str, type_id: &str, now: i64) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM volume_default_types WHERE project_id=$1")
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO volume_default_types (project_id, volume_type_id, created_at) \
         VALUES ($1, $2, $3)",
    )
    .bind(project_id)
    .bind(type_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn unset_default(db: &Db, project_id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM volume_default_types WHERE project_id=$1")
        .bind(project_id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
