//! Server groups and their members.

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow, Any, Transaction};

use super::{int, opt_int, text, Db};

#[derive(Clone, Debug, Default)]
pub struct ServerGroup {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub user_id: String,
    pub policy: String,
    /// The `max_server_per_host` rule (2.64, anti-affinity only).
    pub max_server_per_host: Option<i64>,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> ServerGroup {
    ServerGroup {
        id: text(r, "id"),
        name: text(r, "name"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        policy: text(r, "policy"),
        max_server_per_host: opt_int(r, "max_server_per_host"),
        created_at: int(r, "created_at"),
    }
}

pub async fn create(db: &Db, g: &ServerGroup) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_server_group \
         (id, name, project_id, user_id, policy, created_at, max_server_per_host) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&g.id)
    .bind(&g.name)
    .bind(&g.project_id)
    .bind(&g.user_id)
    .bind(&g.policy)
    .bind(g.created_at)
    .bind(g.max_server_per_host)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<ServerGroup>> {
    let row = sqlx::query("SELECT * FROM compute_server_group WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Groups of one project or (None) of all, oldest first.
pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<ServerGroup>> {
    let rows =
        match project_id {
            Some(p) => sqlx::query(
                "SELECT * FROM compute_server_group WHERE project_id=$1 ORDER BY created_at, id",
            )
            .bind(p)
            .fetch_all(db.read())
            .await?,
            None => {
                sqlx::query("SELECT * FROM compute_server_group ORDER BY created_at, id")
                    .fetch_all(db.read())
                    .await?
            }
        };
    Ok(rows.iter().map(from_row).collect())
}

pub async fn count(db: &Db, project_id: &str) -> sqlx::Result<i64> {
    Ok(list(db, Some(project_id)).await?.len() as i64)
}

/// Delete a group and its memberships.
pub async fn delete(db: &Db, id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM compute_server_group_member WHERE group_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM compute_server_group WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Member instance ids, in the order they joined.
pub async fn members(db: &Db, group_id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT instance_id FROM compute_server_group_member WHERE group_id=$1 \
         ORDER BY created_at, instance_id",
    )
    .bind(group_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| text(r, "instance_id")).collect())
}

/// The group an instance belongs to, if any.
pub async fn group_of(db: &Db, instance_id: &str) -> sqlx::Result<Option<ServerGroup>> {
    let row = sqlx::query(
        "SELECT g.* FROM compute_server_group g JOIN compute_server_group_member m \
         ON m.group_id = g.id WHERE m.instance_id=$1",
    )
    .bind(instance_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn add_member(
    tx: &mut Transaction<'_, Any>,
    group_id: &str,
    instance_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_server_group_member (group_id, instance_id, created_at) \
         VALUES ($1, $2, $3)",
    )
    .bind(group_id)
    .bind(instance_id)
    .bind(now_micros())
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Drop an instance from every group (when it is deleted).
pub async fn remove_instance(db: &Db, instance_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM compute_server_group_member WHERE instance_id=$1")
        .bind(instance_id)
        .execute(db.write())
        .await
        .map(|_| ())
}
