use std::collections::HashMap;

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, text, Db};

#[derive(Clone, Debug, Default)]
pub struct Attachment {
    pub id: String,
    pub instance_id: String,
    pub volume_id: String,
    pub device: String,
    pub attachment_id: String,
    pub delete_on_termination: bool,
    pub boot_index: Option<i64>,
    /// The device tag given at attach (2.49).
    pub tag: Option<String>,
}

fn from_row(r: &AnyRow) -> Attachment {
    Attachment {
        id: text(r, "id"),
        instance_id: text(r, "instance_id"),
        volume_id: text(r, "volume_id"),
        device: text(r, "device"),
        attachment_id: text(r, "attachment_id"),
        delete_on_termination: int(r, "delete_on_termination") != 0,
        boot_index: opt_int(r, "boot_index"),
        tag: super::opt_text(r, "tag"),
    }
}

pub async fn create(db: &Db, a: &Attachment) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_volume_attachment (id, instance_id, volume_id, device, attachment_id, \
         delete_on_termination, boot_index, created_at, tag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&a.id)
    .bind(&a.instance_id)
    .bind(&a.volume_id)
    .bind(&a.device)
    .bind(&a.attachment_id)
    .bind(i64::from(a.delete_on_termination))
    .bind(a.boot_index)
    .bind(now_micros())
    .bind(&a.tag)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn of_instance(db: &Db, instance_id: &str) -> sqlx::Result<Vec<Attachment>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_volume_attachment WHERE instance_id=$1 ORDER BY created_at, device",
    )
    .bind(instance_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The attachments of one volume (several when multiattach).
pub async fn of_volume(db: &Db, volume_id: &str) -> sqlx::Result<Vec<Attachment>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_volume_attachment WHERE volume_id=$1 ORDER BY created_at",
    )
    .bind(volume_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Volume ids attached to each of `instance_ids` (oldest first); one query.
pub async fn volumes_of_instances(
    db: &Db,
    instance_ids: &[String],
) -> sqlx::Result<HashMap<String, Vec<(String, bool)>>> {
    let mut out: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    if instance_ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=instance_ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT instance_id, volume_id, delete_on_termination FROM compute_volume_attachment \
         WHERE instance_id IN ({}) ORDER BY created_at, device",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in instance_ids {
        query = query.bind(id);
    }
    for row in query.fetch_all(db.read()).await? {
        out.entry(text(&row, "instance_id")).or_default().push((
            text(&row, "volume_id"),
            int(&row, "delete_on_termination") != 0,
        ));
    }
    Ok(out)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM compute_volume_attachment WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}

/// Change whether the volume goes with the server (2.85).
pub async fn set_delete_on_termination(db: &Db, id: &str, on: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_volume_attachment SET delete_on_termination=$2 WHERE id=$1")
        .bind(id)
        .bind(i64::from(on))
        .execute(db.write())
        .await
        .map(|_| ())
}
