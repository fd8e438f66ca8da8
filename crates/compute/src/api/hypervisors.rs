//! `/os-hypervisors` as at microversion 2.1 (admin only). Each host's
//! nova-compute service is one hypervisor with the same integer id; its
//! capacity comes from the driver, its usage from the servers it hosts.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::common::{ok, require_admin, Caller};
use super::flavors::last;
use super::services::is_up;
use crate::error::{Error, Result};
use crate::store::instances::{self, Instance};
use crate::store::services::{self, Service};
use crate::ComputeService;

/// A hypervisor: its compute service and the live servers on its host.
struct Hypervisor {
    service: Service,
    servers: Vec<Instance>,
}

async fn all(svc: &ComputeService) -> Result<Vec<Hypervisor>> {
    let servers = instances::list(svc.db(), None).await?;
    Ok(services::list(svc.db())
        .await?
        .into_iter()
        .filter(|s| s.binary == "nova-compute")
        .map(|service| Hypervisor {
            servers: servers
                .iter()
                .filter(|i| i.host.as_deref() == Some(service.host.as_str()))
                .cloned()
                .collect(),
            service,
        })
        .collect())
}

async fn one(svc: &ComputeService, id: &str) -> Result<Hypervisor> {
    let not_found = || Error::not_found(format!("Hypervisor with ID '{id}' could not be found."));
    let n: i64 = id.parse().map_err(|_| not_found())?;
    all(svc)
        .await?
        .into_iter()
        .find(|h| h.service.id == n)
        .ok_or_else(not_found)
}

/// Hypervisors whose hostname contains `pattern` (404 when none does).
async fn search(svc: &ComputeService, pattern: &str) -> Result<Vec<Hypervisor>> {
    let found: Vec<Hypervisor> = all(svc)
        .await?
        .into_iter()
        .filter(|h| h.service.host.contains(pattern))
        .collect();
    if found.is_empty() {
        return Err(Error::not_found(format!(
            "No hypervisor matching '{pattern}' could be found."
        )));
    }
    Ok(found)
}

fn summary(h: &Hypervisor) -> Value {
    json!({
        "id": h.service.id,
        "hypervisor_hostname": h.service.host,
        "state": if is_up(&h.service) { "up" } else { "down" },
        "status": if h.service.disabled { "disabled" } else { "enabled" },
    })
}

/// (vcpus, memory_mb, local_gb) the servers use, from their flavors.
fn used(servers: &[Instance]) -> (i64, i64, i64) {
    let f = |i: &Instance, k: &str| i.flavor.get(k).and_then(Value::as_i64).unwrap_or(0);
    servers.iter().fold((0, 0, 0), |(c, m, d), i| {
        (
            c + f(i, "vcpus"),
            m + f(i, "ram"),
            d + f(i, "disk") + f(i, "ephemeral"),
        )
    })
}

fn detail(svc: &ComputeService, h: &Hypervisor) -> Value {
    let r = svc.driver().host_resources();
    let (vcpus_used, ram_used, disk_used) = used(&h.servers);
    let busy = h.servers.iter().filter(|i| i.task_state.is_some()).count();
    let mut v = summary(h);
    let extra = json!({
        "vcpus": r.vcpus,
        "memory_mb": r.memory_mb,
        "local_gb": r.local_gb,
        "vcpus_used": vcpus_used,
        "memory_mb_used": ram_used,
        "local_gb_used": disk_used,
        "free_ram_mb": r.memory_mb - ram_used,
        "free_disk_gb": r.local_gb - disk_used,
        "disk_available_least": r.local_gb - disk_used,
        "current_workload": busy,
        "running_vms": h.servers.len(),
        "hypervisor_type": r.hypervisor_type,
        "hypervisor_version": r.hypervisor_version,
        "cpu_info": r.cpu_info,
        "host_ip": svc.config().host_ip,
        "service": {"host": h.service.host, "id": h.service.id,
                    "disabled_reason": h.service.disabled_reason},
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

pub async fn list_hypervisors(State(svc): State<ComputeService>, c: Caller) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:list")?;
    let list = all(&svc).await?;
    Ok(ok(
        json!({"hypervisors": list.iter().map(summary).collect::<Vec<_>>()}),
    ))
}

pub async fn detail_hypervisors(State(svc): State<ComputeService>, c: Caller) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:list-detail")?;
    let list = all(&svc).await?;
    Ok(ok(
        json!({"hypervisors": list.iter().map(|h| detail(&svc, h)).collect::<Vec<_>>()}),
    ))
}

pub async fn show_hypervisor(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:show")?;
    let h = one(&svc, last(&p)).await?;
    Ok(ok(json!({"hypervisor": detail(&svc, &h)})))
}

pub async fn show_uptime(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:uptime")?;
    let h = one(&svc, last(&p)).await?;
    let mut v = summary(&h);
    v["uptime"] = json!(host_uptime());
    Ok(ok(json!({ "hypervisor": v })))
}

/// The host's `uptime` line, from /proc (as libvirt reports it).
fn host_uptime() -> String {
    let read = |f: &str| std::fs::read_to_string(f).unwrap_or_default();
    let secs = read("/proc/uptime")
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0) as u64;
    let load: Vec<String> = read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .map(str::to_owned)
        .collect();
    let stamp = ferro_api::time::iso_seconds(ferro_api::time::now_micros());
    let now = stamp.get(11..19).unwrap_or_default();
    format!(
        " {now} up {} days, {:2}:{:02},  0 users,  load average: {}",
        secs / 86400,
        secs % 86400 / 3600,
        secs % 3600 / 60,
        load.join(", ")
    )
}

pub async fn hypervisor_statistics(
    State(svc): State<ComputeService>,
    c: Caller,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:statistics")?;
    let list = all(&svc).await?;
    let keys = [
        "vcpus",
        "memory_mb",
        "local_gb",
        "vcpus_used",
        "memory_mb_used",
        "local_gb_used",
        "free_ram_mb",
        "free_disk_gb",
        "disk_available_least",
        "current_workload",
        "running_vms",
    ];
    let mut stats = serde_json::Map::new();
    stats.insert("count".into(), json!(list.len()));
    for k in keys {
        let sum: i64 = list
            .iter()
            .map(|h| detail(&svc, h)[k].as_i64().unwrap_or(0))
            .sum();
        stats.insert(k.into(), json!(sum));
    }
    Ok(ok(json!({ "hypervisor_statistics": stats })))
}

/// `GET /os-hypervisors/{pattern}/search`.
pub async fn search_hypervisors(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:search")?;
    let found = search(&svc, last(&p)).await?;
    Ok(ok(
        json!({"hypervisors": found.iter().map(summary).collect::<Vec<_>>()}),
    ))
}

/// `GET /os-hypervisors/{pattern}/servers`: matching hypervisors with the
/// servers they host (no `servers` key when there are none).
pub async fn hypervisor_servers(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:servers")?;
    let found = search(&svc, last(&p)).await?;
    let items: Vec<Value> = found
        .iter()
        .map(|h| {
            let mut v = summary(h);
            if !h.servers.is_empty() {
                v["servers"] = h
                    .servers
                    .iter()
                    .map(|i| json!({"uuid": i.id, "name": i.name}))
                    .collect();
            }
            v
        })
        .collect();
    Ok(ok(json!({ "hypervisors": items })))
}
