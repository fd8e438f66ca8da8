//! The volume service's tables. SQL uses `$n` placeholders and only TEXT and
//! BIGINT columns, so it runs unchanged on SQLite and PostgreSQL.

pub mod attachments;
pub mod backups;
pub mod encryption;
pub mod groups;
pub mod messages;
pub mod qos;
pub mod quotas;
pub mod services;
pub mod snapshots;
pub mod tasks;
pub mod transfers;
pub mod types;
pub mod volumes;

use ferro_store::sqlx::{self, any::AnyRow, Row};
use serde_json::{Map, Value};

pub use ferro_store::Db;

/// The id of the `__DEFAULT__` volume type seeded by the first migration.
pub const DEFAULT_TYPE_ID: &str = "2f2a7c1e-5b0d-4c53-9a63-0d8e1f6a7b01";

pub const SCHEMA: &str = r#"
CREATE TABLE volume_volumes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    size BIGINT NOT NULL,
    status TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    volume_type_id TEXT NOT NULL,
    snapshot_id TEXT,
    source_volid TEXT,
    image_id TEXT,
    bootable BIGINT NOT NULL DEFAULT 0,
    readonly BIGINT NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    image_metadata TEXT,
    error_message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX volume_volumes_project ON volume_volumes (project_id);
CREATE TABLE volume_attachments (
    id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    server_id TEXT,
    host_name TEXT,
    device TEXT,
    attach_status TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'rw',
    attached_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX volume_attachments_volume ON volume_attachments (volume_id);
CREATE TABLE volume_snapshots (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    size BIGINT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    error_message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX volume_snapshots_volume ON volume_snapshots (volume_id);
CREATE TABLE volume_types (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    is_public BIGINT NOT NULL,
    extra_specs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE volume_type_access (
    volume_type_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    PRIMARY KEY (volume_type_id, project_id)
);
CREATE TABLE volume_quotas (
    project_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    hard_limit BIGINT NOT NULL,
    PRIMARY KEY (project_id, resource)
);
CREATE TABLE volume_tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    claimed_at BIGINT,
    created_at BIGINT NOT NULL
);
INSERT INTO volume_types (id, name, description, is_public, extra_specs, created_at)
VALUES ('2f2a7c1e-5b0d-4c53-9a63-0d8e1f6a7b01', '__DEFAULT__', 'Default Volume Type', 1, '{}', 0);
"#;

/// Microversions 3.11-3.71: multiattach volumes, generic groups, transfers,
/// per-project default types, attachment connectors.
pub const SCHEMA_5001: &str = r#"
ALTER TABLE volume_volumes ADD COLUMN multiattach BIGINT NOT NULL DEFAULT 0;
ALTER TABLE volume_volumes ADD COLUMN group_id TEXT;
ALTER TABLE volume_attachments ADD COLUMN connector TEXT;
ALTER TABLE volume_snapshots ADD COLUMN group_snapshot_id TEXT;
ALTER TABLE volume_snapshots ADD COLUMN progress TEXT;
ALTER TABLE volume_attachments ADD COLUMN project_id TEXT;
CREATE TABLE volume_transfers (
    id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    name TEXT,
    salt TEXT NOT NULL,
    crypt_hash TEXT NOT NULL,
    source_project_id TEXT NOT NULL,
    destination_project_id TEXT,
    accepted BIGINT NOT NULL DEFAULT 0,
    no_snapshots BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX volume_transfers_volume ON volume_transfers (volume_id);
CREATE TABLE volume_service_state (
    host TEXT NOT NULL,
    binary_name TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    frozen BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT,
    PRIMARY KEY (host, binary_name)
);
CREATE TABLE volume_encryption (
    volume_type_id TEXT PRIMARY KEY,
    encryption_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    cipher TEXT,
    key_size BIGINT,
    control_location TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE volume_qos_specs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    consumer TEXT NOT NULL,
    specs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE TABLE volume_qos_associations (
    volume_type_id TEXT PRIMARY KEY,
    qos_id TEXT NOT NULL
);
CREATE TABLE volume_messages (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_uuid TEXT,
    event_id TEXT NOT NULL,
    message_level TEXT NOT NULL,
    user_message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE volume_default_types (
    project_id TEXT PRIMARY KEY,
    volume_type_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE volume_group_types (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    is_public BIGINT NOT NULL,
    group_specs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE volume_groups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    status TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    group_type_id TEXT NOT NULL,
    volume_type_ids TEXT NOT NULL DEFAULT '[]',
    group_snapshot_id TEXT,
    source_group_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE volume_group_snapshots (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    group_type_id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
"#;

/// Backups (cinder-backup's data as qcow2 copies).
pub const SCHEMA_5002: &str = r#"
CREATE TABLE volume_backups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    snapshot_id TEXT,
    name TEXT,
    description TEXT,
    container TEXT,
    availability_zone TEXT,
    size BIGINT NOT NULL,
    status TEXT NOT NULL,
    fail_reason TEXT,
    is_incremental BIGINT NOT NULL DEFAULT 0,
    parent_id TEXT,
    data_id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    volume_meta TEXT NOT NULL DEFAULT '{}',
    data_timestamp BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX volume_backups_project ON volume_backups (project_id);
CREATE INDEX volume_backups_volume ON volume_backups (volume_id);
"#;

/// One table's reads: `SELECT cols FROM name`, narrowed by one column,
/// each row made a `T` by `from_row`.
pub struct Table<T> {
    pub name: &'static str,
    pub cols: &'static str,
    pub from_row: fn(&AnyRow) -> T,
}

impl<T> Table<T> {
    /// The row with this `id`.
    pub async fn get(&self, db: &Db, id: &str) -> sqlx::Result<Option<T>> {
        let sql = format!("SELECT {} FROM {} WHERE id=$1", self.cols, self.name);
        let row = sqlx::query(&sql).bind(id).fetch_optional(db.read()).await?;
        Ok(row.as_ref().map(self.from_row))
    }

    /// The rows whose `column` is `value`; all of them when `value` is none.
    pub async fn rows_where(
        &self,
        db: &Db,
        column: &str,
        value: Option<&str>,
    ) -> sqlx::Result<Vec<T>> {
        let sql = format!("SELECT {} FROM {}", self.cols, self.name);
        let rows = match value {
            Some(v) => {
                sqlx::query(&format!("{sql} WHERE {column}=$1"))
                    .bind(v)
                    .fetch_all(db.read())
                    .await?
            }
            None => sqlx::query(&sql).fetch_all(db.read()).await?,
        };
        Ok(rows.iter().map(self.from_row).collect())
    }
}

pub fn text(r: &AnyRow, col: &str) -> String {
    r.try_get::<Option<String>, _>(col)
        .ok()
        .flatten()
        .unwrap_or_default()
}

pub fn opt_text(r: &AnyRow, col: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(col).ok().flatten()
}

pub fn int(r: &AnyRow, col: &str) -> i64 {
    r.try_get::<Option<i64>, _>(col).ok().flatten().unwrap_or(0)
}

pub fn opt_int(r: &AnyRow, col: &str) -> Option<i64> {
    r.try_get::<Option<i64>, _>(col).ok().flatten()
}

/// A JSON object stored in a TEXT column (`{}` when unreadable).
pub fn object(r: &AnyRow, col: &str) -> Map<String, Value> {
    opt_text(r, col)
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

pub fn to_json(m: &Map<String, Value>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// Serialise writers touching one project's quota on PostgreSQL (SQLite
/// already has a single writer connection).
pub async fn lock_project(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
) -> sqlx::Result<()> {
    if db.kind() == ferro_store::DbKind::Postgres {
        let key = project_id
            .bytes()
            .fold(5000i64, |h, b| h.wrapping_mul(31).wrapping_add(b as i64));
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
