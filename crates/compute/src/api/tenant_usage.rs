//! `/os-simple-tenant-usage`: the hours, vCPU-hours, MiB-hours and
//! GiB-hours each project's servers ran inside `[start, end)`, computed from
//! their launch and termination times (deleted servers count for the time
//! they ran).
//!
//! Per microversion, as Nova: 2.40 pages the servers (`limit`, `marker` an
//! instance id) before summing, with `tenant_usages_links` /
//! `tenant_usage_links`; 2.75 unknown query parameters are refused.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use ferro_api::request_id::TrailingSlash;
use ferro_api::time::{iso_naive_micros, now_micros, parse_iso};
use serde_json::{json, Map, Value};

use ferro_api::BaseUrl;

use super::common::{ok, query_get, require_admin, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::ComputeService;

const HOUR_MICROS: f64 = 3_600_000_000.0;

/// `start` and `end` (absent: now), start strictly before end.
fn period(q: &QueryParams) -> Result<(i64, i64)> {
    let now = now_micros();
    let parse = |k: &str, default: i64| match query_get(q, k) {
        None => Ok(default),
        Some(v) => parse_iso(v)
            .ok_or_else(|| Error::bad_request(format!("Datetime is in invalid format: {k}={v:?}"))),
    };
    let (start, end) = (parse("start", now)?, parse("end", now + 1)?);
    if start >= end {
        return Err(Error::bad_request(
            "Invalid start time. The start time cannot occur after the end time.",
        ));
    }
    Ok((start, end))
}

/// Hours `i` ran inside the period.
fn hours(i: &Instance, start: i64, end: i64) -> f64 {
    let Some(launched) = i.launched_at else {
        return 0.0;
    };
    let from = launched.max(start);
    let to = i.terminated_at.map_or(end, |t| t.min(end));
    (to - from).max(0) as f64 / HOUR_MICROS
}

fn server_usage(i: &Instance, start: i64, end: i64) -> Value {
    let f = |k: &str| i.flavor.get(k).and_then(Value::as_i64).unwrap_or(0);
    let launched = i.launched_at.unwrap_or(i.created_at);
    let state = if i.vm_state == vm::DELETED {
        "terminated"
    } else {
        i.vm_state.as_str()
    };
    let uptime = i.terminated_at.unwrap_or_else(now_micros) - launched;
    json!({
        "instance_id": i.id,
        "name": i.name,
        "tenant_id": i.project_id,
        "hours": hours(i, start, end),
        "vcpus": f("vcpus"),
        "memory_mb": f("ram"),
        "local_gb": f("disk") + f("ephemeral"),
        "flavor": i.flavor.get("name").and_then(Value::as_str).unwrap_or_default(),
        "started_at": iso_naive_micros(launched),
        "ended_at": i.terminated_at.map(iso_naive_micros),
        "state": state,
        "uptime": uptime.max(0) / 1_000_000,
    })
}

/// One summary per project, in order of first appearance.
fn summarise(list: &[Instance], start: i64, end: i64, detailed: bool) -> Vec<Value> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_project: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for i in list {
        if !by_project.contains_key(i.project_id.as_str()) {
            order.push(&i.project_id);
        }
        by_project
            .entry(&i.project_id)
            .or_default()
            .push(server_usage(i, start, end));
    }
    order
        .into_iter()
        .map(|p| {
            let usages = by_project.remove(p).unwrap_or_default();
            // Hours, weighted by a resource (or by 1 for plain hours).
            let total = |weight: Option<&str>| -> f64 {
                usages
                    .iter()
                    .map(|u| {
                        let w = weight.map_or(1.0, |k| u[k].as_f64().unwrap_or(0.0));
                        u["hours"].as_f64().unwrap_or(0.0) * w
                    })
                    .sum()
            };
            let mut v = Map::new();
            v.insert("tenant_id".into(), json!(p));
            v.insert("start".into(), json!(iso_naive_micros(start)));
            v.insert("stop".into(), json!(iso_naive_micros(end)));
            v.insert("total_hours".into(), json!(total(None)));
            v.insert("total_vcpus_usage".into(), json!(total(Some("vcpus"))));
            v.insert(
                "total_memory_mb_usage".into(),
                json!(total(Some("memory_mb"))),
            );
            v.insert(
                "total_local_gb_usage".into(),
                json!(total(Some("local_gb"))),
            );
            if detailed {
                v.insert("server_usages".into(), Value::Array(usages));
            }
            Value::Object(v)
        })
        .collect()
}

/// The servers of one page (2.40) and the marker of the next.
fn paged(
    v: ApiVersion,
    q: &QueryParams,
    list: Vec<Instance>,
    allowed: &[&str],
) -> Result<(Vec<Instance>, Option<String>)> {
    if v.at_least(2, 75) {
        listing::only_params(q, allowed)?;
    }
    if v.at_least(2, 40) {
        listing::page(list, |i| i.id.clone(), q)
    } else {
        Ok((list, None))
    }
}

/// `GET /os-simple-tenant-usage[?start&end&detailed=1]`: every project
/// (admin). `…/os-simple-tenant-usage/` is a show with an empty id: 404.
pub async fn list_usages(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    if slash.is_some() {
        return Err(Error::not_found("The resource could not be found."));
    }
    require_admin(&c, "os_compute_api:os-simple-tenant-usage:list")?;
    let (start, end) = period(&q)?;
    let detailed = query_get(&q, "detailed") == Some("1");
    let list = instances::list_active_in_window(svc.db(), start, end, None).await?;
    let allowed = ["start", "end", "detailed", "limit", "marker"];
    let (list, next) = paged(v, &q, list, &allowed)?;
    let mut out = json!({"tenant_usages": summarise(&list, start, end, detailed)});
    let path = "os-simple-tenant-usage";
    listing::add_links(&mut out, "tenant_usages_links", &base, path, &q, next);
    Ok(ok(out))
}

/// `GET /os-simple-tenant-usage/{tenant_id}`: one project, with its servers
/// (`{}` when none ran); its members may read it.
pub async fn show_usage(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let project = last(&p).to_owned();
    if !c.is_admin() && c.project_id.as_deref() != Some(project.as_str()) {
        return Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.",
        ));
    }
    let (start, end) = period(&q)?;
    let list = instances::list_active_in_window(svc.db(), start, end, Some(&project)).await?;
    let (list, next) = paged(v, &q, list, &["start", "end", "limit", "marker"])?;
    let usage = summarise(&list, start, end, true)
        .into_iter()
        .next()
        .unwrap_or_else(|| json!({}));
    let mut out = json!({ "tenant_usage": usage });
    let path = format!("os-simple-tenant-usage/{project}");
    listing::add_links(&mut out, "tenant_usage_links", &base, &path, &q, next);
    Ok(ok(out))
}
