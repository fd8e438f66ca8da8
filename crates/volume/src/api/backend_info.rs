//! What the one backend reports: `/os-hosts` (list, and usage per host),
//! `/scheduler-stats/get_pools` (3.28 `name` filter) and `/capabilities/{host}`.
//! All admin-only, as upstream's policies. Hosts are matched as Cinder
//! does: `host` names any of its backends, `host@backend` any pool of it,
//! `host@backend#pool` only that pool.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Value};

use super::common::{ok, parse_bool, ts, Ctx};
use super::services::SERVICES;
use super::validate;
use super::volumes::HOST;
use crate::error::{Error, Result};
use crate::store::services as store;
use crate::store::{snapshots, volumes};
use crate::VolumeService;

/// `host@backend`: the cinder-volume service's host.
const VOLUME_HOST: &str = "ferrostack@qcow2";
const ZONE: &str = "nova";

fn stat(key: &str) -> &'static str {
    crate::backend::capability(key).unwrap_or("")
}

/// The services as Cinder's `os-hosts` lists them: enabled ones only,
/// `zone` filtering by availability zone.
pub async fn hosts(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let now = ts(now_micros());
    let zone = ctx.q("zone").filter(|z| !z.is_empty());
    let mut list = Vec::new();
    for (binary, host) in SERVICES {
        if store::get(svc.db(), host, binary).await?.disabled || zone.is_some_and(|z| z != ZONE) {
            continue;
        }
        list.push(
            json!({"service-status": "available", "service": binary, "zone": ZONE,
                         "service-state": "enabled", "host_name": host, "last-update": now}),
        );
    }
    Ok(ok(json!({ "hosts": list })))
}

/// The enabled volume service `name` names (`host`, `host@backend`, or
/// exactly `host@backend#pool`).
async fn enabled_volume_host(svc: &VolumeService, name: &str) -> Result<Option<&'static str>> {
    if !validate::host_matches(VOLUME_HOST, name) {
        return Ok(None);
    }
    let st = store::get(svc.db(), VOLUME_HOST, "cinder-volume").await?;
    Ok((!st.disabled).then_some(VOLUME_HOST))
}

fn usage(
    host: &str,
    project: &str,
    vols: &[&volumes::Volume],
    snaps: &[&snapshots::Snapshot],
) -> Value {
    json!({"resource": {
        "volume_count": vols.len().to_string(),
        "total_volume_gb": vols.iter().map(|v| v.size).sum::<i64>().to_string(),
        "total_snapshot_gb": snaps.iter().map(|s| s.size).sum::<i64>().to_string(),
        "project": project,
        "host": host,
        "snapshot_count": snaps.len().to_string(),
    }})
}

pub async fn host(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let name = ctx.param("host");
    if enabled_volume_host(&svc, name).await?.is_none() {
        return Err(Error::not_found(format!("Host {name} could not be found.")));
    }
    let vols = volumes::list(svc.db(), None).await?;
    let snaps = snapshots::list(svc.db(), None).await?;
    let mut out = vec![usage(
        name,
        "(total)",
        &vols.iter().collect::<Vec<_>>(),
        &snaps.iter().collect::<Vec<_>>(),
    )];
    let mut projects: Vec<&str> = vols.iter().map(|v| v.project_id.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    for p in projects {
        let pv: Vec<_> = vols.iter().filter(|v| v.project_id == p).collect();
        let ps: Vec<_> = snaps.iter().filter(|s| s.project_id == p).collect();
        out.push(usage(name, p, &pv, &ps));
    }
    Ok(ok(json!({ "host": out })))
}

fn pool_capabilities() -> Value {
    let now = ts(now_micros());
    json!({
        "volume_backend_name": stat("volume_backend_name"),
        "vendor_name": stat("vendor_name"),
        "driver_version": stat("driver_version"),
        "storage_protocol": stat("storage_protocol"),
        "total_capacity_gb": "infinite",
        "free_capacity_gb": "infinite",
        "reserved_percentage": 0,
        "QoS_support": false,
        "multiattach": true,
        "thin_provisioning_support": true,
        "thick_provisioning_support": false,
        "timestamp": now,
        "updated": now,
    })
}

/// Whether a pool capability equals a query value, compared as Cinder's
/// scheduler does (booleans read from the string, the rest as text).
fn capability_equals(cap: Option<&Value>, want: &str) -> bool {
    match cap {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => s == want,
        Some(Value::Bool(b)) => parse_bool(want) == Some(*b),
        Some(Value::Number(n)) => n.to_string() == want,
        Some(_) => false,
    }
}

/// `GET /scheduler-stats/get_pools`: `detail`; from 3.28 filters (`name`
/// and capabilities), from 3.33 only the `pool` resource filters (`name`,
/// `volume_type`), from 3.35 `volume_type` keeps the pools that can hold
/// that type.
pub async fn pools(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let detail = ctx.bool_param("detail")?;
    let filters: Vec<(&str, &str)> = if ctx.at(28) {
        ctx.query
            .iter()
            .filter(|(k, _)| k != "detail")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    if ctx.at(33) {
        if filters.iter().any(|(k, _)| !k.is_ascii()) {
            return Err(Error::bad_request(
                "Filter keys can only contain ASCII characters.",
            ));
        }
        let bad: Vec<&str> = filters
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "name" && *k != "volume_type")
            .collect();
        if !bad.is_empty() {
            return Err(Error::bad_request(format!(
                "Invalid filters {} are found in query options.",
                bad.join(",")
            )));
        }
    }
    let caps = pool_capabilities();
    let mut keep = true;
    for (k, v) in &filters {
        keep &= match *k {
            "name" => *v == HOST,
            "volume_type" => true,
            _ => capability_equals(caps.get(*k), v),
        };
    }
    if let Some((_, t)) = filters.iter().find(|(k, _)| *k == "volume_type") {
        if ctx.at(35) {
            let t = super::types::resolve_type(&svc, &ctx, t).await?;
            keep &= crate::backend::accepts(&t.extra_specs);
        }
    }
    if !keep {
        return Ok(ok(json!({"pools": []})));
    }
    let pool = if detail {
        json!({"name": HOST, "capabilities": caps})
    } else {
        json!({"name": HOST})
    };
    Ok(ok(json!({ "pools": [pool] })))
}

pub async fn capabilities(ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let name = ctx.param("host");
    if !validate::host_matches(VOLUME_HOST, name) {
        return Err(Error::not_found(format!("Can't find service: {name}")));
    }
    let prop = |title: &str, ty: &str, desc: &str| json!({"title": title, "type": ty, "description": desc});
    Ok(ok(json!({
        "namespace": format!("OS::Storage::Capabilities::{}", stat("volume_backend_name")),
        "volume_backend_name": stat("volume_backend_name"),
        "vendor_name": stat("vendor_name"),
        "driver_version": stat("driver_version"),
        "storage_protocol": stat("storage_protocol"),
        "pool_name": null,
        "description": null,
        "display_name": null,
        "visibility": null,
        "replication_targets": [],
        "properties": {
            "thin_provisioning": prop("Thin Provisioning", "boolean",
                                      "Sets thin provisioning."),
            "multiattach": prop("Multiattach", "boolean",
                                "Volumes may be attached to several servers."),
        },
    })))
}
