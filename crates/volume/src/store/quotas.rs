//! Per-project quota limits (rows only for overridden values) and usage.

use std::collections::BTreeMap;

use ferro_store::sqlx::{self};

use super::{int, text, Db};

/// Upstream Cinder's defaults; `-1` is unlimited.
pub const DEFAULTS: &[(&str, i64)] = &[
    ("volumes", 10),
    ("snapshots", 10),
    ("gigabytes", 1000),
    ("backups", 10),
    ("backup_gigabytes", 1000),
    ("groups", 10),
    ("per_volume_gigabytes", -1),
];

pub fn default_of(resource: &str) -> Option<i64> {
    DEFAULTS
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, v)| *v)
}

/// Where a quota class's values are kept (beside projects' rows).
pub fn class_key(name: &str) -> String {
    format!("__class__:{name}")
}

/// The defaults every project starts from: upstream's, overlaid with the
/// `default` quota class.
pub async fn defaults(conn: &mut sqlx::AnyConnection) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, i64> = DEFAULTS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    overlay(conn, &class_key("default"), &mut out).await?;
    Ok(out)
}

pub async fn defaults_db(db: &Db) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut conn = db.read().acquire().await?;
    defaults(&mut conn).await
}

/// A quota class's values over upstream's defaults.
pub async fn class_db(db: &Db, name: &str) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut conn = db.read().acquire().await?;
    let mut out: BTreeMap<String, i64> = DEFAULTS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    overlay(&mut conn, &class_key(name), &mut out).await?;
    Ok(out)
}

/// The effective limits of a project (defaults overlaid with its rows).
pub async fn limits(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut out = defaults(conn).await?;
    overlay(conn, project_id, &mut out).await?;
    Ok(out)
}

async fn overlay(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    out: &mut BTreeMap<String, i64>,
) -> sqlx::Result<()> {
    let rows = sqlx::query("SELECT resource, hard_limit FROM volume_quotas WHERE project_id=$1")
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
    for r in rows {
        out.insert(text(&r, "resource"), int(&r, "hard_limit"));
    }
    Ok(())
}

pub async fn limits_db(db: &Db, project_id: &str) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut conn = db.read().acquire().await?;
    limits(&mut conn, project_id).await
}

pub async fn set(db: &Db, project_id: &str, values: &[(String, i64)]) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for (resource, limit) in values {
        sqlx::query("DELETE FROM volume_quotas WHERE project_id=$1 AND resource=$2")
            .bind(project_id)
            .bind(resource)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO volume_quotas (project_id, resource, hard_limit) VALUES ($1,$2,$3)",
        )
        .bind(project_id)
        .bind(resource)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn reset(db: &Db, project_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_quotas WHERE project_id=$1")
        .bind(project_id)
        .execute(db.write())
        .await
        .map(|_| ())
}

/// Current usage: (volumes, snapshots, gigabytes incl. snapshots).
pub async fn usage(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
) -> sqlx::Result<(i64, i64, i64)> {
    let (vols, vol_gb) = super::volumes::usage(conn, project_id).await?;
    let (snaps, snap_gb) = super::snapshots::usage(conn, project_id).await?;
    Ok((vols, snaps, vol_gb + snap_gb))
}

pub async fn usage_db(db: &Db, project_id: &str) -> sqlx::Result<(i64, i64, i64)> {
    let mut conn = db.read().acquire().await?;
    usage(&mut conn, project_id).await
}
