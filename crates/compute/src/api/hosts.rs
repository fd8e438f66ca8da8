//! `/os-hosts` (admin only, deprecated: gone from 2.43, 404): the hosts of
//! the deployment by service, a host's resources (total, used, per
//! project), enabling it, and the power actions the fake driver accepts.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::common::{invalid, ok, query_get, require_admin, Body, Caller, QueryParams};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::{instances, services};
use crate::ComputeService;

/// The 404 of the whole API from 2.43.
fn deprecated(v: ApiVersion) -> Result<()> {
    if v.at_least(2, 43) {
        return Err(Error::not_found("The resource could not be found."));
    }
    Ok(())
}

fn zone_of(binary: &str) -> &'static str {
    if binary == "nova-compute" {
        "nova"
    } else {
        "internal"
    }
}

/// `GET /os-hosts[?zone=]`: one row per enabled service.
pub async fn list_hosts(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    deprecated(v)?;
    require_admin(&c, "os_compute_api:os-hosts:list")?;
    let zone = query_get(&q, "zone").filter(|z| !z.is_empty());
    let hosts: Vec<Value> = services::list(svc.db())
        .await?
        .iter()
        .filter(|s| !s.disabled && zone.is_none_or(|z| z == zone_of(&s.binary)))
        .map(|s| {
            json!({
                "host_name": s.host,
                "service": s.binary.trim_start_matches("nova-"),
                "zone": zone_of(&s.binary),
            })
        })
        .collect();
    Ok(ok(json!({ "hosts": hosts })))
}

/// A host's nova-compute service, else 404.
async fn compute_host(svc: &ComputeService, host: &str) -> Result<services::Service> {
    services::get(svc.db(), host, "nova-compute")
        .await?
        .ok_or_else(|| Error::not_found(format!("Compute host {host} could not be found.")))
}

fn resource(host: &str, project: &str, cpu: i64, memory_mb: i64, disk_gb: i64) -> Value {
    json!({"resource": {"host": host, "project": project, "cpu": cpu,
                        "memory_mb": memory_mb, "disk_gb": disk_gb}})
}

/// `GET /os-hosts/{host}`: total, used now, used at most (the servers'
/// flavors) and per project.
pub async fn show_host(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    deprecated(v)?;
    require_admin(&c, "os_compute_api:os-hosts:show")?;
    let host = last(&p).to_owned();
    compute_host(&svc, &host).await?;
    let servers: Vec<_> = instances::list(svc.db(), None)
        .await?
        .into_iter()
        .filter(|i| i.host.as_deref() == Some(host.as_str()))
        .collect();
    let size =
        |i: &instances::Instance, k: &str| i.flavor.get(k).and_then(Value::as_i64).unwrap_or(0);
    let mut per_project: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let mut used = (0, 0, 0);
    for i in &servers {
        let (c, m, d) = (
            size(i, "vcpus"),
            size(i, "ram"),
            size(i, "disk") + size(i, "ephemeral"),
        );
        used = (used.0 + c, used.1 + m, used.2 + d);
        let e = per_project.entry(i.project_id.clone()).or_default();
        *e = (e.0 + c, e.1 + m, e.2 + d);
    }
    let r = svc.driver().host_resources();
    let mut out = vec![
        resource(&host, "(total)", r.vcpus, r.memory_mb, r.local_gb),
        resource(&host, "(used_now)", used.0, used.1, used.2),
        resource(&host, "(used_max)", used.0, used.1, used.2),
    ];
    out.extend(
        per_project
            .iter()
            .map(|(p, (c, m, d))| resource(&host, p, *c, *m, *d)),
    );
    Ok(ok(json!({ "host": out })))
}

/// `enable`/`disable` in any of Nova's three spellings.
fn switch(body: &serde_json::Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if ["enable", "Enable", "ENABLE"].contains(&s.as_str()) => {
            Ok(Some(true))
        }
        Some(Value::String(s)) if ["disable", "Disable", "DISABLE"].contains(&s.as_str()) => {
            Ok(Some(false))
        }
        Some(x) => Err(invalid(
            key,
            &format!("{x} is not one of ['enable', 'disable']"),
        )),
    }
}

/// `PUT /os-hosts/{host}` with `status` and/or `maintenance_mode`: status
/// enables or disables the host's compute service (no new servers while
/// disabled); maintenance mode is acknowledged only (no other host to
/// evacuate to).
pub async fn update_host(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    deprecated(v)?;
    require_admin(&c, "os_compute_api:os-hosts:update")?;
    let o = body.object()?;
    if let Some(k) = o
        .keys()
        .find(|k| *k != "status" && *k != "maintenance_mode")
    {
        return Err(invalid(
            k,
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let (status, maintenance) = (switch(&o, "status")?, switch(&o, "maintenance_mode")?);
    if status.is_none() && maintenance.is_none() {
        return Err(Error::bad_request(
            "Invalid input: 'status' or 'maintenance_mode' is required",
        ));
    }
    let host = last(&p).to_owned();
    let s = compute_host(&svc, &host).await?;
    let mut out = json!({ "host": host });
    if let Some(on) = status {
        services::set_disabled(svc.db(), s.id, !on, None).await?;
        out["status"] = json!(if on { "enabled" } else { "disabled" });
    }
    if let Some(on) = maintenance {
        out["maintenance_mode"] = json!(if on {
            "on_maintenance"
        } else {
            "off_maintenance"
        });
    }
    Ok(ok(out))
}

/// `GET /os-hosts/{host}/{startup,shutdown,reboot}`: the fake driver
/// accepts the power action (and does nothing).
pub async fn host_power_action(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    deprecated(v)?;
    let action = last(&p).to_owned();
    let rule = match action.as_str() {
        "startup" => "start",
        "shutdown" => "shutdown",
        "reboot" => "reboot",
        _ => return Err(Error::not_found("The resource could not be found.")),
    };
    require_admin(&c, &format!("os_compute_api:os-hosts:{rule}"))?;
    let host = p
        .get(p.len().saturating_sub(2))
        .cloned()
        .unwrap_or_default();
    compute_host(&svc, &host).await?;
    Ok(ok(json!({"host": host, "power_action": action})))
}
