//! Volume rows.

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, opt_int, opt_text, text, to_json, Db, Table};

#[derive(Clone, Debug)]
pub struct Volume {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub size: i64,
    pub status: String,
    pub availability_zone: String,
    pub volume_type_id: String,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    pub image_id: Option<String>,
    pub bootable: bool,
    pub readonly: bool,
    pub metadata: Map<String, Value>,
    pub image_metadata: Option<Map<String, Value>>,
    pub error_message: Option<String>,
    /// Several attachments allowed (a type with `multiattach="<is> True"`).
    pub multiattach: bool,
    /// The generic volume group (3.13) it belongs to.
    pub group_id: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, project_id, user_id, name, description, size, status, availability_zone, \
    volume_type_id, snapshot_id, source_volid, image_id, bootable, readonly, metadata, \
    image_metadata, error_message, created_at, updated_at, multiattach, group_id";

fn from_row(r: &AnyRow) -> Volume {
    Volume {
        id: text(r, "id"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        name: opt_text(r, "name"),
        description: opt_text(r, "description"),
        size: int(r, "size"),
        status: text(r, "status"),
        availability_zone: text(r, "availability_zone"),
        volume_type_id: text(r, "volume_type_id"),
        snapshot_id: opt_text(r, "snapshot_id"),
        source_volid: opt_text(r, "source_volid"),
        image_id: opt_text(r, "image_id"),
        bootable: int(r, "bootable") != 0,
        readonly: int(r, "readonly") != 0,
        metadata: object(r, "metadata"),
        image_metadata: opt_text(r, "image_metadata").map(|_| object(r, "image_metadata")),
        error_message: opt_text(r, "error_message"),
        multiattach: int(r, "multiattach") != 0,
        group_id: opt_text(r, "group_id"),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

pub async fn insert(conn: &mut sqlx::AnyConnection, v: &Volume) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_volumes ({COLS}) VALUES \
         ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)"
    ))
    .bind(&v.id)
    .bind(&v.project_id)
    .bind(&v.user_id)
    .bind(&v.name)
    .bind(&v.description)
    .bind(v.size)
    .bind(&v.status)
    .bind(&v.availability_zone)
    .bind(&v.volume_type_id)
    .bind(&v.snapshot_id)
    .bind(&v.source_volid)
    .bind(&v.image_id)
    .bind(v.bootable as i64)
    .bind(v.readonly as i64)
    .bind(to_json(&v.metadata))
    .bind(v.image_metadata.as_ref().map(to_json))
    .bind(&v.error_message)
    .bind(v.created_at)
    .bind(v.updated_at)
    .bind(v.multiattach as i64)
    .bind(&v.group_id)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Move a volume (transfer accept) to another owner.
pub async fn set_owner(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    project_id: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_volumes SET project_id=$2, user_id=$3, updated_at=$4 WHERE id=$1")
        .bind(id)
        .bind(project_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

const TABLE: Table<Volume> = Table {
    name: "volume_volumes",
    cols: COLS,
    from_row,
};

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Volume>> {
    TABLE.get(db, id).await
}

/// All volumes, or those of one project.
pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Volume>> {
    TABLE.rows_where(db, "project_id", project_id).await
}

/// Volumes in one of `statuses` (for recovery).
pub async fn ids_with_status(db: &Db, status: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM volume_volumes WHERE status = $1")
        .bind(status)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

/// Name, description, metadata, bootable, readonly (whole-row update of the
/// user-editable fields).
pub async fn update_fields(db: &Db, v: &Volume, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_volumes SET name=$2, description=$3, metadata=$4, bootable=$5, \
         readonly=$6, updated_at=$7 WHERE id=$1",
    )
    .bind(&v.id)
    .bind(&v.name)
    .bind(&v.description)
    .bind(to_json(&v.metadata))
    .bind(v.bootable as i64)
    .bind(v.readonly as i64)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// [`update_fields`] inside a transaction.
pub async fn update_fields_in(
    conn: &mut sqlx::AnyConnection,
    v: &Volume,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_volumes SET name=$2, description=$3, metadata=$4, bootable=$5, \
         readonly=$6, updated_at=$7 WHERE id=$1",
    )
    .bind(&v.id)
    .bind(&v.name)
    .bind(&v.description)
    .bind(to_json(&v.metadata))
    .bind(v.bootable as i64)
    .bind(v.readonly as i64)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// [`set_image_metadata`] inside a transaction.
pub async fn set_image_metadata_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    meta: &Map<String, Value>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_volumes SET image_metadata=$2, updated_at=$3 WHERE id=$1")
        .bind(id)
        .bind(to_json(meta))
        .bind(now)
        .execute(&mut *conn)
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
        "UPDATE volume_volumes SET status=$2, updated_at=$3 WHERE id=$1 AND status IN ({list})"
    ))
    .bind(id)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unconditional status change (admin reset, worker results).
pub async fn set_status(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE volume_volumes SET status=$2, error_message=$3, updated_at=$4 WHERE id=$1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_size(conn: &mut sqlx::AnyConnection, id: &str, size: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_volumes SET size=$2 WHERE id=$1")
        .bind(id)
        .bind(size)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

pub async fn delete(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM volume_attachments WHERE volume_id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM volume_volumes WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// (count, gigabytes) of a project's volumes, optionally of one type.
pub async fn usage(conn: &mut sqlx::AnyConnection, project_id: &str) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS gb FROM volume_volumes WHERE project_id=$1",
    )
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((int(&row, "n"), int(&row, "gb")))
}

/// How many volumes use a volume type.
pub async fn count_of_type(db: &Db, type_id: &str) -> sqlx::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM volume_volumes WHERE volume_type_id=$1")
        .bind(type_id)
        .fetch_one(db.read())
        .await?;
    Ok(int(&row, "n"))
}

/// Put a volume into a group (3.13) or take it out.
pub async fn set_group(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    group_id: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_volumes SET group_id=$2 WHERE id=$1")
        .bind(id)
        .bind(group_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Replace a volume's image metadata (the `os-*_image_metadata` actions).
pub async fn set_image_metadata(
    db: &Db,
    id: &str,
    meta: &Map<String, Value>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_volumes SET image_metadata=$2, updated_at=$3 WHERE id=$1")
        .bind(id)
        .bind(to_json(meta))
        .bind(now)
        .execute(db.write())
        .await
        .map(|_| ())
}

/// Retype: a new type (and the multiattach flag it implies).
pub async fn set_type(
    db: &Db,
    id: &str,
    type_id: &str,
    multiattach: bool,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE volume_volumes SET volume_type_id=$2, multiattach=$3, updated_at=$4 WHERE id=$1",
    )
    .bind(id)
    .bind(type_id)
    .bind(multiattach as i64)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}
