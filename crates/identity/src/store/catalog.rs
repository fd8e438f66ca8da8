//! Regions, services and endpoints.

use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, object, opt_text, text, to_json, Db};
use crate::validate::Object;

#[derive(Clone, Debug)]
pub struct Region {
    pub id: String,
    pub description: String,
    pub parent_region_id: Option<String>,
    pub extra: Object,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub id: String,
    pub kind: String,
    pub enabled: bool,
    /// `name`, `description` and any other attributes.
    pub extra: Object,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: String,
    pub service_id: String,
    pub interface: String,
    pub region_id: Option<String>,
    pub url: String,
    pub enabled: bool,
    pub extra: Object,
}

fn region_row(r: &AnyRow) -> Region {
    Region {
        id: text(r, "id"),
        description: text(r, "description"),
        parent_region_id: opt_text(r, "parent_region_id"),
        extra: object(r, "extra"),
    }
}

fn service_row(r: &AnyRow) -> Service {
    Service {
        id: text(r, "id"),
        kind: text(r, "type"),
        enabled: boolean(r, "enabled"),
        extra: object(r, "extra"),
    }
}

fn endpoint_row(r: &AnyRow) -> Endpoint {
    Endpoint {
        id: text(r, "id"),
        service_id: text(r, "service_id"),
        interface: text(r, "interface"),
        region_id: opt_text(r, "region_id"),
        url: text(r, "url"),
        enabled: boolean(r, "enabled"),
        extra: object(r, "extra"),
    }
}

pub async fn create_region(db: &Db, r: &Region) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_region (id, description, parent_region_id, extra) VALUES ($1, $2, $3, $4)",
    )
    .bind(&r.id)
    .bind(&r.description)
    .bind(&r.parent_region_id)
    .bind(to_json(&r.extra))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update_region(db: &Db, r: &Region) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_region SET description=$2, parent_region_id=$3, extra=$4 WHERE id=$1",
    )
    .bind(&r.id)
    .bind(&r.description)
    .bind(&r.parent_region_id)
    .bind(to_json(&r.extra))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get_region(db: &Db, id: &str) -> sqlx::Result<Option<Region>> {
    let row = sqlx::query("SELECT * FROM identity_region WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(region_row))
}

pub async fn list_regions(db: &Db) -> sqlx::Result<Vec<Region>> {
    let rows = sqlx::query("SELECT * FROM identity_region ORDER BY id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(region_row).collect())
}

pub async fn delete_region(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_region WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn create_service(db: &Db, s: &Service) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO identity_service (id, type, enabled, extra) VALUES ($1, $2, $3, $4)")
        .bind(&s.id)
        .bind(&s.kind)
        .bind(flag(s.enabled))
        .bind(to_json(&s.extra))
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn update_service(db: &Db, s: &Service) -> sqlx::Result<()> {
    sqlx::query("UPDATE identity_service SET type=$2, enabled=$3, extra=$4 WHERE id=$1")
        .bind(&s.id)
        .bind(&s.kind)
        .bind(flag(s.enabled))
        .bind(to_json(&s.extra))
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get_service(db: &Db, id: &str) -> sqlx::Result<Option<Service>> {
    let row = sqlx::query("SELECT * FROM identity_service WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(service_row))
}

pub async fn list_services(db: &Db) -> sqlx::Result<Vec<Service>> {
    let rows = sqlx::query("SELECT * FROM identity_service ORDER BY type, id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(service_row).collect())
}

pub async fn delete_service(db: &Db, id: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_endpoint WHERE service_id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM identity_service WHERE id=$1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

pub async fn create_endpoint(db: &Db, e: &Endpoint) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO identity_endpoint (id, service_id, interface, region_id, url, enabled, extra) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.id)
    .bind(&e.service_id)
    .bind(&e.interface)
    .bind(&e.region_id)
    .bind(&e.url)
    .bind(flag(e.enabled))
    .bind(to_json(&e.extra))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update_endpoint(db: &Db, e: &Endpoint) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE identity_endpoint SET service_id=$2, interface=$3, region_id=$4, url=$5, \
         enabled=$6, extra=$7 WHERE id=$1",
    )
    .bind(&e.id)
    .bind(&e.service_id)
    .bind(&e.interface)
    .bind(&e.region_id)
    .bind(&e.url)
    .bind(flag(e.enabled))
    .bind(to_json(&e.extra))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get_endpoint(db: &Db, id: &str) -> sqlx::Result<Option<Endpoint>> {
    let row = sqlx::query("SELECT * FROM identity_endpoint WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(endpoint_row))
}

pub async fn list_endpoints(db: &Db) -> sqlx::Result<Vec<Endpoint>> {
    let rows = sqlx::query("SELECT * FROM identity_endpoint ORDER BY service_id, interface, id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(endpoint_row).collect())
}

pub async fn delete_endpoint(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM identity_endpoint WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
