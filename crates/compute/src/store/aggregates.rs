//! Host aggregates: a name, metadata (the availability zone is the
//! `availability_zone` key) and member hosts.

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, opt_int, text, Db};

#[derive(Clone, Debug, Default)]
pub struct Aggregate {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub metadata: Map<String, Value>,
    pub hosts: Vec<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl Aggregate {
    pub fn availability_zone(&self) -> Option<&str> {
        self.metadata
            .get("availability_zone")
            .and_then(Value::as_str)
    }
}

fn from_row(r: &AnyRow) -> Aggregate {
    Aggregate {
        id: int(r, "id"),
        uuid: text(r, "uuid"),
        name: text(r, "name"),
        metadata: serde_json::from_str(&text(r, "metadata")).unwrap_or_default(),
        hosts: serde_json::from_str(&text(r, "hosts")).unwrap_or_default(),
        created_at: int(r, "created_at"),
        updated_at: opt_int(r, "updated_at"),
    }
}

/// Insert with the next integer id; the stored row.
pub async fn create(db: &Db, name: &str, metadata: &Map<String, Value>) -> sqlx::Result<Aggregate> {
    let uuid = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO compute_aggregate (id, uuid, name, metadata, hosts, created_at) \
         SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, '[]', $4 FROM compute_aggregate",
    )
    .bind(&uuid)
    .bind(name)
    .bind(Value::Object(metadata.clone()).to_string())
    .bind(now_micros())
    .execute(db.write())
    .await?;
    let row = sqlx::query("SELECT * FROM compute_aggregate WHERE uuid=$1")
        .bind(&uuid)
        .fetch_one(db.read())
        .await?;
    Ok(from_row(&row))
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Aggregate>> {
    let row = sqlx::query("SELECT * FROM compute_aggregate WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Aggregate>> {
    let rows = sqlx::query("SELECT * FROM compute_aggregate ORDER BY id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Write back name, metadata and hosts (and `updated_at`).
pub async fn save(db: &Db, a: &Aggregate) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE compute_aggregate SET name=$2, metadata=$3, hosts=$4, updated_at=$5 WHERE id=$1",
    )
    .bind(a.id)
    .bind(&a.name)
    .bind(Value::Object(a.metadata.clone()).to_string())
    .bind(serde_json::json!(a.hosts).to_string())
    .bind(a.updated_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn delete(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM compute_aggregate WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}
