//! Server tags (microversion 2.26): `compute_instance_tag`.

use std::collections::HashMap;

use ferro_store::sqlx::{self, Any, Transaction};

use super::{text, Db};

/// Add `tags` to a new instance inside its create transaction.
pub async fn insert_all(
    tx: &mut Transaction<'_, Any>,
    instance_id: &str,
    tags: &[String],
) -> sqlx::Result<()> {
    for t in tags {
        sqlx::query(
            "INSERT INTO compute_instance_tag (instance_id, tag) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(instance_id)
        .bind(t)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The tags of one instance, sorted.
pub async fn of_instance(db: &Db, instance_id: &str) -> sqlx::Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT tag FROM compute_instance_tag WHERE instance_id=$1 ORDER BY tag")
            .bind(instance_id)
            .fetch_all(db.read())
            .await?;
    Ok(rows.iter().map(|r| text(r, "tag")).collect())
}

/// The tags of many instances (one query), sorted per instance.
pub async fn of_instances(
    db: &Db,
    instance_ids: &[String],
) -> sqlx::Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if instance_ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=instance_ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT instance_id, tag FROM compute_instance_tag WHERE instance_id IN ({}) \
         ORDER BY instance_id, tag",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in instance_ids {
        query = query.bind(id);
    }
    for row in query.fetch_all(db.read()).await? {
        out.entry(text(&row, "instance_id"))
            .or_default()
            .push(text(&row, "tag"));
    }
    Ok(out)
}

/// Replace all tags of an instance (an empty list removes them all).
pub async fn replace(db: &Db, instance_id: &str, tags: &[String]) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM compute_instance_tag WHERE instance_id=$1")
        .bind(instance_id)
        .execute(&mut *tx)
        .await?;
    insert_all(&mut tx, instance_id, tags).await?;
    tx.commit().await
}

/// Add one tag (no-op when present).
pub async fn add(db: &Db, instance_id: &str, tag: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    insert_all(&mut tx, instance_id, &[tag.to_owned()]).await?;
    tx.commit().await
}

/// Remove one tag; false when it was not there.
pub async fn remove(db: &Db, instance_id: &str, tag: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM compute_instance_tag WHERE instance_id=$1 AND tag=$2")
        .bind(instance_id)
        .bind(tag)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The device tags of a server's interfaces, by port id.
pub async fn interface_tags(db: &Db, instance_id: &str) -> sqlx::Result<HashMap<String, String>> {
    let rows = sqlx::query("SELECT port_id, tag FROM compute_interface_tag WHERE instance_id=$1")
        .bind(instance_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "port_id"), text(r, "tag")))
        .collect())
}

/// Record the device tag of one interface.
pub async fn set_interface_tag(
    db: &Db,
    instance_id: &str,
    port_id: &str,
    tag: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_interface_tag (instance_id, port_id, tag) VALUES ($1, $2, $3) \
         ON CONFLICT (instance_id, port_id) DO UPDATE SET tag = excluded.tag",
    )
    .bind(instance_id)
    .bind(port_id)
    .bind(tag)
    .execute(db.write())
    .await
    .map(|_| ())
}
