use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, name_is, object, opt_text, pick_named, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    /// The parent project; for a top-level project, its domain's id (as upstream).
    pub parent_id: Option<String>,
    pub description: String,
    pub enabled: bool,
    pub extra: Object,
    pub options: Object,
    pub tags: Vec<String>,
}

fn from_row(r: &AnyRow) -> Project {
    Project {
        id: text(r, "id"),
        name: text(r, "name"),
        domain_id: text(r, "domain_id"),
        parent_id: opt_text(r, "parent_id"),
        description: text(r, "description"),
        enabled: boolean(r, "enabled"),
        extra: object(r, "extra"),
        options: object(r, "options"),
        tags: Vec::new(),
    }
}

pub async fn create(db: &Db, p: &Project, now: i64) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query(
        "INSERT INTO identity_project (id, name, domain_id, parent_id, description, enabled, \
         extra, options, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.domain_id)
    .bind(&p.parent_id)
    .bind(&p.description)
    .bind(flag(p.enabled))
    .bind(to_json(&p.extra))
    .bind(to_json(&p.options))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for tag in &p.tags {
        sqlx::query("INSERT INTO identity_project_tag (project_id, name) VALUES ($1, $2)")
            .bind(&p.id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

pub async fn update(db: &Db, p: &Project) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query(
        "UPDATE identity_project SET name=$2, description=$3, enabled=$4, extra=$5, options=$6 \
         WHERE id=$1",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(flag(p.enabled))
    .bind(to_json(&p.extra))
    .bind(to_json(&p.options))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM identity_project_tag WHERE project_id=$1")
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    for tag in &p.tags {
        sqlx::query("INSERT INTO identity_project_tag (project_id, name) VALUES ($1, $2)")
            .bind(&p.id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

async fn with_tags(db: &Db, mut projects: Vec<Project>) -> sqlx::Result<Vec<Project>> {
    if projects.is_empty() {
        return Ok(projects);
    }
    let rows = sqlx::query("SELECT project_id, name FROM identity_project_tag ORDER BY name")
        .fetch_all(db.read())
        .await?;
    let mut by_project: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in &rows {
        by_project
            .entry(text(r, "project_id"))
            .or_default()
            .push(text(r, "name"));
    }
    for p in &mut projects {
        p.tags = by_project.remove(&p.id).unwrap_or_default();
    }
    Ok(projects)
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Project>> {
    let row = sqlx::query("SELECT * FROM identity_project WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    let Some(mut p) = row.as_ref().map(from_row) else {
        return Ok(None);
    };
    let tags =
        sqlx::query("SELECT name FROM identity_project_tag WHERE project_id=$1 ORDER BY name")
            .bind(id)
            .fetch_all(db.read())
            .await?;
    p.tags = tags.iter().map(|r| text(r, "name")).collect();
    Ok(Some(p))
}

pub async fn get_by_name(db: &Db, domain_id: &str, name: &str) -> sqlx::Result<Option<Project>> {
    let sql = format!(
        "SELECT id, name FROM identity_project WHERE domain_id=$1 AND {}",
        name_is("name", 2)
    );
    let rows = sqlx::query(&sql)
        .bind(domain_id)
        .bind(name)
        .fetch_all(db.read())
        .await?;
    let found: Vec<(String, String)> = rows
        .iter()
        .map(|r| (text(r, "id"), text(r, "name")))
        .collect();
    match pick_named(found, name, |(_, n)| n) {
        Some((id, _)) => get(db, &id).await,
        None => Ok(None),
    }
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Project>> {
    let rows = sqlx::query("SELECT * FROM identity_project ORDER BY name")
        .fetch_all(db.read())
        .await?;
    with_tags(db, rows.iter().map(from_row).collect()).await
}

/// Projects, narrowed in SQL to an exact `name` and/or `domain_id` when
/// given.
pub async fn list_where(
    db: &Db,
    name: Option<&str>,
    domain_id: Option<&str>,
) -> sqlx::Result<Vec<Project>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_project WHERE ($1 IS NULL OR LOWER(name) = LOWER($1)) \
         AND ($2 IS NULL OR domain_id = $2) ORDER BY name",
    )
    .bind(name)
    .bind(domain_id)
    .fetch_all(db.read())
    .await?;
    with_tags(db, rows.iter().map(from_row).collect()).await
}

/// The projects of `all` whose ids are in `ids`, in `all`'s order.
pub fn select<'a>(all: &'a [Project], ids: &[String]) -> Vec<&'a Project> {
    let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    all.iter()
        .filter(|p| wanted.contains(p.id.as_str()))
        .collect()
}

/// A project and its ancestors, nearest first, as `(id, domain_id)`; empty
/// if there is no such project.
pub async fn ancestry(db: &Db, id: &str) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "WITH RECURSIVE chain (id, parent_id, domain_id, depth) AS ( \
           SELECT id, parent_id, domain_id, 0 FROM identity_project WHERE id=$1 \
           UNION ALL \
           SELECT p.id, p.parent_id, p.domain_id, c.depth + 1 \
           FROM identity_project p JOIN chain c ON p.id = c.parent_id WHERE c.depth < 64) \
         SELECT id, domain_id FROM chain ORDER BY depth",
    )
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "id"), text(r, "domain_id")))
        .collect())
}

/// Every project as `(id, parent_id, domain_id)`, for walking the tree.
pub async fn tree(db: &Db) -> sqlx::Result<Vec<(String, Option<String>, String)>> {
    let rows = sqlx::query("SELECT id, parent_id, domain_id FROM identity_project")
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                text(r, "id"),
                opt_text(r, "parent_id"),
                text(r, "domain_id"),
            )
        })
        .collect())
}

pub async fn has_children(db: &Db, id: &str) -> sqlx::Result<bool> {
    let row = sqlx::query("SELECT id FROM identity_project WHERE parent_id=$1 LIMIT 1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.is_some())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_assignment WHERE target_type='project' AND target_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM identity_application_credential WHERE project_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM identity_project_tag WHERE project_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for sql in super::trusts::DELETE_FOR_PROJECT {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    let done = sqlx::query("DELETE FROM identity_project WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
