use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::{Map, Value};

use super::{int, opt_text, text, Db};

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Flavor {
    pub id: String,
    pub name: String,
    pub ram: i64,
    pub vcpus: i64,
    pub disk: i64,
    pub ephemeral: i64,
    pub swap: i64,
    pub rxtx_factor: f64,
    pub is_public: bool,
    pub disabled: bool,
    pub description: Option<String>,
    pub extra_specs: Map<String, Value>,
}

fn from_row(r: &AnyRow) -> Flavor {
    Flavor {
        id: text(r, "id"),
        name: text(r, "name"),
        ram: int(r, "ram"),
        vcpus: int(r, "vcpus"),
        disk: int(r, "disk"),
        ephemeral: int(r, "ephemeral"),
        swap: int(r, "swap"),
        rxtx_factor: text(r, "rxtx_factor").parse().unwrap_or(1.0),
        is_public: int(r, "is_public") != 0,
        disabled: int(r, "disabled") != 0,
        description: opt_text(r, "description"),
        extra_specs: serde_json::from_str(&text(r, "extra_specs")).unwrap_or_default(),
    }
}

/// The DevStack flavor set: (id, name, ram MiB, disk GiB, vcpus).
const DEFAULTS: &[(&str, &str, i64, i64, i64)] = &[
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
];

/// Create the default flavors on an empty table.
pub async fn seed_defaults(db: &Db) -> sqlx::Result<()> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM compute_flavor")
        .fetch_one(db.read())
        .await?;
    if int(&row, "n") > 0 {
        return Ok(());
    }
    for (id, name, ram, disk, vcpus) in DEFAULTS {
        let f = Flavor {
            id: (*id).into(),
            name: (*name).into(),
            ram: *ram,
            vcpus: *vcpus,
            disk: *disk,
            ephemeral: 0,
            swap: 0,
            rxtx_factor: 1.0,
            is_public: true,
            disabled: false,
            description: None,
            extra_specs: Map::new(),
        };
        match create(db, &f).await {
            Err(e) if ferro_store::is_unique_violation(&e) => {}
            other => other?,
        }
    }
    Ok(())
}

pub async fn create(db: &Db, f: &Flavor) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_flavor (id, name, ram, vcpus, disk, ephemeral, swap, rxtx_factor, \
         is_public, disabled, description, extra_specs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&f.id)
    .bind(&f.name)
    .bind(f.ram)
    .bind(f.vcpus)
    .bind(f.disk)
    .bind(f.ephemeral)
    .bind(f.swap)
    .bind(f.rxtx_factor.to_string())
    .bind(i64::from(f.is_public))
    .bind(i64::from(f.disabled))
    .bind(&f.description)
    .bind(Value::Object(f.extra_specs.clone()).to_string())
    .bind(now_micros())
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn set_extra_specs(db: &Db, id: &str, specs: &Map<String, Value>) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_flavor SET extra_specs=$2 WHERE id=$1")
        .bind(id)
        .bind(Value::Object(specs.clone()).to_string())
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn set_description(db: &Db, id: &str, description: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_flavor SET description=$2 WHERE id=$1")
        .bind(id)
        .bind(description)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Flavor>> {
    let row = sqlx::query("SELECT * FROM compute_flavor WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Flavor>> {
    let rows = sqlx::query("SELECT * FROM compute_flavor")
        .fetch_all(db.read())
        .await?;
    let mut out: Vec<Flavor> = rows.iter().map(from_row).collect();
    // Nova orders by flavorid as the default sort key.
    out.sort_by(|a, b| match (a.id.parse::<i64>(), b.id.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.id.cmp(&b.id),
    });
    Ok(out)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM compute_flavor WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn access(db: &Db, id: &str) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT project_id FROM compute_flavor_access WHERE flavor_id=$1 ORDER BY project_id",
    )
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(|r| text(r, "project_id")).collect())
}

pub async fn add_access(db: &Db, id: &str, project: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO compute_flavor_access (flavor_id, project_id) VALUES ($1, $2)")
        .bind(id)
        .bind(project)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn remove_access(db: &Db, id: &str, project: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM compute_flavor_access WHERE flavor_id=$1 AND project_id=$2")
            .bind(id)
            .bind(project)
            .execute(db.write())
            .await?;
    Ok(done.rows_affected() > 0)
}
