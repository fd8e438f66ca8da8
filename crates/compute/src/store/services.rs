//! Compute services (`os-services`): the nova-compute, nova-scheduler and
//! nova-conductor rows of each host, with their enabled state and heartbeat.

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_text, text, Db};

/// The binaries each host runs, in the order they are listed.
pub const BINARIES: [&str; 3] = ["nova-scheduler", "nova-conductor", "nova-compute"];

#[derive(Clone, Debug, Default)]
pub struct Service {
    pub id: i64,
    pub host: String,
    pub binary: String,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &AnyRow) -> Service {
    Service {
        id: int(r, "id"),
        host: text(r, "host"),
        binary: text(r, "binary_name"),
        disabled: int(r, "disabled") != 0,
        disabled_reason: opt_text(r, "disabled_reason"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

/// Make sure `host` has its three service rows (ids are small integers, as
/// upstream's), and mark them alive.
pub async fn register(db: &Db, host: &str) -> sqlx::Result<()> {
    for binary in BINARIES {
        // Two processes may race for the next id: retry on a lost race.
        for _ in 0..5 {
            if get(db, host, binary).await?.is_some() {
                break;
            }
            let now = now_micros();
            sqlx::query(
                "INSERT INTO compute_service (id, host, binary_name, disabled, created_at, updated_at) \
                 SELECT COALESCE(MAX(id), 0) + 1, $1, $2, 0, $3, $3 FROM compute_service \
                 WHERE true ON CONFLICT DO NOTHING",
            )
            .bind(host)
            .bind(binary)
            .bind(now)
            .execute(db.write())
            .await?;
        }
    }
    heartbeat(db, host).await
}

/// Record that `host`'s services are alive now.
pub async fn heartbeat(db: &Db, host: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_service SET updated_at=$2 WHERE host=$1")
        .bind(host)
        .bind(now_micros())
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn get(db: &Db, host: &str, binary: &str) -> sqlx::Result<Option<Service>> {
    let row = sqlx::query("SELECT * FROM compute_service WHERE host=$1 AND binary_name=$2")
        .bind(host)
        .bind(binary)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn get_by_id(db: &Db, id: i64) -> sqlx::Result<Option<Service>> {
    let row = sqlx::query("SELECT * FROM compute_service WHERE id=$1")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Every service, by id.
pub async fn list(db: &Db) -> sqlx::Result<Vec<Service>> {
    let rows = sqlx::query("SELECT * FROM compute_service ORDER BY id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn set_disabled(
    db: &Db,
    id: i64,
    disabled: bool,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_service SET disabled=$2, disabled_reason=$3 WHERE id=$1")
        .bind(id)
        .bind(i64::from(disabled))
        .bind(reason)
        .execute(db.write())
        .await
        .map(|_| ())
}

pub async fn delete(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM compute_service WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}
