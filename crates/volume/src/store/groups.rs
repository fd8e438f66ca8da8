//! Group types, groups and group snapshots (3.11 / 3.13 / 3.14).

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db, Table};

#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub availability_zone: String,
    pub group_type_id: String,
    pub volume_type_ids: Vec<String>,
    pub group_snapshot_id: Option<String>,
    pub source_group_id: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, project_id, user_id, name, description, status, availability_zone, \
    group_type_id, volume_type_ids, group_snapshot_id, source_group_id, created_at, updated_at";

fn from_row(r: &AnyRow) -> Group {
    let ids = opt_text(r, "volume_type_ids")
        .and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok())
        .unwrap_or_default();
    Group {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        name: opt_text(r, "name"),
        description: opt_text(r, "description"),
        status: text(r, "status"),
        availability_zone: text(r, "availability_zone"),
        group_type_id: text(r, "group_type_id"),
        volume_type_ids: ids,
        group_snapshot_id: opt_text(r, "group_snapshot_id"),
        source_group_id: opt_text(r, "source_group_id"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

const TABLE: Table<Group> = Table {
    name: "volume_groups",
    cols: COLS,
    from_row,
};

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Group>> {
    TABLE.get(db, id).await
}

pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Group>> {
    TABLE.rows_where(db, "project_id", project_id).await
}

pub async fn insert(db: &Db, g: &Group) -> sqlx::Result<()> {
    let ids = serde_json::to_string(&g.volume_type_ids).unwrap_or_else(|_| "[]".into());
    sqlx::query(&format!(
        "INSERT INTO volume_groups ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
    ))
    .bind(&g.id)
    .bind(&g.project_id)
    .bind(&g.user_id)
    .bind(&g.name)
    .bind(&g.description)
    .bind(&g.status)
    .bind(&g.availability_zone)
    .bind(&g.group_type_id)
    .bind(ids)
    .bind(&g.group_snapshot_id)
    .bind(&g.source_group_id)
    .bind(g.created_at)
    .bind(g.updated_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update(db: &Db, g: &Group, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_groups SET name=$2, description=$3, status=$4, updated_at=$5 WHERE id=$1",
    )
    .bind(&g.id)
    .bind(&g.name)
    .bind(&g.description)
    .bind(&g.status)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_groups WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}

#[derive(Clone, Debug)]
pub struct GroupType {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub group_specs: Map<String, Value>,
}

fn type_from_row(r: &AnyRow) -> GroupType {
    GroupType {
        id: text(r, "id"),
        name: text(r, "name"),
        description: opt_text(r, "description"),
        is_public: int(r, "is_public") != 0,
        group_specs: object(r, "group_specs"),
    }
}

const TYPE_COLS: &str = "id, name, description, is_public, group_specs";

pub async fn types(db: &Db) -> sqlx::Result<Vec<GroupType>> {
    let rows = sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM volume_group_types ORDER BY name"
    ))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(type_from_row).collect())
}

pub async fn get_type(db: &Db, key: &str) -> sqlx::Result<Option<GroupType>> {
    let row = sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM volume_group_types WHERE id=$1 OR name=$1"
    ))
    .bind(key)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(type_from_row))
}

pub async fn insert_type(db: &Db, t: &GroupType, now: i64) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_group_types ({TYPE_COLS}, created_at) VALUES ($1,$2,$3,$4,$5,$6)"
    ))
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.is_public as i64)
    .bind(to_json(&t.group_specs))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update_type(db: &Db, t: &GroupType, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_group_types SET name=$2, description=$3, is_public=$4, group_specs=$5, \
         updated_at=$6 WHERE id=$1",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(t.is_public as i64)
    .bind(to_json(&t.group_specs))
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn delete_type(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_group_types WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}

#[derive(Clone, Debug)]
pub struct GroupSnapshot {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub group_id: String,
    pub group_type_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub created_at: i64,
}

const SNAP_COLS: &str =
    "id, project_id, user_id, group_id, group_type_id, name, description, status, created_at";

fn snap_from_row(r: &AnyRow) -> GroupSnapshot {
    GroupSnapshot {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        group_id: text(r, "group_id"),
        group_type_id: text(r, "group_type_id"),
        name: opt_text(r, "name"),
        description: opt_text(r, "description"),
        status: text(r, "status"),
        created_at: int(r, "created_at"),
    }
}

pub async fn insert_snapshot(
    conn: &mut sqlx::AnyConnection,
    s: &GroupSnapshot,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_group_snapshots ({SNAP_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
    ))
    .bind(&s.id)
    .bind(&s.project_id)
    .bind(&s.user_id)
    .bind(&s.group_id)
    .bind(&s.group_type_id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.status)
    .bind(s.created_at)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

pub async fn get_snapshot(db: &Db, id: &str) -> sqlx::Result<Option<GroupSnapshot>> {
    let row = sqlx::query(&format!(
        "SELECT {SNAP_COLS} FROM volume_group_snapshots WHERE id=$1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(snap_from_row))
}

pub async fn list_snapshots(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<GroupSnapshot>> {
    let rows = match project_id {
        Some(p) => {
            sqlx::query(&format!(
                "SELECT {SNAP_COLS} FROM volume_group_snapshots WHERE project_id=$1"
            ))
            .bind(p)
            .fetch_all(db.read())
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {SNAP_COLS} FROM volume_group_snapshots"))
                .fetch_all(db.read())
                .await?
        }
    };
    Ok(rows.iter().map(snap_from_row).collect())
}

/// The group snapshots of a group.
pub async fn snapshots_of(db: &Db, group_id: &str) -> sqlx::Result<Vec<GroupSnapshot>> {
    let rows = sqlx::query(&format!(
        "SELECT {SNAP_COLS} FROM volume_group_snapshots WHERE group_id=$1"
    ))
    .bind(group_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(snap_from_row).collect())
}

pub async fn set_snapshot_status(db: &Db, id: &str, status: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_group_snapshots SET status=$2 WHERE id=$1")
        .bind(id)
        .bind(status)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn delete_snapshot(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_group_snapshots WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}
