//! Limits, quota sets, availability zones, services and extensions.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::common::{ok, ok_empty, valid_id, wrapped, Body, Ctx};
use crate::error::{Error, Result};
use crate::store::quotas;
use crate::VolumeService;

pub fn routes() -> Router<VolumeService> {
    Router::new()
        .route("/v3/{project_id}/limits", get(limits))
        .route(
            "/v3/{project_id}/os-quota-sets/{target}",
            get(quota_show).put(quota_update).delete(quota_delete),
        )
        .route(
            "/v3/{project_id}/os-quota-sets/{target}/defaults",
            get(quota_defaults),
        )
        .route("/v3/{project_id}/os-availability-zone", get(zones))
        .route("/v3/{project_id}/extensions", get(extensions))
}

pub async fn limits(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    // 3.39: an admin may ask for another project's limits.
    let project = match ctx.q("project_id") {
        Some(p) if ctx.at(39) && ctx.is_admin() && valid_id(p) => p.to_owned(),
        _ => ctx.project_id.clone(),
    };
    let l = quotas::limits_db(svc.db(), &project).await?;
    let (vols, snaps, gb) = quotas::usage_db(svc.db(), &project).await?;
    let (backups, backup_gb) = crate::store::backups::usage_db(svc.db(), &project).await?;
    let g = |k: &str| l.get(k).copied().unwrap_or(-1);
    Ok(ok(json!({"limits": {"rate": [], "absolute": {
        "maxTotalVolumes": g("volumes"),
        "maxTotalSnapshots": g("snapshots"),
        "maxTotalVolumeGigabytes": g("gigabytes"),
        "maxTotalBackups": g("backups"),
        "maxTotalBackupGigabytes": g("backup_gigabytes"),
        "totalVolumesUsed": vols,
        "totalSnapshotsUsed": snaps,
        "totalGigabytesUsed": gb,
        "totalBackupsUsed": backups,
        "totalBackupGigabytesUsed": backup_gb,
    }}})))
}

fn target(ctx: &Ctx) -> Result<String> {
    let t = ctx.param("target");
    if !valid_id(t) {
        return Err(Error::bad_request("Invalid project id."));
    }
    Ok(t.to_owned())
}

async fn quota_body(svc: &VolumeService, project: &str, usage: bool) -> Result<Map<String, Value>> {
    let l = quotas::limits_db(svc.db(), project).await?;
    let (vols, snaps, gb) = quotas::usage_db(svc.db(), project).await?;
    let (backups, backup_gb) = crate::store::backups::usage_db(svc.db(), project).await?;
    let mut m = Map::new();
    for (k, v) in &l {
        if usage {
            let in_use = match k.as_str() {
                "volumes" => vols,
                "snapshots" => snaps,
                "gigabytes" => gb,
                "backups" => backups,
                "backup_gigabytes" => backup_gb,
                _ => 0,
            };
            m.insert(
                k.clone(),
                json!({"limit": v, "in_use": in_use, "reserved": 0}),
            );
        } else {
            m.insert(k.clone(), json!(v));
        }
    }
    Ok(m)
}

pub async fn quota_show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let t = target(&ctx)?;
    if t != ctx.project_id && !ctx.is_admin() {
        return Err(Error::policy());
    }
    let usage = ctx.bool_param("usage")?;
    let mut m = quota_body(&svc, &t, usage).await?;
    m.insert("id".into(), json!(t));
    Ok(ok(json!({ "quota_set": m })))
}

pub async fn quota_defaults(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let t = target(&ctx)?;
    let mut m: Map<String, Value> = quotas::defaults_db(svc.db())
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    m.insert("id".into(), json!(t));
    Ok(ok(json!({ "quota_set": m })))
}

pub async fn quota_update(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    ctx.require_admin()?;
    let t = target(&ctx)?;
    let obj = wrapped(&body, "quota_set")?;
    let (vols, snaps, gb) = quotas::usage_db(svc.db(), &t).await?;
    let (backups, backup_gb) = crate::store::backups::usage_db(svc.db(), &t).await?;
    let mut values = Vec::new();
    for (k, v) in &obj {
        if k == "id" || k == "tenant_id" {
            continue;
        }
        if quotas::default_of(k).is_none() {
            return Err(Error::bad_request(format!("Bad key(s) in quota set: {k}")));
        }
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .filter(|n| (-1..=i32::MAX as i64).contains(n))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid input for field/attribute {k}: must be an integer >= -1."
            ))
        })?;
        let in_use = match k.as_str() {
            "volumes" => vols,
            "snapshots" => snaps,
            "gigabytes" => gb,
            "backups" => backups,
            "backup_gigabytes" => backup_gb,
            _ => 0,
        };
        if n >= 0 && n < in_use {
            return Err(Error::bad_request(format!(
                "Quota limit {n} for {k} must be equal or greater than existing resources \
                 ({in_use} in use)."
            )));
        }
        values.push((k.clone(), n));
    }
    quotas::set(svc.db(), &t, &values).await?;
    let m = quota_body(&svc, &t, false).await?;
    Ok(ok(json!({ "quota_set": m })))
}

pub async fn quota_delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = target(&ctx)?;
    quotas::reset(svc.db(), &t).await?;
    Ok(ok_empty())
}

pub async fn zones(_ctx: Ctx) -> Result<Response> {
    Ok(ok(json!({"availabilityZoneInfo": [
        {"zoneName": "nova", "zoneState": {"available": true}}
    ]})))
}

/// The extensions whose behaviour this server implements.
pub const EXTENSIONS: &[(&str, &str)] = &[
    ("os-admin-actions", "AdminActions"),
    ("backups", "Backups"),
    ("capabilities", "Capabilities"),
    ("encryption", "VolumeTypeEncryption"),
    ("os-hosts", "Hosts"),
    ("qos-specs", "Qos_specs_manage"),
    ("os-quota-class-sets", "QuotaClasses"),
    ("scheduler-stats", "Scheduler_stats"),
    ("os-snapshot-actions", "SnapshotActions"),
    ("os-volume-transfer", "VolumeTransfer"),
    ("os-used-limits", "UsedLimits"),
    ("os-extended-services", "ExtendedServices"),
    ("os-availability-zone", "AvailabilityZones"),
    (
        "os-extended-snapshot-attributes",
        "ExtendedSnapshotAttributes",
    ),
    ("os-quota-sets", "Quotas"),
    ("os-services", "Services"),
    ("os-types-extra-specs", "TypesExtraSpecs"),
    ("os-types-manage", "TypesManage"),
    ("os-vol-host-attr", "VolumeHostAttribute"),
    ("os-vol-image-meta", "VolumeImageMetadata"),
    ("os-vol-mig-status-attr", "VolumeMigStatusAttribute"),
    ("os-vol-tenant-attr", "VolumeTenantAttribute"),
    ("os-volume-actions", "VolumeActions"),
    ("os-volume-type-access", "VolumeTypeAccess"),
];

pub async fn extensions(_ctx: Ctx) -> Result<Response> {
    let list: Vec<Value> = EXTENSIONS
        .iter()
        .map(|(alias, name)| {
            json!({"alias": alias, "name": name, "description": name,
                   "links": [], "updated": "2023-01-01T00:00:00+00:00"})
        })
        .collect();
    Ok(ok(json!({ "extensions": list })))
}
