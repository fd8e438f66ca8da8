//! Quota limits that differ from the defaults: per project, per user of a
//! project (`user_id` not empty) and per quota class.

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, text, Db};

fn pair(r: &AnyRow) -> (String, i64) {
    (text(r, "resource"), int(r, "hard_limit"))
}

/// The limits set for a project (`user_id` ""), or for one of its users.
pub async fn limits(db: &Db, project_id: &str, user_id: &str) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT resource, hard_limit FROM compute_quota WHERE project_id=$1 AND user_id=$2",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(pair).collect())
}

pub async fn set_limits(
    db: &Db,
    project_id: &str,
    user_id: &str,
    limits: &[(String, i64)],
) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for (resource, limit) in limits {
        sqlx::query(
            "INSERT INTO compute_quota (project_id, user_id, resource, hard_limit) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, user_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(resource)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Forget a user's limits, or (user None) the project's and all its users'.
pub async fn delete_limits(db: &Db, project_id: &str, user_id: Option<&str>) -> sqlx::Result<()> {
    let q = match user_id {
        Some(u) => sqlx::query("DELETE FROM compute_quota WHERE project_id=$1 AND user_id=$2")
            .bind(project_id)
            .bind(u),
        None => sqlx::query("DELETE FROM compute_quota WHERE project_id=$1").bind(project_id),
    };
    q.execute(db.write()).await.map(|_| ())
}

pub async fn class_limits(db: &Db, class_name: &str) -> sqlx::Result<Vec<(String, i64)>> {
    let rows =
        sqlx::query("SELECT resource, hard_limit FROM compute_quota_class WHERE class_name=$1")
            .bind(class_name)
            .fetch_all(db.read())
            .await?;
    Ok(rows.iter().map(pair).collect())
}

pub async fn set_class_limits(
    db: &Db,
    class_name: &str,
    limits: &[(String, i64)],
) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for (resource, limit) in limits {
        sqlx::query(
            "INSERT INTO compute_quota_class (class_name, resource, hard_limit) VALUES ($1, $2, $3) \
             ON CONFLICT (class_name, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
        )
        .bind(class_name)
        .bind(resource)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
