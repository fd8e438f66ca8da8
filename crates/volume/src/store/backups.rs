//! Backup rows. A backup's data is the qcow2 file `backup-<data_id>.qcow2`;
//! an imported record (`import_record`) points at the same `data_id` as the
//! backup it was exported from, so the file goes only with its last row.

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db, Table};

#[derive(Clone, Debug)]
pub struct Backup {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub volume_id: String,
    pub snapshot_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub container: Option<String>,
    pub availability_zone: Option<String>,
    pub size: i64,
    pub status: String,
    pub fail_reason: Option<String>,
    pub is_incremental: bool,
    /// The backup an incremental one was taken on top of.
    pub parent_id: Option<String>,
    /// Names the data file (shared by imported records).
    pub data_id: String,
    /// User metadata (3.43).
    pub metadata: Map<String, Value>,
    /// What the source volume carried when it was backed up (its metadata,
    /// bootable flag, image metadata): given back on restore.
    pub volume_meta: Map<String, Value>,
    /// When the data was read (the snapshot's time for a snapshot backup).
    pub data_timestamp: Option<i64>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, project_id, user_id, volume_id, snapshot_id, name, description, \
    container, availability_zone, size, status, fail_reason, is_incremental, parent_id, \
    data_id, metadata, volume_meta, data_timestamp, created_at, updated_at";

fn from_row(r: &AnyRow) -> Backup {
    Backup {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        volume_id: text(r, "volume_id"),
        snapshot_id: opt_text(r, "snapshot_id"),
        name: opt_text(r, "name"),
        description: opt_text(r, "description"),
        container: opt_text(r, "container"),
        availability_zone: opt_text(r, "availability_zone"),
        size: int(r, "size"),
        status: text(r, "status"),
        fail_reason: opt_text(r, "fail_reason"),
        is_incremental: int(r, "is_incremental") != 0,
        parent_id: opt_text(r, "parent_id"),
        data_id: text(r, "data_id"),
        metadata: object(r, "metadata"),
        volume_meta: object(r, "volume_meta"),
        data_timestamp: opt_int(r, "data_timestamp"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn insert(conn: &mut sqlx::AnyConnection, b: &Backup) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_backups ({COLS}) VALUES \
         ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)"
    ))
    .bind(&b.id)
    .bind(&b.project_id)
    .bind(&b.user_id)
    .bind(&b.volume_id)
    .bind(&b.snapshot_id)
    .bind(&b.name)
    .bind(&b.description)
    .bind(&b.container)
    .bind(&b.availability_zone)
    .bind(b.size)
    .bind(&b.status)
    .bind(&b.fail_reason)
    .bind(b.is_incremental as i64)
    .bind(&b.parent_id)
    .bind(&b.data_id)
    .bind(to_json(&b.metadata))
    .bind(to_json(&b.volume_meta))
    .bind(b.data_timestamp)
    .bind(b.created_at)
    .bind(b.updated_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

const TABLE: Table<Backup> = Table {
    name: "volume_backups",
    cols: COLS,
    from_row,
};

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Backup>> {
    TABLE.get(db, id).await
}

pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Backup>> {
    TABLE.rows_where(db, "project_id", project_id).await
}

pub async fn of_volume(db: &Db, volume_id: &str) -> sqlx::Result<Vec<Backup>> {
    TABLE.rows_where(db, "volume_id", Some(volume_id)).await
}

/// How many backups were taken on top of `id`.
pub async fn dependents(db: &Db, id: &str) -> sqlx::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM volume_backups WHERE parent_id=$1")
        .bind(id)
        .fetch_one(db.read())
        .await?;
    Ok(int(&row, "n"))
}

/// Rows that use a data file.
pub async fn data_users(conn: &mut sqlx::AnyConnection, data_id: &str) -> sqlx::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM volume_backups WHERE data_id=$1")
        .bind(data_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(int(&row, "n"))
}

/// Every data id some row uses (orphan files are the others).
pub async fn data_ids(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT DISTINCT data_id FROM volume_backups")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "data_id")).collect())
}

pub async fn ids_with_status(db: &Db, status: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM volume_backups WHERE status=$1")
        .bind(status)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

pub async fn update_fields(db: &Db, b: &Backup, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_backups SET name=$2, description=$3, metadata=$4, updated_at=$5 \
         WHERE id=$1",
    )
    .bind(&b.id)
    .bind(&b.name)
    .bind(&b.description)
    .bind(to_json(&b.metadata))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Move `id` to `to` if its status is one of `from`; true when it moved.
pub async fn transition(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    from: &[&str],
    to: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let done = sqlx::query(&format!(
        "UPDATE volume_backups SET status=$2, updated_at=$3 WHERE id=$1 AND status IN ({list})"
    ))
    .bind(id)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_status(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: &str,
    fail_reason: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE volume_backups SET status=$2, fail_reason=$3, updated_at=$4 WHERE id=$1",
    )
    .bind(id)
    .bind(status)
    .bind(fail_reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM volume_backups WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// (count, gigabytes) of a project's backups.
pub async fn usage(conn: &mut sqlx::AnyConnection, project_id: &str) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS gb \
         FROM volume_backups WHERE project_id=$1",
    )
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((int(&row, "n"), int(&row, "gb")))
}

pub async fn usage_db(db: &Db, project_id: &str) -> sqlx::Result<(i64, i64)> {
    let mut conn = db.read().acquire().await?;
    usage(&mut conn, project_id).await
}
