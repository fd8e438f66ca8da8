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
    /// 2.11: reported down whatever its heartbeat says.
    pub forced_down: bool,
    /// 2.53: the service's id from then on.
    pub uuid: String,
    /// 2.53: the id of the host's hypervisor (compute node), on its
    /// nova-compute row.
    pub node_uuid: String,
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
        forced_down: int(r, "forced_down") != 0,
        uuid: opt_text(r, "uuid").unwrap_or_default(),
        node_uuid: opt_text(r, "node_uuid").unwrap_or_default(),
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
    backfill_uuids(db).await?;
    heartbeat(db, host).await
}

/// Give every row without UUIDs its own (rows made before 2.53 support).
async fn backfill_uuids(db: &Db) -> sqlx::Result<()> {
    let rows =
        sqlx::query("SELECT id FROM compute_service WHERE uuid IS NULL OR node_uuid IS NULL")
            .fetch_all(db.read())
            .await?;
    for r in &rows {
        sqlx::query(
            "UPDATE compute_service SET uuid=COALESCE(uuid, $2), node_uuid=COALESCE(node_uuid, $3) \
             WHERE id=$1",
        )
        .bind(int(r, "id"))
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(uuid::Uuid::new_v4().to_string())
        .execute(db.write())
        .await?;
    }
    Ok(())
}

pub async fn get_by_uuid(db: &Db, uuid: &str) -> sqlx::Result<Option<Service>> {
    let row = sqlx::query("SELECT * FROM compute_service WHERE uuid=$1")
        .bind(uuid)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn set_forced_down(db: &Db, id: i64, forced_down: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_service SET forced_down=$2 WHERE id=$1")
        .bind(id)
        .bind(i64::from(forced_down))
        .execute(db.write())
        .await
        .map(|_| ())
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
