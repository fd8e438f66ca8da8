//! QoS specs and their associations with volume types.

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, object, text, to_json, Db};

#[derive(Clone, Debug)]
pub struct QosSpec {
    pub id: String,
    pub name: String,
    pub consumer: String,
    pub specs: Map<String, Value>,
    pub created_at: i64,
}

const COLS: &str = "id, name, consumer, specs, created_at";

fn from_row(r: &AnyRow) -> QosSpec {
    QosSpec {
        id: text(r, "id"),
        name: text(r, "name"),
        consumer: text(r, "consumer"),
        specs: object(r, "specs"),
        created_at: int(r, "created_at"),
    }
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<QosSpec>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_qos_specs ORDER BY name"
    ))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<QosSpec>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM volume_qos_specs WHERE id=$1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn by_name(db: &Db, name: &str) -> sqlx::Result<Option<QosSpec>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM volume_qos_specs WHERE name=$1"
    ))
    .bind(name)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn insert(db: &Db, q: &QosSpec) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO volume_qos_specs ({COLS}) VALUES ($1,$2,$3,$4,$5)"
    ))
    .bind(&q.id)
    .bind(&q.name)
    .bind(&q.consumer)
    .bind(to_json(&q.specs))
    .bind(q.created_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn set_specs(db: &Db, id: &str, specs: &Map<String, Value>) -> sqlx::Result<()> {
    sqlx::query("UPDATE volume_qos_specs SET specs=$2 WHERE id=$1")
        .bind(id)
        .bind(to_json(specs))
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM volume_qos_associations WHERE qos_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM volume_qos_specs WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The type ids associated with a spec.
pub async fn associations(db: &Db, qos_id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT volume_type_id FROM volume_qos_associations WHERE qos_id=$1 \
         ORDER BY volume_type_id",
    )
    .bind(qos_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| text(r, "volume_type_id")).collect())
}

/// The spec a type is associated with.
pub async fn of_type(db: &Db, type_id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT qos_id FROM volume_qos_associations WHERE volume_type_id=$1")
        .bind(type_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| text(&r, "qos_id")))
}

pub async fn associate(db: &Db, qos_id: &str, type_id: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO volume_qos_associations (volume_type_id, qos_id) VALUES ($1, $2)")
        .bind(type_id)
        .bind(qos_id)
        .execute(db.write())
        .await
        .map(|_| ())
}

/// Remove one type's association, or all of a spec's (`type_id` None).
pub async fn disassociate(db: &Db, qos_id: &str, type_id: Option<&str>) -> sqlx::Result<()> {
    let q = match type_id {
        Some(t) => {
            sqlx::query("DELETE FROM volume_qos_associations WHERE qos_id=$1 AND volume_type_id=$2")
                .bind(qos_id)
                .bind(t)
        }
        None => sqlx::query("DELETE FROM volume_qos_associations WHERE qos_id=$1").bind(qos_id),
    };
    q.execute(db.write()).await.map(|_| ())
}
