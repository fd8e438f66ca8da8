//! `/os-hypervisors` (admin only). Each host's nova-compute service is one
//! hypervisor (compute node): the service's integer id before 2.53, the
//! node's own UUID from then on; its capacity comes from the driver, its
//! usage from the servers it hosts.
//!
//! Per microversion, as Nova's controller: 2.28 `cpu_info` is an object
//! (before, the same object as a JSON string); 2.33 `limit`/`marker` with
//! `hypervisors_links`; 2.53 UUIDs, `hypervisor_hostname_pattern` and
//! `with_servers` query parameters (the `/search` and `/servers` routes are
//! gone: 404), unknown query parameters refused; 2.75 `servers: []` when
//! asked for and none; 2.88 no statistics fields in views, `uptime` in the
//! detailed view, `/statistics` and `/uptime` gone (404).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{invalid, ok, parse_bool, query_get, require_admin, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use super::services::is_up;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::instances::{self, Instance};
use crate::store::services::{self, Service};
use crate::ComputeService;

/// A hypervisor: its compute service and the live servers on its host.
struct Hypervisor {
    service: Service,
    servers: Vec<Instance>,
}

impl Hypervisor {
    fn id(&self, v: ApiVersion) -> Value {
        if v.at_least(2, 53) {
            json!(self.service.node_uuid)
        } else {
            json!(self.service.id)
        }
    }

    /// The id as a path or marker spells it.
    fn id_str(&self, v: ApiVersion) -> String {
        if v.at_least(2, 53) {
            self.service.node_uuid.clone()
        } else {
            self.service.id.to_string()
        }
    }
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

/// The hypervisor `id` names: an integer before 2.53 (else 404), a UUID
/// from 2.53 (else 400).
async fn one(svc: &ComputeService, v: ApiVersion, id: &str) -> Result<Hypervisor> {
    let not_found = || Error::not_found(format!("Hypervisor with ID '{id}' could not be found."));
    if v.at_least(2, 53) {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(Error::bad_request(format!("Invalid uuid {id}")));
        }
    } else if id.parse::<i64>().is_err() {
        return Err(not_found());
    }
    all(svc)
        .await?
        .into_iter()
        .find(|h| h.id_str(v) == id)
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

/// What a view of one hypervisor holds besides the summary.
#[derive(Clone, Copy)]
struct Shape {
    detail: bool,
    with_servers: bool,
}

fn summary(h: &Hypervisor, v: ApiVersion) -> Value {
    json!({
        "id": h.id(v),
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

/// The statistics fields of a detailed view (gone from 2.88).
fn statistics(svc: &ComputeService, h: &Hypervisor) -> serde_json::Map<String, Value> {
    let r = svc.driver().host_resources();
    let (vcpus_used, ram_used, disk_used) = used(&h.servers);
    let busy = h.servers.iter().filter(|i| i.task_state.is_some()).count();
    let stats = json!({
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
    });
    match stats {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn view(svc: &ComputeService, h: &Hypervisor, v: ApiVersion, shape: Shape) -> Value {
    let mut out = summary(h, v);
    if shape.detail {
        let r = svc.driver().host_resources();
        let service_id = if v.at_least(2, 53) {
            json!(h.service.uuid)
        } else {
            json!(h.service.id)
        };
        out["hypervisor_type"] = json!(r.hypervisor_type);
        out["hypervisor_version"] = json!(r.hypervisor_version);
        out["host_ip"] = json!(svc.config().host_ip);
        out["service"] = json!({"host": h.service.host, "id": service_id,
                                "disabled_reason": h.service.disabled_reason});
        if v.at_least(2, 88) {
            out["uptime"] = json!(host_uptime());
        } else {
            if let Some(o) = out.as_object_mut() {
                o.extend(statistics(svc, h));
            }
            out["cpu_info"] = if v.at_least(2, 28) {
                r.cpu_info.clone()
            } else {
                json!(r.cpu_info.to_string())
            };
        }
    }
    if !h.servers.is_empty() && shape.with_servers {
        out["servers"] = h
            .servers
            .iter()
            .map(|i| json!({"name": i.name, "uuid": i.id}))
            .collect();
    } else if shape.with_servers && v.at_least(2, 75) {
        out["servers"] = json!([]);
    }
    out
}

/// `with_servers` (2.53), strictly a boolean.
fn with_servers(v: ApiVersion, q: &QueryParams) -> Result<bool> {
    match query_get(q, "with_servers").filter(|_| v.at_least(2, 53)) {
        None => Ok(false),
        Some(s) => parse_bool(&json!(s))
            .ok_or_else(|| invalid("with_servers", &format!("'{s}' is not a boolean"))),
    }
}

async fn listing(
    svc: &ComputeService,
    v: ApiVersion,
    base: &BaseUrl,
    q: &QueryParams,
    detail: bool,
) -> Result<Response> {
    if v.at_least(2, 53) {
        listing::only_params(
            q,
            &[
                "limit",
                "marker",
                "hypervisor_hostname_pattern",
                "with_servers",
            ],
        )?;
    }
    let shape = Shape {
        detail,
        with_servers: with_servers(v, q)?,
    };
    let pattern = query_get(q, "hypervisor_hostname_pattern").filter(|_| v.at_least(2, 53));
    let (list, next) = match pattern {
        Some(p) => {
            if query_get(q, "limit").is_some() || query_get(q, "marker").is_some() {
                return Err(Error::bad_request(
                    "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.",
                ));
            }
            (search(svc, p).await?, None)
        }
        None if v.at_least(2, 33) => listing::page(all(svc).await?, |h| h.id_str(v), q)?,
        None => (all(svc).await?, None),
    };
    let items: Vec<Value> = list.iter().map(|h| view(svc, h, v, shape)).collect();
    let mut out = json!({ "hypervisors": items });
    let path = if detail {
        "os-hypervisors/detail"
    } else {
        "os-hypervisors"
    };
    listing::add_links(&mut out, "hypervisors_links", base, path, q, next);
    Ok(ok(out))
}

pub async fn list_hypervisors(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:list")?;
    listing(&svc, v, &base, &q, false).await
}

pub async fn detail_hypervisors(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:list-detail")?;
    listing(&svc, v, &base, &q, true).await
}

pub async fn show_hypervisor(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-hypervisors:show")?;
    if v.at_least(2, 53) {
        listing::only_params(&q, &["with_servers"])?;
    }
    let shape = Shape {
        detail: true,
        with_servers: with_servers(v, &q)?,
    };
    let h = one(&svc, v, last(&p)).await?;
    Ok(ok(json!({"hypervisor": view(&svc, &h, v, shape)})))
}

/// The 404 of a route a microversion removed.
fn gone() -> Error {
    Error::not_found("The resource could not be found.")
}

pub async fn show_uptime(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 88) {
        return Err(gone());
    }
    require_admin(&c, "os_compute_api:os-hypervisors:uptime")?;
    let h = one(&svc, v, last(&p)).await?;
    let mut out = summary(&h, v);
    out["uptime"] = json!(host_uptime());
    Ok(ok(json!({ "hypervisor": out })))
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
    v: ApiVersion,
    c: Caller,
) -> Result<Response> {
    if v.at_least(2, 88) {
        return Err(gone());
    }
    require_admin(&c, "os_compute_api:os-hypervisors:statistics")?;
    let list = all(&svc).await?;
    let mut stats = serde_json::Map::new();
    stats.insert("count".into(), json!(list.len()));
    for h in &list {
        for (k, x) in statistics(&svc, h) {
            let sum = stats.get(&k).and_then(Value::as_i64).unwrap_or(0) + x.as_i64().unwrap_or(0);
            stats.insert(k, json!(sum));
        }
    }
    Ok(ok(json!({ "hypervisor_statistics": stats })))
}

/// `GET /os-hypervisors/{pattern}/search` (until 2.52).
pub async fn search_hypervisors(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 53) {
        return Err(gone());
    }
    require_admin(&c, "os_compute_api:os-hypervisors:search")?;
    let found = search(&svc, last(&p)).await?;
    let items: Vec<Value> = found.iter().map(|h| summary(h, v)).collect();
    Ok(ok(json!({ "hypervisors": items })))
}

/// `GET /os-hypervisors/{pattern}/servers` (until 2.52): matching
/// hypervisors with the servers they host (no `servers` key when none).
pub async fn hypervisor_servers(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 53) {
        return Err(gone());
    }
    require_admin(&c, "os_compute_api:os-hypervisors:servers")?;
    let shape = Shape {
        detail: false,
        with_servers: true,
    };
    let found = search(&svc, last(&p)).await?;
    let items: Vec<Value> = found.iter().map(|h| view(&svc, h, v, shape)).collect();
    Ok(ok(json!({ "hypervisors": items })))
}
