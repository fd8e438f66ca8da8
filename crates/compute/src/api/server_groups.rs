//! `/os-server-groups` and the `group` scheduler hint of server create.
//!
//! Per microversion, as Nova: 2.13 `project_id`/`user_id` in views; 2.15
//! the soft policies (`soft-affinity`, `soft-anti-affinity`); 2.64 one
//! `policy` string and `rules` (`max_server_per_host`, anti-affinity only)
//! instead of the `policies` list and the empty `metadata`; 2.75 unknown
//! list query parameters are refused, 2.102 on show too.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::AuthContext;
use serde_json::{json, Map, Value};

use super::common::{
    invalid, no_content, ok, project_of, query_get, require_member, wrapped, Body, Caller,
    QueryParams,
};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::quota;
use crate::store::server_groups::{self, ServerGroup};
use crate::ComputeService;

/// The policies a create may name at `v` (the soft ones from 2.15).
fn policies(v: ApiVersion) -> &'static [&'static str] {
    if v.at_least(2, 15) {
        &[
            "anti-affinity",
            "affinity",
            "soft-anti-affinity",
            "soft-affinity",
        ]
    } else {
        &["anti-affinity", "affinity"]
    }
}

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Instance group {id} could not be found."))
}

async fn render(svc: &ComputeService, g: &ServerGroup, v: ApiVersion) -> Result<Value> {
    let mut o = json!({
        "id": g.id,
        "name": g.name,
        "members": server_groups::members(svc.db(), &g.id).await?,
    });
    if v.at_least(2, 64) {
        o["policy"] = json!(g.policy);
        o["rules"] = match g.max_server_per_host {
            Some(n) => json!({ "max_server_per_host": n }),
            None => json!({}),
        };
    } else {
        o["policies"] = json!([g.policy]);
        o["metadata"] = json!({});
    }
    if v.at_least(2, 13) {
        o["project_id"] = json!(g.project_id);
        o["user_id"] = json!(g.user_id);
    }
    Ok(o)
}

/// A group the caller may see (its project's; any for admins), else 404.
async fn load(svc: &ComputeService, ctx: &AuthContext, id: &str) -> Result<ServerGroup> {
    let g = server_groups::get(svc.db(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !ctx.is_admin() && ctx.project_id.as_deref() != Some(g.project_id.as_str()) {
        return Err(not_found(id));
    }
    Ok(g)
}

fn group_name(o: &Map<String, Value>) -> Result<String> {
    match o.get("name") {
        None => Err(invalid("name", "'name' is a required property")),
        Some(Value::String(s))
            if !s.is_empty()
                && s.chars().count() <= 255
                && s.trim() == s
                && !s.chars().any(char::is_control) =>
        {
            Ok(s.clone())
        }
        Some(v) => Err(invalid(
            "name",
            &format!(
                "Value: {v}. It must be 1-255 characters without leading or trailing whitespace"
            ),
        )),
    }
}

/// The `policies` list before 2.64: exactly one known policy.
fn legacy_policy(v: ApiVersion, o: &Map<String, Value>) -> Result<String> {
    let allowed = policies(v);
    let list = match o.get("policies") {
        None => return Err(invalid("policies", "'policies' is a required property")),
        Some(Value::Array(l)) => l,
        Some(x) => {
            return Err(invalid(
                "policies",
                &format!("Value: {x}. {x} is not of type 'array'"),
            ))
        }
    };
    match list.as_slice() {
        [Value::String(p)] if allowed.contains(&p.as_str()) => Ok(p.clone()),
        [x] => Err(invalid(
            "policies",
            &format!("Value: {x}. {x} is not one of {allowed:?}"),
        )),
        _ => Err(invalid("policies", "Value: must hold exactly one policy")),
    }
}

/// `policy` and `rules` from 2.64.
fn policy_and_rules(v: ApiVersion, o: &Map<String, Value>) -> Result<(String, Option<i64>)> {
    let allowed = policies(v);
    let policy = match o.get("policy") {
        None => return Err(invalid("policy", "'policy' is a required property")),
        Some(Value::String(p)) if allowed.contains(&p.as_str()) => p.clone(),
        Some(x) => {
            return Err(invalid(
                "policy",
                &format!("Value: {x}. {x} is not one of {allowed:?}"),
            ))
        }
    };
    let rules = match o.get("rules") {
        None => Map::new(),
        Some(Value::Object(r)) => r.clone(),
        Some(x) => return Err(invalid("rules", &format!("{x} is not of type 'object'"))),
    };
    if let Some(k) = rules.keys().find(|k| *k != "max_server_per_host") {
        return Err(invalid(
            "rules",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let max = match rules.get("max_server_per_host") {
        None => None,
        Some(x) => Some(
            x.as_i64()
                .or_else(|| {
                    x.as_str()
                        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|s| s.parse().ok())
                })
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    invalid(
                        "max_server_per_host",
                        &format!("{x} is not a positive integer"),
                    )
                })?,
        ),
    };
    if max.is_some() && policy != "anti-affinity" {
        return Err(Error::bad_request(
            "Only anti-affinity policy supports rules.",
        ));
    }
    Ok((policy, max))
}

pub async fn create_group(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let project = project_of(&c)?;
    let o = wrapped(&body.object()?, "server_group")?;
    let keys: &[&str] = if v.at_least(2, 64) {
        &["name", "policy", "rules"]
    } else {
        &["name", "policies"]
    };
    if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(invalid(
            "server_group",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let name = group_name(&o)?;
    let (policy, max_server_per_host) = if v.at_least(2, 64) {
        policy_and_rules(v, &o)?
    } else {
        (legacy_policy(v, &o)?, None)
    };
    let limit = quota::project_limits(&svc, &project)
        .await?
        .get("server_groups");
    if limit >= 0 && server_groups::count(svc.db(), &project).await? >= limit {
        return Err(Error::forbidden("Quota exceeded, too many server groups."));
    }
    let g = ServerGroup {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        project_id: project,
        user_id: c.user_id.clone(),
        policy,
        max_server_per_host,
        created_at: now_micros(),
    };
    server_groups::create(svc.db(), &g).await?;
    Ok(ok(json!({ "server_group": render(&svc, &g, v).await? })))
}

fn non_negative(q: &QueryParams, key: &str) -> Result<Option<usize>> {
    query_get(q, key)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| invalid(key, &format!("Value: {v}. must be a non-negative integer")))
        })
        .transpose()
}

pub async fn list_groups(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    if v.at_least(2, 75) {
        listing::only_params(&q, &["all_projects", "limit", "offset"])?;
    }
    // Nova looks only at the key's presence (`?all_projects` alone counts).
    let all = query_get(&q, "all_projects").is_some();
    // `common.limited`: 0 or absent means the maximum.
    let limit = non_negative(&q, "limit")?
        .filter(|l| *l > 0)
        .unwrap_or(listing::MAX_LIMIT)
        .min(listing::MAX_LIMIT);
    let offset = non_negative(&q, "offset")?.unwrap_or(0);
    let project = if all && c.is_admin() {
        None
    } else {
        Some(project_of(&c)?)
    };
    let groups = server_groups::list(svc.db(), project.as_deref()).await?;
    let mut items = Vec::new();
    for g in groups.iter().skip(offset).take(limit) {
        items.push(render(&svc, g, v).await?);
    }
    Ok(ok(json!({ "server_groups": items })))
}

pub async fn show_group(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 102) {
        listing::only_params(&q, &[])?;
    }
    let g = load(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "server_group": render(&svc, &g, v).await? })))
}

pub async fn delete_group(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let g = load(&svc, &c, last(&p)).await?;
    server_groups::delete(svc.db(), &g.id).await?;
    Ok(no_content())
}

/// The `group` scheduler hint of a create request (`os:scheduler_hints` or
/// `OS-SCH-HNT:scheduler_hints`): the group the new servers join, checked
/// against the members quota.
pub async fn hinted_group(
    svc: &ComputeService,
    ctx: &AuthContext,
    body: &Map<String, Value>,
    count: i64,
) -> Result<Option<ServerGroup>> {
    let hints = match body
        .get("os:scheduler_hints")
        .or_else(|| body.get("OS-SCH-HNT:scheduler_hints"))
    {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(h)) => h,
        Some(v) => {
            return Err(invalid(
                "os:scheduler_hints",
                &format!("Value: {v}. {v} is not of type 'object'"),
            ))
        }
    };
    let id = match hints.get("group") {
        None => return Ok(None),
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => s.clone(),
        Some(v) => {
            return Err(invalid(
                "group",
                &format!("Value: {v}. {v} is not a 'uuid'"),
            ))
        }
    };
    let g = match load(svc, ctx, &id).await {
        Ok(g) => g,
        Err(e) if e.status() == http::StatusCode::NOT_FOUND => {
            return Err(Error::bad_request(format!(
                "Instance group {id} could not be found."
            )))
        }
        Err(e) => return Err(e),
    };
    let have = server_groups::members(svc.db(), &g.id).await?.len() as i64;
    let limit = quota::project_limits(svc, &g.project_id)
        .await?
        .get("server_group_members");
    if limit >= 0 && have.saturating_add(count) > limit {
        return Err(Error::forbidden(
            "Quota exceeded, too many servers in group",
        ));
    }
    Ok(Some(g))
}
