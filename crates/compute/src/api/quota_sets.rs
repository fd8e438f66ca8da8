//! `/os-quota-sets/{project_id}`: show (own project, or any for admins;
//! `?user_id=` for a user's limits), `detail` (with usage), `defaults`,
//! update and revert-to-defaults (admin).
//!
//! Per microversion, as Nova: 2.36 drops `fixed_ips`, `floating_ips`,
//! `security_groups` and `security_group_rules` from every view (and
//! refuses them in updates); 2.57 drops the `injected_file*` ones too;
//! 2.75 unknown query parameters are refused (2.102 on `defaults`).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{ok, parse_bool, query_get, require_admin, wrapped, Body, Caller, QueryParams};
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::quota::{self, Limits, RESOURCES};
use crate::store::{instances, keypairs, quotas, server_groups};
use crate::ComputeService;

/// The project id of `…/os-quota-sets/{project_id}[/…]` (legacy paths carry
/// the caller's project first).
fn target(p: &[String]) -> String {
    p.last().cloned().unwrap_or_default()
}

fn require_reader_of(c: &Caller, project: &str, rule: &str) -> Result<()> {
    if c.is_admin() || c.project_id.as_deref() == Some(project) {
        return Ok(());
    }
    Err(Error::forbidden(format!(
        "Policy doesn't allow {rule} to be performed."
    )))
}

const NETWORK_QUOTAS: [&str; 4] = [
    "fixed_ips",
    "floating_ips",
    "security_group_rules",
    "security_groups",
];
const FILE_QUOTAS: [&str; 3] = [
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
];

/// The resources quota sets leave out at `v` (2.36 network, 2.57 files).
pub fn filtered(v: ApiVersion) -> Vec<&'static str> {
    let mut out = Vec::new();
    if v.at_least(2, 36) {
        out.extend(NETWORK_QUOTAS);
    }
    if v.at_least(2, 57) {
        out.extend(FILE_QUOTAS);
    }
    out
}

/// The quota class sets' own rule: before 2.50 no server group quotas
/// (and the network ones shown); from 2.50 as quota sets at 2.36; 2.57 the
/// same as quota sets.
pub fn class_filtered(v: ApiVersion) -> Vec<&'static str> {
    if v.at_least(2, 57) {
        filtered(v)
    } else if v.at_least(2, 50) {
        NETWORK_QUOTAS.to_vec()
    } else {
        vec!["server_groups", "server_group_members"]
    }
}

fn check_query(v: ApiVersion, q: &QueryParams) -> Result<()> {
    if v.at_least(2, 75) {
        listing::only_params(q, &["user_id"])?;
    }
    Ok(())
}

/// `{"id"?, resource: limit, …}` without the `hidden` resources.
pub fn render(limits: &Limits, id: Option<&str>, hidden: &[&str]) -> Value {
    let mut m: Map<String, Value> = limits
        .0
        .iter()
        .filter(|(k, _)| !hidden.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if let Some(id) = id {
        m.insert("id".into(), json!(id));
    }
    Value::Object(m)
}

async fn limits_for(svc: &ComputeService, project: &str, user: Option<&str>) -> Result<Limits> {
    match user {
        Some(u) => quota::user_limits(svc, project, u).await,
        None => quota::project_limits(svc, project).await,
    }
}

/// The target project of a read (`show`/`detail`), once the caller may read
/// it, and its limits (or those of `?user_id=`).
async fn readable(
    svc: &ComputeService,
    c: &Caller,
    q: &QueryParams,
    p: &[String],
    action: &str,
) -> Result<(String, Limits)> {
    let project = target(p);
    require_reader_of(
        c,
        &project,
        &format!("os_compute_api:os-quota-sets:{action}"),
    )?;
    let limits = limits_for(svc, &project, query_get(q, "user_id")).await?;
    Ok((project, limits))
}

pub async fn show_quota_set(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    check_query(v, &q)?;
    let (project, limits) = readable(&svc, &c, &q, &p, "show").await?;
    Ok(ok(
        json!({"quota_set": render(&limits, Some(&project), &filtered(v))}),
    ))
}

/// What a project (or one of its users) uses of each resource.
async fn in_use(
    svc: &ComputeService,
    project: &str,
    user: Option<&str>,
) -> Result<Vec<(&'static str, i64)>> {
    let mut list = instances::list(svc.db(), Some(project)).await?;
    if let Some(u) = user {
        list.retain(|i| i.user_id == u);
    }
    let (count, cores, ram) = instances::sum_usage(&list);
    let groups = server_groups::count(svc.db(), project).await?;
    let keys = match user {
        Some(u) => keypairs::list(svc.db(), u).await?.len() as i64,
        None => 0,
    };
    Ok(vec![
        ("instances", count),
        ("cores", cores),
        ("ram", ram),
        ("server_groups", groups),
        ("key_pairs", keys),
    ])
}

pub async fn show_quota_detail(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    check_query(v, &q)?;
    let hidden = filtered(v);
    let (project, limits) = readable(&svc, &c, &q, &p, "detail").await?;
    let used = in_use(&svc, &project, query_get(&q, "user_id")).await?;
    let mut m = Map::new();
    m.insert("id".into(), json!(project));
    for (r, limit) in limits
        .0
        .iter()
        .filter(|(r, _)| !hidden.contains(&r.as_str()))
    {
        let n = used.iter().find(|(k, _)| k == r).map_or(0, |(_, n)| *n);
        m.insert(
            r.clone(),
            json!({"limit": limit, "in_use": n, "reserved": 0}),
        );
    }
    Ok(ok(json!({ "quota_set": m })))
}

pub async fn show_defaults(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    _c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 102) {
        listing::only_params(&q, &[])?;
    }
    let limits = quota::defaults(&svc).await?;
    let body = render(&limits, Some(&target(&p)), &filtered(v));
    Ok(ok(json!({ "quota_set": body })))
}

/// A quota value: an integer (or a string of one) from -1 to 2^31-1.
pub fn limit_value(key: &str, v: &Value) -> Result<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok(),
        _ => None,
    };
    n.filter(|n| (-1..=0x7FFF_FFFF).contains(n)).ok_or_else(|| {
        super::common::invalid(
            key,
            &format!("Value: {v}. must be an integer from -1 to 2147483647"),
        )
    })
}

/// The resource limits of an update body (`extra` names other keys
/// allowed, `refused` resources the version no longer takes).
pub fn parse_limits(
    body: &Map<String, Value>,
    extra: &[&str],
    refused: &[&str],
) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for (k, v) in body {
        if extra.contains(&k.as_str()) {
            continue;
        }
        if !RESOURCES.iter().any(|(r, _)| r == k) || refused.contains(&k.as_str()) {
            return Err(super::common::invalid(
                k,
                &format!("Additional properties are not allowed ('{k}' was unexpected)"),
            ));
        }
        out.push((k.clone(), limit_value(k, v)?));
    }
    Ok(out)
}

/// Nova's check of a new limit against what is used (`minimum`) and, for a
/// user's limit, the project's (`maximum`; -1 for none).
fn validate(resource: &str, limit: i64, minimum: i64, maximum: i64) -> Result<()> {
    if limit < minimum && (maximum != -1 || limit != -1) {
        return Err(Error::bad_request(format!(
            "Quota limit {limit} for {resource} must be greater than or equal to already used and reserved {minimum}."
        )));
    }
    if maximum != -1 && limit > maximum {
        return Err(Error::bad_request(format!(
            "Quota limit {limit} for {resource} must be less than or equal to {maximum}."
        )));
    }
    Ok(())
}

pub async fn update_quota_set(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    check_query(v, &q)?;
    require_admin(&c, "os_compute_api:os-quota-sets:update")?;
    let project = target(&p);
    let user = query_get(&q, "user_id");
    let o = wrapped(&body.object()?, "quota_set")?;
    let force = match o.get("force") {
        None => false,
        Some(v) => parse_bool(v).ok_or_else(|| {
            super::common::invalid("force", &format!("{v} is not of type 'boolean'"))
        })?,
    };
    let hidden = filtered(v);
    let updates = parse_limits(&o, &["force"], &hidden)?;
    super::common::check_project(&svc, &project).await?;
    if !force {
        let used = in_use(&svc, &project, user).await?;
        let project_limits = quota::project_limits(&svc, &project).await?;
        for (r, limit) in &updates {
            let minimum = used.iter().find(|(k, _)| k == r).map_or(0, |(_, n)| *n);
            let maximum = if user.is_some() {
                project_limits.get(r)
            } else {
                -1
            };
            validate(r, *limit, minimum, maximum)?;
        }
    }
    quotas::set_limits(svc.db(), &project, user.unwrap_or_default(), &updates).await?;
    let limits = limits_for(&svc, &project, user).await?;
    Ok(ok(json!({"quota_set": render(&limits, None, &hidden)})))
}

/// `DELETE`: back to the defaults (a user's limits only, with `user_id`).
pub async fn delete_quota_set(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    check_query(v, &q)?;
    require_admin(&c, "os_compute_api:os-quota-sets:delete")?;
    quotas::delete_limits(svc.db(), &target(&p), query_get(&q, "user_id")).await?;
    Ok(super::common::accepted_empty())
}
