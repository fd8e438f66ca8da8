//! `/os-server-groups` as at microversion 2.1 (`policies` list, `members`,
//! `metadata`), and the `group` scheduler hint of server create.

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
use crate::error::{Error, Result};
use crate::quota;
use crate::store::server_groups::{self, ServerGroup};
use crate::ComputeService;

/// The policies microversion 2.1 accepts (the soft ones need 2.15).
const POLICIES: &[&str] = &["anti-affinity", "affinity"];

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Instance group {id} could not be found."))
}

async fn render(svc: &ComputeService, g: &ServerGroup) -> Result<Value> {
    Ok(json!({
        "id": g.id,
        "name": g.name,
        "policies": [g.policy],
        "members": server_groups::members(svc.db(), &g.id).await?,
        "metadata": {},
    }))
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

fn group_policy(o: &Map<String, Value>) -> Result<String> {
    let list = match o.get("policies") {
        None => return Err(invalid("policies", "'policies' is a required property")),
        Some(Value::Array(l)) => l,
        Some(v) => {
            return Err(invalid(
                "policies",
                &format!("Value: {v}. {v} is not of type 'array'"),
            ))
        }
    };
    match list.as_slice() {
        [Value::String(p)] if POLICIES.contains(&p.as_str()) => Ok(p.clone()),
        [v] => Err(invalid(
            "policies",
            &format!("Value: {v}. {v} is not one of {POLICIES:?}"),
        )),
        _ => Err(invalid("policies", "Value: must hold exactly one policy")),
    }
}

pub async fn create_group(
    State(svc): State<ComputeService>,
    c: Caller,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let project = project_of(&c)?;
    let o = wrapped(&body.object()?, "server_group")?;
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "policies"].contains(&k.as_str()))
    {
        return Err(invalid(
            "server_group",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let name = group_name(&o)?;
    let policy = group_policy(&o)?;
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
        created_at: now_micros(),
    };
    server_groups::create(svc.db(), &g).await?;
    Ok(ok(json!({ "server_group": render(&svc, &g).await? })))
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
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    let all = query_get(&q, "all_projects").is_some_and(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    });
    let limit = non_negative(&q, "limit")?;
    let offset = non_negative(&q, "offset")?.unwrap_or(0);
    let project = if all && c.is_admin() {
        None
    } else {
        Some(project_of(&c)?)
    };
    let groups = server_groups::list(svc.db(), project.as_deref()).await?;
    let mut items = Vec::new();
    for g in groups
        .iter()
        .skip(offset)
        .take(limit.unwrap_or(1000).min(1000))
    {
        items.push(render(&svc, g).await?);
    }
    Ok(ok(json!({ "server_groups": items })))
}

pub async fn show_group(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let g = load(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "server_group": render(&svc, &g).await? })))
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
