//! What the one backend reports: `/os-hosts` (list, and usage per host),
//! `/scheduler-stats/get_pools` (3.28 `name` filter) and `/capabilities/{host}`.
//! All admin-only, as upstream's policies.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Value};

use super::common::{ok, parse_bool, ts, Ctx};
use super::volumes::HOST;
use crate::error::{Error, Result};
use crate::store::{snapshots, volumes};
use crate::VolumeService;

/// `host@backend`: the cinder-volume service's host.
const VOLUME_HOST: &str = "ferrostack@qcow2";

fn stat(key: &str) -> &'static str {
    crate::backend::capability(key).unwrap_or("")
}

pub async fn hosts(ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let now = ts(now_micros());
    let entry = |name: &str, service: &str| {
        json!({"service-status": "available", "service": service, "zone": "nova",
               "service-state": "enabled", "host_name": name, "last-update": now})
    };
    Ok(ok(json!({"hosts": [
        entry("ferrostack", "cinder-scheduler"),
        entry(VOLUME_HOST, "cinder-volume"),
    ]})))
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
    if name != VOLUME_HOST && name != HOST {
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

pub async fn pools(ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let detail = ctx.q("detail").and_then(parse_bool).unwrap_or(false);
    if ctx.at(28) {
        if let Some(n) = ctx.q("name") {
            if n != HOST {
                return Ok(ok(json!({"pools": []})));
            }
        }
    }
    let pool = if detail {
        json!({"name": HOST, "capabilities": pool_capabilities()})
    } else {
        json!({"name": HOST})
    };
    Ok(ok(json!({ "pools": [pool] })))
}

pub async fn capabilities(ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let name = ctx.param("host");
    if name != VOLUME_HOST && name != HOST {
        return Err(Error::not_found(format!(
            "Service {name} could not be found."
        )));
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
