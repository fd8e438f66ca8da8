use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::Value;

use super::{int, json, opt_int, opt_text, text, Db};

/// A server, as stored.
#[derive(Clone, Debug, Default)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub user_id: String,
    pub image_id: String,
    pub flavor_id: String,
    /// The flavor as it was at boot (Nova embeds it too).
    pub flavor: Value,
    pub vm_state: String,
    pub task_state: Option<String>,
    pub power_state: i64,
    pub key_name: Option<String>,
    pub key_data: Option<String>,
    pub availability_zone: String,
    pub metadata: serde_json::Map<String, Value>,
    pub user_data: Option<String>,
    /// Security group names requested at boot.
    pub security_groups: Vec<String>,
    /// `"auto"`, `"none"` or a list of `{uuid|port|fixed_ip}` requests.
    pub requested_networks: Value,
    /// The `block_device_mapping_v2` entries requested at boot.
    pub block_devices: Value,
    pub access_ipv4: String,
    pub access_ipv6: String,
    pub disk_config: String,
    pub config_drive: String,
    pub locked: bool,
    pub locked_by: Option<String>,
    pub host: Option<String>,
    pub progress: i64,
    /// `{"code", "message", "details", "created"}` when in error.
    pub fault: Option<Value>,
    /// Before a resize is confirmed: `{"flavor", "vm_state"}` to revert to.
    pub old_flavor: Option<Value>,
    pub launched_at: Option<i64>,
    pub terminated_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// Free text (2.19); None when never set.
    pub description: Option<String>,
    /// The guest's host name (from the name at create, or set at 2.90+).
    pub hostname: String,
    /// The reservation of the create request that made it, and its index
    /// among the servers of that request.
    pub reservation_id: String,
    pub launch_index: i64,
    /// Why it was locked (2.73).
    pub locked_reason: Option<String>,
    /// Trusted image certificate ids (2.63).
    pub trusted_certs: Option<Vec<String>>,
    /// The availability zone the server is pinned to (asked at create).
    pub pinned_az: Option<String>,
    /// The scheduler hints of the create request.
    pub scheduler_hints: Value,
    /// The image's properties when it was booted or rebuilt (2.98).
    pub image_properties: Value,
    /// The snapshot a shelved server is kept as.
    pub shelved_image_id: Option<String>,
}

fn from_row(r: &AnyRow) -> Instance {
    Instance {
        id: text(r, "id"),
        name: text(r, "name"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        image_id: text(r, "image_id"),
        flavor_id: text(r, "flavor_id"),
        flavor: json(r, "flavor"),
        vm_state: text(r, "vm_state"),
        task_state: opt_text(r, "task_state"),
        power_state: int(r, "power_state"),
        key_name: opt_text(r, "key_name"),
        key_data: opt_text(r, "key_data"),
        availability_zone: text(r, "availability_zone"),
        metadata: json(r, "metadata").as_object().cloned().unwrap_or_default(),
        user_data: opt_text(r, "user_data"),
        security_groups: serde_json::from_value(json(r, "security_groups")).unwrap_or_default(),
        requested_networks: json(r, "requested_networks"),
        block_devices: json(r, "block_devices"),
        access_ipv4: text(r, "access_ipv4"),
        access_ipv6: text(r, "access_ipv6"),
        disk_config: text(r, "disk_config"),
        config_drive: text(r, "config_drive"),
        locked: int(r, "locked") != 0,
        locked_by: opt_text(r, "locked_by"),
        host: opt_text(r, "host"),
        progress: int(r, "progress"),
        fault: opt_text(r, "fault").and_then(|s| serde_json::from_str(&s).ok()),
        old_flavor: opt_text(r, "old_flavor").and_then(|s| serde_json::from_str(&s).ok()),
        launched_at: opt_int(r, "launched_at"),
        terminated_at: opt_int(r, "terminated_at"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
        deleted_at: opt_int(r, "deleted_at"),
        description: opt_text(r, "description"),
        hostname: text(r, "hostname"),
        reservation_id: text(r, "reservation_id"),
        launch_index: int(r, "launch_index"),
        locked_reason: opt_text(r, "locked_reason"),
        trusted_certs: opt_text(r, "trusted_certs").and_then(|s| serde_json::from_str(&s).ok()),
        pinned_az: opt_text(r, "pinned_az"),
        scheduler_hints: object(json(r, "scheduler_hints")),
        image_properties: object(json(r, "image_properties")),
        shelved_image_id: opt_text(r, "shelved_image_id"),
    }
}

/// `{}` for anything that is not an object (rows older than the column).
fn object(v: Value) -> Value {
    if v.is_object() {
        v
    } else {
        Value::Object(serde_json::Map::new())
    }
}

fn certs_text(i: &Instance) -> Option<String> {
    i.trusted_certs
        .as_ref()
        .map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".into()))
}

/// Insert instances together with their build tasks (and their membership
/// of a server group), atomically.
pub async fn create_with_tasks(
    db: &Db,
    list: &[Instance],
    tags: &[String],
    group: Option<&str>,
) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for i in list {
        sqlx::query(
            "INSERT INTO compute_instance (id, name, project_id, user_id, image_id, flavor_id, flavor, \
             vm_state, task_state, power_state, key_name, key_data, availability_zone, metadata, \
             user_data, security_groups, requested_networks, block_devices, access_ipv4, access_ipv6, \
             disk_config, config_drive, created_at, updated_at, description, hostname, reservation_id, \
             launch_index, trusted_certs, pinned_az, scheduler_hints, image_properties) VALUES ($1, $2, \
             $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
             $23, $23, $24, $25, $26, $27, $28, $29, $30, $31)",
        )
        .bind(&i.id)
        .bind(&i.name)
        .bind(&i.project_id)
        .bind(&i.user_id)
        .bind(&i.image_id)
        .bind(&i.flavor_id)
        .bind(i.flavor.to_string())
        .bind(&i.vm_state)
        .bind(&i.task_state)
        .bind(i.power_state)
        .bind(&i.key_name)
        .bind(&i.key_data)
        .bind(&i.availability_zone)
        .bind(Value::Object(i.metadata.clone()).to_string())
        .bind(&i.user_data)
        .bind(serde_json::to_string(&i.security_groups).unwrap_or_else(|_| "[]".into()))
        .bind(i.requested_networks.to_string())
        .bind(i.block_devices.to_string())
        .bind(&i.access_ipv4)
        .bind(&i.access_ipv6)
        .bind(&i.disk_config)
        .bind(&i.config_drive)
        .bind(i.created_at)
        .bind(&i.description)
        .bind(&i.hostname)
        .bind(&i.reservation_id)
        .bind(i.launch_index)
        .bind(certs_text(i))
        .bind(&i.pinned_az)
        .bind(i.scheduler_hints.to_string())
        .bind(i.image_properties.to_string())
        .execute(&mut *tx)
        .await?;
        super::tags::insert_all(&mut tx, &i.id, tags).await?;
        super::tasks::insert(&mut tx, &i.id, "build", &Value::Null).await?;
        if let Some(g) = group {
            super::server_groups::add_member(&mut tx, g, &i.id).await?;
        }
    }
    tx.commit().await
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<Instance>> {
    let row = sqlx::query("SELECT * FROM compute_instance WHERE id=$1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Live instances, of one project or (None) of all.
pub async fn list(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Instance>> {
    let rows = match project_id {
        Some(p) => {
            sqlx::query(
                "SELECT * FROM compute_instance WHERE deleted_at IS NULL AND project_id=$1 \
                 ORDER BY created_at DESC, id DESC",
            )
            .bind(p)
            .fetch_all(db.read())
            .await?
        }
        None => {
            sqlx::query("SELECT * FROM compute_instance WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC")
                .fetch_all(db.read())
                .await?
        }
    };
    Ok(rows.iter().map(from_row).collect())
}

/// The columns a server list filters and pages on (the full rows are read
/// only for the page shown).
#[derive(Clone, Debug)]
pub struct Summary {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub user_id: String,
    pub image_id: String,
    pub flavor_id: String,
    pub vm_state: String,
    pub task_state: Option<String>,
    pub host: Option<String>,
    pub updated_at: i64,
    pub locked: bool,
}

const SUMMARY_COLUMNS: &str = "id, name, project_id, user_id, image_id, flavor_id, vm_state, \
     task_state, host, updated_at, locked";

fn summary_from_row(r: &AnyRow) -> Summary {
    Summary {
        id: text(r, "id"),
        name: text(r, "name"),
        project_id: text(r, "project_id"),
        user_id: text(r, "user_id"),
        image_id: text(r, "image_id"),
        flavor_id: text(r, "flavor_id"),
        vm_state: text(r, "vm_state"),
        task_state: opt_text(r, "task_state"),
        host: opt_text(r, "host"),
        updated_at: int(r, "updated_at"),
        locked: int(r, "locked") != 0,
    }
}

/// Summaries of live instances, newest first, of one project or (None) of all.
pub async fn list_summaries(db: &Db, project_id: Option<&str>) -> sqlx::Result<Vec<Summary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM compute_instance WHERE deleted_at IS NULL \
         AND ($1 = '' OR project_id = $1) ORDER BY created_at DESC, id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(project_id.unwrap_or(""))
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(summary_from_row).collect())
}

/// Where a list continues after the live instance `id` of the project (or
/// of all, None): its `(created_at, id)`; None if there is no such instance.
pub async fn position(
    db: &Db,
    project_id: Option<&str>,
    id: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query(
        "SELECT created_at, id FROM compute_instance WHERE deleted_at IS NULL \
         AND ($1 = '' OR project_id = $1) AND id = $2",
    )
    .bind(project_id.unwrap_or(""))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.map(|r| (int(&r, "created_at"), text(&r, "id"))))
}

/// Up to `limit` summaries in list order — newest first, or oldest first
/// when `ascending` — after the position `after` (see [`position`]); the
/// database sorts and cuts, so a page costs its own rows only.
pub async fn page_summaries(
    db: &Db,
    project_id: Option<&str>,
    after: Option<&(i64, String)>,
    ascending: bool,
    limit: usize,
) -> sqlx::Result<Vec<Summary>> {
    let (cmp, order) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    // Conditions are left out rather than neutralised (`$1 = '' OR …`), so
    // the planner can walk compute_instance_(project_)created in order.
    let mut sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM compute_instance WHERE deleted_at IS NULL");
    let mut n = 0;
    let mut mark = || {
        n += 1;
        format!("${n}")
    };
    if project_id.is_some() {
        sql += &format!(" AND project_id = {}", mark());
    }
    if after.is_some() {
        let (c, i) = (mark(), mark());
        sql += &format!(" AND (created_at {cmp} {c} OR (created_at = {c} AND id {cmp} {i}))");
    }
    sql += &format!(" ORDER BY created_at {order}, id {order} LIMIT {}", mark());
    let mut query = sqlx::query(&sql);
    if let Some(p) = project_id {
        query = query.bind(p);
    }
    if let Some((created, id)) = after {
        query = query.bind(*created).bind(id.as_str());
    }
    let rows = query
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(summary_from_row).collect())
}

/// The live instances with these ids, in the order of `ids` (missing ones,
/// deleted meanwhile, are left out).
pub async fn get_many(db: &Db, ids: &[String]) -> sqlx::Result<Vec<Instance>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT * FROM compute_instance WHERE deleted_at IS NULL AND id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(db.read()).await?;
    let mut by_id: std::collections::HashMap<String, Instance> = rows
        .iter()
        .map(from_row)
        .map(|i| (i.id.clone(), i))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Instances (deleted ones too) that ran during `[begin, end)`: launched
/// before `end` and not terminated before `begin`; of one project or all.
pub async fn list_active_in_window(
    db: &Db,
    begin: i64,
    end: i64,
    project_id: Option<&str>,
) -> sqlx::Result<Vec<Instance>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_instance WHERE launched_at < $2 \
         AND (terminated_at IS NULL OR terminated_at > $1) \
         AND ($3 = '' OR project_id = $3) ORDER BY created_at, id",
    )
    .bind(begin)
    .bind(end)
    .bind(project_id.unwrap_or_default())
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// How many live instances are on any of `hosts`.
pub async fn count_on_hosts(db: &Db, hosts: &[String]) -> sqlx::Result<i64> {
    if hosts.is_empty() {
        return Ok(0);
    }
    let marks: Vec<String> = (1..=hosts.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM compute_instance WHERE deleted_at IS NULL AND host IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query_scalar(&sql);
    for h in hosts {
        query = query.bind(h);
    }
    query.fetch_one(db.read()).await
}

/// Usage of a project: (instances, vcpus, ram MiB) of live instances.
pub async fn usage(db: &Db, project_id: &str) -> sqlx::Result<(i64, i64, i64)> {
    Ok(sum_usage(&list(db, Some(project_id)).await?))
}

/// (instances, vcpus, ram MiB) of a list of instances.
pub fn sum_usage(list: &[Instance]) -> (i64, i64, i64) {
    let f = |i: &Instance, k: &str| i.flavor[k].as_i64().unwrap_or(0);
    let vcpus = list.iter().map(|i| f(i, "vcpus")).sum();
    let ram = list.iter().map(|i| f(i, "ram")).sum();
    (list.len() as i64, vcpus, ram)
}

/// Set the state axes (and fault) of an instance.
pub async fn set_state(
    db: &Db,
    id: &str,
    vm_state: &str,
    task_state: Option<&str>,
    power_state: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE compute_instance SET vm_state=$2, task_state=$3, power_state=$4, updated_at=$5 WHERE id=$1",
    )
    .bind(id)
    .bind(vm_state)
    .bind(task_state)
    .bind(power_state)
    .bind(now_micros())
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Move task_state only if it currently is `expected` (None = no task):
/// the compare-and-set that keeps two actions from racing.
pub async fn claim_task_state(
    db: &Db,
    id: &str,
    expected: Option<&str>,
    new: &str,
) -> sqlx::Result<bool> {
    let done = match expected {
        Some(e) => {
            sqlx::query("UPDATE compute_instance SET task_state=$3, updated_at=$4 WHERE id=$1 AND task_state=$2")
                .bind(id)
                .bind(e)
                .bind(new)
                .bind(now_micros())
                .execute(db.write())
                .await?
        }
        None => {
            sqlx::query(
                "UPDATE compute_instance SET task_state=$2, updated_at=$3 WHERE id=$1 AND task_state IS NULL \
                 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(new)
            .bind(now_micros())
            .execute(db.write())
            .await?
        }
    };
    Ok(done.rows_affected() > 0)
}

pub async fn set_active(db: &Db, id: &str, host: &str) -> sqlx::Result<()> {
    let now = now_micros();
    sqlx::query(
        "UPDATE compute_instance SET vm_state='active', task_state=NULL, power_state=1, host=$2, \
         launched_at=COALESCE(launched_at, $3), progress=100, updated_at=$3 WHERE id=$1",
    )
    .bind(id)
    .bind(host)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn set_error(db: &Db, id: &str, code: i64, message: &str) -> sqlx::Result<()> {
    let now = now_micros();
    let fault = serde_json::json!({
        "code": code,
        "message": message,
        "created": ferro_api::time::iso_seconds(now),
    });
    sqlx::query(
        "UPDATE compute_instance SET vm_state='error', task_state=NULL, fault=$2, updated_at=$3 WHERE id=$1",
    )
    .bind(id)
    .bind(fault.to_string())
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn update_fields(db: &Db, i: &Instance) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE compute_instance SET name=$2, metadata=$3, access_ipv4=$4, access_ipv6=$5, locked=$6, \
         locked_by=$7, disk_config=$8, image_id=$9, flavor_id=$10, flavor=$11, old_flavor=$12, \
         updated_at=$13, description=$14, hostname=$15, locked_reason=$16, trusted_certs=$17, \
         pinned_az=$18, image_properties=$19, key_name=$20, key_data=$21, user_data=$22 WHERE id=$1",
    )
    .bind(&i.id)
    .bind(&i.name)
    .bind(Value::Object(i.metadata.clone()).to_string())
    .bind(&i.access_ipv4)
    .bind(&i.access_ipv6)
    .bind(i64::from(i.locked))
    .bind(&i.locked_by)
    .bind(&i.disk_config)
    .bind(&i.image_id)
    .bind(&i.flavor_id)
    .bind(i.flavor.to_string())
    .bind(i.old_flavor.as_ref().map(Value::to_string))
    .bind(now_micros())
    .bind(&i.description)
    .bind(&i.hostname)
    .bind(&i.locked_reason)
    .bind(certs_text(i))
    .bind(&i.pinned_az)
    .bind(i.image_properties.to_string())
    .bind(&i.key_name)
    .bind(&i.key_data)
    .bind(&i.user_data)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Mark an instance deleted (soft: the row stays for `changes-since`).
pub async fn mark_deleted(db: &Db, id: &str) -> sqlx::Result<()> {
    let now = now_micros();
    sqlx::query(
        "UPDATE compute_instance SET vm_state='deleted', task_state=NULL, power_state=0, deleted_at=$2, \
         terminated_at=$2, updated_at=$2 WHERE id=$1",
    )
    .bind(id)
    .bind(now)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Record (or clear) the snapshot a shelved server is kept as.
pub async fn set_shelved_image(db: &Db, id: &str, image_id: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_instance SET shelved_image_id=$2, updated_at=$3 WHERE id=$1")
        .bind(id)
        .bind(image_id)
        .bind(now_micros())
        .execute(db.write())
        .await
        .map(|_| ())
}

/// A shelved server leaves its host: `shelved_offloaded`, no guest, no host.
pub async fn set_offloaded(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE compute_instance SET vm_state='shelved_offloaded', task_state=NULL, power_state=0, \
         host=NULL, updated_at=$2 WHERE id=$1",
    )
    .bind(id)
    .bind(now_micros())
    .execute(db.write())
    .await
    .map(|_| ())
}

/// The power-state sync's update: only while the server is still in
/// `vm_state` with no task (an action that started since wins).
pub async fn sync_power(
    db: &Db,
    id: &str,
    vm_state: &str,
    new_vm_state: &str,
    power_state: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE compute_instance SET vm_state=$3, power_state=$4, updated_at=$5 \
         WHERE id=$1 AND vm_state=$2 AND task_state IS NULL AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(vm_state)
    .bind(new_vm_state)
    .bind(power_state)
    .bind(now_micros())
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The password the guest posted to the metadata service (Nova keeps it in
/// the system metadata); `None` when none or cleared.
pub async fn password(db: &Db, id: &str) -> sqlx::Result<Option<String>> {
    let row =
        sqlx::query("SELECT password FROM compute_instance WHERE id=$1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(db.read())
            .await?;
    Ok(row
        .as_ref()
        .and_then(|r| opt_text(r, "password"))
        .filter(|p| !p.is_empty()))
}

/// Set the password unless one is set; whether it was.
pub async fn set_password_once(db: &Db, id: &str, password: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE compute_instance SET password=$2 WHERE id=$1 AND deleted_at IS NULL \
         AND (password IS NULL OR password='')",
    )
    .bind(id)
    .bind(password)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forget the password (`DELETE /servers/{id}/os-server-password`).
pub async fn clear_password(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE compute_instance SET password=NULL WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(())
}
