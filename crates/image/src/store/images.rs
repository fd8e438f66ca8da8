//! `image_image` and `image_tag`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, opt_text, text, Db};
use crate::model::Image;

const COLUMNS: &str = "id, name, status, visibility, owner, disk_format, container_format, \
    size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, protected, \
    os_hidden, properties, created_at, updated_at";

fn from_row(r: &AnyRow) -> Image {
    let properties = serde_json::from_str(&text(r, "properties")).unwrap_or_default();
    Image {
        id: text(r, "id"),
        name: opt_text(r, "name"),
        status: text(r, "status"),
        visibility: text(r, "visibility"),
        owner: opt_text(r, "owner"),
        disk_format: opt_text(r, "disk_format"),
        container_format: opt_text(r, "container_format"),
        size: opt_int(r, "size"),
        virtual_size: opt_int(r, "virtual_size"),
        checksum: opt_text(r, "checksum"),
        os_hash_algo: opt_text(r, "os_hash_algo"),
        os_hash_value: opt_text(r, "os_hash_value"),
        min_disk: int(r, "min_disk"),
        min_ram: int(r, "min_ram"),
        protected: int(r, "protected") != 0,
        os_hidden: int(r, "os_hidden") != 0,
        properties,
        tags: Vec::new(),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

fn props_json(img: &Image) -> String {
    serde_json::to_string(&img.properties).unwrap_or_else(|_| "{}".to_owned())
}

pub async fn insert(db: &Db, img: &Image) -> sqlx::Result<()> {
    let _mark = WriteMark;
    let mut tx = db.write().begin().await?;
    sqlx::query(&format!(
        "INSERT INTO image_image ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(&img.id)
    .bind(&img.name)
    .bind(&img.status)
    .bind(&img.visibility)
    .bind(&img.owner)
    .bind(&img.disk_format)
    .bind(&img.container_format)
    .bind(img.size)
    .bind(img.virtual_size)
    .bind(&img.checksum)
    .bind(&img.os_hash_algo)
    .bind(&img.os_hash_value)
    .bind(img.min_disk)
    .bind(img.min_ram)
    .bind(i64::from(img.protected))
    .bind(i64::from(img.os_hidden))
    .bind(props_json(img))
    .bind(img.created_at)
    .bind(img.updated_at)
    .execute(&mut *tx)
    .await?;
    insert_tags(&mut tx, &img.id, &img.tags).await?;
    tx.commit().await
}

async fn insert_tags(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    tags: &[String],
) -> sqlx::Result<()> {
    for tag in tags {
        sqlx::query("INSERT INTO image_tag (image_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Save the user-changeable attributes and the tags. Returns false when the
/// image no longer exists.
pub async fn update(db: &Db, img: &Image) -> sqlx::Result<bool> {
    let _mark = WriteMark;
    let mut tx = db.write().begin().await?;
    let done = sqlx::query(
        "UPDATE image_image SET name=$2, visibility=$3, owner=$4, disk_format=$5, \
         container_format=$6, min_disk=$7, min_ram=$8, protected=$9, os_hidden=$10, \
         properties=$11, updated_at=$12 WHERE id=$1",
    )
    .bind(&img.id)
    .bind(&img.name)
    .bind(&img.visibility)
    .bind(&img.owner)
    .bind(&img.disk_format)
    .bind(&img.container_format)
    .bind(img.min_disk)
    .bind(img.min_ram)
    .bind(i64::from(img.protected))
    .bind(i64::from(img.os_hidden))
    .bind(props_json(img))
    .bind(img.updated_at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM image_tag WHERE image_id=$1")
        .bind(&img.id)
        .execute(&mut *tx)
        .await?;
    insert_tags(&mut tx, &img.id, &img.tags).await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Image>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM image_image WHERE id=$1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut img = from_row(&row);
    let tags = sqlx::query("SELECT tag FROM image_tag WHERE image_id=$1 ORDER BY tag")
        .bind(id)
        .fetch_all(db.read())
        .await?;
    img.tags = tags.iter().map(|r| text(r, "tag")).collect();
    Ok(Some(img))
}

/// How many writes to `image_image`/`image_tag` this process has made; a
/// cached [`all`] answer is good while it is unchanged.
static WRITES: AtomicU64 = AtomicU64::new(0);

pub fn writes() -> u64 {
    WRITES.load(Ordering::Acquire)
}

/// Counts a write when dropped: when the write is done, failed, or was
/// abandoned half way.
struct WriteMark;

impl Drop for WriteMark {
    fn drop(&mut self) {
        WRITES.fetch_add(1, Ordering::AcqRel);
    }
}

/// Every image with its tags (listing filters and sorts in memory).
pub async fn all(db: &Db) -> sqlx::Result<Vec<Image>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM image_image"))
        .fetch_all(db.read())
        .await?;
    let mut images: Vec<Image> = rows.iter().map(from_row).collect();
    let tag_rows = sqlx::query("SELECT image_id, tag FROM image_tag ORDER BY tag")
        .fetch_all(db.read())
        .await?;
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for r in &tag_rows {
        tags.entry(text(r, "image_id"))
            .or_default()
            .push(text(r, "tag"));
    }
    for img in &mut images {
        img.tags = tags.remove(&img.id).unwrap_or_default();
    }
    Ok(images)
}

/// Move `id` from status `from` to `to`; false if it was not in `from`.
pub async fn transition(db: &Db, id: &str, from: &str, to: &str, now: i64) -> sqlx::Result<bool> {
    let _mark = WriteMark;
    let done =
        sqlx::query("UPDATE image_image SET status=$3, updated_at=$4 WHERE id=$1 AND status=$2")
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(now)
            .execute(db.write())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// What a completed upload records.
pub struct Uploaded {
    pub size: i64,
    pub checksum: String,
    pub os_hash_algo: String,
    pub os_hash_value: String,
}

/// `saving → active` with the data's size and hashes; false if the image
/// left `saving` (deleted) meanwhile.
pub async fn finish_upload(db: &Db, id: &str, up: &Uploaded, now: i64) -> sqlx::Result<bool> {
    let _mark = WriteMark;
    let done = sqlx::query(
        "UPDATE image_image SET status='active', size=$2, checksum=$3, os_hash_algo=$4, \
         os_hash_value=$5, updated_at=$6 WHERE id=$1 AND status='saving'",
    )
    .bind(id)
    .bind(up.size)
    .bind(&up.checksum)
    .bind(&up.os_hash_algo)
    .bind(&up.os_hash_value)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let _mark = WriteMark;
    let mut tx = db.write().begin().await?;
    for table in ["image_tag", "image_member"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE image_id=$1"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let done = sqlx::query("DELETE FROM image_image WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Uploads a crash interrupted: `saving` goes back to `queued` (what Glance
/// v2 does when an upload fails). Returns how many were reset.
pub async fn reset_interrupted(db: &Db, now: i64) -> sqlx::Result<u64> {
    let _mark = WriteMark;
    let done = sqlx::query(
        "UPDATE image_image SET status='queued', size=NULL, checksum=NULL, os_hash_algo=NULL, \
         os_hash_value=NULL, updated_at=$1 WHERE status='saving'",
    )
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected())
}

/// Ids of all images that claim to have data.
pub async fn ids_with_data(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM image_image WHERE status IN ('active', 'deactivated')")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

/// What a status change does to the data attributes.
pub enum DataChange<'a> {
    /// Leave size and hashes as they are.
    Keep,
    /// Staged data: a size, no hashes yet.
    Staged(i64),
    /// Data in the store: size and hashes.
    Stored(&'a Uploaded),
    /// No data (back to `queued`): size and hashes cleared.
    Clear,
}

/// Move `img` from status `from` to `to` saving its properties and the
/// data change; false if it was no longer in `from` (or was deleted).
pub async fn set_state(
    db: &Db,
    img: &Image,
    from: &str,
    to: &str,
    data: DataChange<'_>,
    now: i64,
) -> sqlx::Result<bool> {
    let _mark = WriteMark;
    let sql = match data {
        DataChange::Keep => {
            "UPDATE image_image SET status=$3, properties=$4, updated_at=$5 \
             WHERE id=$1 AND status=$2"
        }
        DataChange::Staged(_) => {
            "UPDATE image_image SET status=$3, properties=$4, updated_at=$5, size=$6 \
             WHERE id=$1 AND status=$2"
        }
        DataChange::Stored(_) => {
            "UPDATE image_image SET status=$3, properties=$4, updated_at=$5, size=$6, \
             checksum=$7, os_hash_algo=$8, os_hash_value=$9 WHERE id=$1 AND status=$2"
        }
        DataChange::Clear => {
            "UPDATE image_image SET status=$3, properties=$4, updated_at=$5, size=NULL, \
             virtual_size=NULL, checksum=NULL, os_hash_algo=NULL, os_hash_value=NULL \
             WHERE id=$1 AND status=$2"
        }
    };
    let mut q = sqlx::query(sql)
        .bind(&img.id)
        .bind(from)
        .bind(to)
        .bind(props_json(img))
        .bind(now);
    match data {
        DataChange::Keep | DataChange::Clear => {}
        DataChange::Staged(size) => q = q.bind(size),
        DataChange::Stored(up) => {
            q = q
                .bind(up.size)
                .bind(&up.checksum)
                .bind(&up.os_hash_algo)
                .bind(&up.os_hash_value)
        }
    }
    let done = q.execute(db.write()).await?;
    Ok(done.rows_affected() == 1)
}

/// Ids of the images in `status`.
pub async fn ids_in_status(db: &Db, status: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM image_image WHERE status=$1")
        .bind(status)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}

/// Ids of the images holding an import lock (`os_glance_import_task`).
pub async fn ids_locked(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM image_image WHERE properties LIKE $1")
        .bind("%\"os_glance_import_task\"%")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "id")).collect())
}
