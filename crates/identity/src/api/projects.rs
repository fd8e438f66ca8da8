//! `/v3/projects` and project tags. A project created with `is_domain: true`
//! is a domain, reachable through both collections as upstream.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    caller_domain, collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::domains::{self, Domain};
use crate::store::new_id;
use crate::store::projects::{self, Project};
use crate::validate::{self as v, Object};
use crate::{policy, Identity};

/// The project attributes Keystone stores in columns; the rest are extras.
pub(crate) const KNOWN: &[&str] = &[
    "id",
    "name",
    "domain_id",
    "parent_id",
    "description",
    "enabled",
    "is_domain",
    "tags",
    "options",
    "links",
];

pub fn render(p: &Project, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": p.id,
            "name": p.name,
            "domain_id": p.domain_id,
            "parent_id": p.parent_id,
            "description": p.description,
            "enabled": p.enabled,
            "is_domain": false,
            "tags": p.tags,
            "options": p.options,
            "links": {"self": base.join(&format!("/v3/projects/{}", p.id))},
        }),
        &p.extra,
    )
}

/// A domain seen through `/v3/projects` (`is_domain: true`).
fn render_domain(d: &Domain, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": d.id,
            "name": d.name,
            "domain_id": null,
            "parent_id": null,
            "description": d.description,
            "enabled": d.enabled,
            "is_domain": true,
            "tags": [],
            "options": d.options,
            "links": {"self": base.join(&format!("/v3/projects/{}", d.id))},
        }),
        &d.extra,
    )
}

pub(super) async fn load(id: &Identity, project_id: &str) -> Result<Project> {
    projects::get(id.db(), project_id)
        .await?
        .ok_or_else(|| Error::no_such("project", project_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    policy::domain_reader(&ctx, "identity:list_projects", f.get("domain_id"))?;
    let keys = [
        "name",
        "domain_id",
        "enabled",
        "parent_id",
        "is_domain",
        "id",
    ];
    let tagged = ["tags", "tags-any", "not-tags", "not-tags-any"];
    if !f.touches(&keys) && !f.touches(&tagged) {
        let all = id.all_projects().await?;
        let link = |pid: &str| base.join(&format!("/v3/projects/{pid}"));
        let self_url = base.join("/v3/projects");
        return Ok(super::views::projects(all.iter(), link, self_url));
    }
    let (name, domain) = (f.get("name"), f.get("domain_id"));
    let found = if name.is_none() && domain.is_none() {
        id.all_projects().await?
    } else {
        Arc::new(projects::list_where(id.db(), name, domain).await?)
    };
    let mut items: Vec<Value> = found
        .iter()
        .filter(|p| tags_match(p, &f))
        .map(|p| render(p, &base))
        .collect();
    if f.get("is_domain")
        .is_some_and(|x| super::common::parse_bool(x) == Some(true))
    {
        items = domains::list(id.db())
            .await?
            .iter()
            .map(|d| render_domain(d, &base))
            .collect();
    }
    let items = f.apply(items, &keys);
    Ok(collection("projects", items, &base.join("/v3/projects")))
}

fn tags_match(p: &Project, f: &Filters) -> bool {
    let split = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    let has = |t: &String| p.tags.contains(t);
    f.get("tags").is_none_or(|t| split(t).iter().all(has))
        && f.get("tags-any").is_none_or(|t| split(t).iter().any(has))
        && f.get("not-tags").is_none_or(|t| !split(t).iter().all(has))
        && f.get("not-tags-any")
            .is_none_or(|t| !split(t).iter().any(has))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(pid): Path<String>,
) -> Result<Response> {
    if let Some(d) = domain_project(&id, &pid).await? {
        policy::domain_viewer(&ctx, "identity:get_project", &d.id)?;
        return Ok(ok(json!({"project": render_domain(&d, &base)})));
    }
    let p = load(&id, &pid).await;
    let domain = p.as_ref().map(|p| p.domain_id.clone()).unwrap_or_default();
    policy::project_reader(&ctx, "identity:get_project", &pid, &domain)?;
    Ok(ok(json!({"project": render(&p?, &base)})))
}

async fn domain_project(id: &Identity, pid: &str) -> Result<Option<Domain>> {
    if projects::get(id.db(), pid).await?.is_some() {
        return Ok(None);
    }
    Ok(domains::get(id.db(), pid).await?)
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_project")?;
    let req = v::wrapped_only(&body.object()?, "project")?;
    let name = v::req_str(&req, "name", 64)?;
    let description = v::opt_str(&req, "description", 65535)?.unwrap_or_default();
    let enabled = v::opt_bool(&req, "enabled")?.unwrap_or(true);
    let options = v::opt_object(&req, "options")?.unwrap_or_default();
    if v::opt_bool(&req, "is_domain")?.unwrap_or(false) {
        let d = Domain {
            id: new_id(),
            name,
            description,
            enabled,
            extra: v::extras(&req, KNOWN),
            options,
        };
        super::domains::create_domain(&id, &d).await?;
        return Ok(created(json!({"project": render_domain(&d, &base)})));
    }
    let parent = match v::opt_nonempty_str(&req, "parent_id", 64)? {
        Some(pid) => Some(resolve_parent(&id, &pid).await?),
        None => None,
    };
    let domain_id = match (v::opt_nonempty_str(&req, "domain_id", 64)?, &parent) {
        (Some(d), _) => d,
        (None, Some((_, pdom))) => pdom.clone(),
        (None, None) => caller_domain(&ctx),
    };
    super::domains::load(&id, &domain_id).await?;
    if let Some((_, pdom)) = &parent {
        if *pdom != domain_id {
            return Err(Error::bad_request(
                "Invalid input for field 'parent_id': the parent is in another domain",
            ));
        }
    }
    let p = Project {
        id: new_id(),
        name,
        parent_id: Some(parent.map(|(p, _)| p).unwrap_or_else(|| domain_id.clone())),
        domain_id,
        description,
        enabled,
        extra: v::extras(&req, KNOWN),
        options,
        tags: tag_list(&req, "tags")?.unwrap_or_default(),
    };
    if projects::get_by_name(id.db(), &p.domain_id, &p.name)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {} in domain {}",
            p.name, p.domain_id
        )));
    }
    projects::create(id.db(), &p, now_micros()).await?;
    Ok(created(json!({"project": render(&p, &base)})))
}

/// A parent given as a project id or a domain id; returns (parent id, domain).
async fn resolve_parent(id: &Identity, pid: &str) -> Result<(String, String)> {
    if let Some(p) = projects::get(id.db(), pid).await? {
        return Ok((p.id, p.domain_id));
    }
    if let Some(d) = domains::get(id.db(), pid).await? {
        return Ok((d.id.clone(), d.id));
    }
    Err(Error::no_such("project", pid))
}

fn tag_list(req: &Object, field: &str) -> Result<Option<Vec<String>>> {
    let Some(mut tags) = v::opt_str_list(req, field, 255)? else {
        return Ok(None);
    };
    for t in &tags {
        valid_tag(t)?;
    }
    if tags.len() > 80 {
        return Err(Error::bad_request(
            "Invalid input for field 'tags': at most 80 tags",
        ));
    }
    tags.sort();
    tags.dedup();
    Ok(Some(tags))
}

fn valid_tag(t: &str) -> Result<()> {
    if t.is_empty() || t.chars().count() > 255 || t.contains('/') || t.contains(',') {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'tags': {t:?} must be 1-255 characters without '/' or ','"
        )));
    }
    Ok(())
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(pid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_project")?;
    let req = v::wrapped_update_only(&body.object()?, "project")?;
    if let Some(mut d) = domain_project(&id, &pid).await? {
        if let Some(e) = v::opt_bool(&req, "enabled")? {
            d.enabled = e;
        }
        if let Some(desc) = v::patch_str(&req, "description", 65535)? {
            d.description = desc.unwrap_or_default();
        }
        domains::update(id.db(), &d).await?;
        if !d.enabled {
            id.revoke_domain(&d.id).await?;
        }
        return Ok(ok(json!({"project": render_domain(&d, &base)})));
    }
    let mut p = load(&id, &pid).await?;
    for (field, current) in [
        ("domain_id", Some(p.domain_id.clone())),
        ("parent_id", p.parent_id.clone()),
    ] {
        if let Some(val) = req.get(field) {
            if val.as_str() != current.as_deref() {
                return Err(Error::bad_request(format!(
                    "Invalid input for field '{field}': cannot be updated"
                )));
            }
        }
    }
    if v::opt_bool(&req, "is_domain")? == Some(true) {
        return Err(Error::bad_request(
            "Invalid input for field 'is_domain': cannot be updated",
        ));
    }
    let was_enabled = p.enabled;
    if req.contains_key("name") {
        let name = v::req_str(&req, "name", 64)?;
        if let Some(other) = projects::get_by_name(id.db(), &p.domain_id, &name).await? {
            if other.id != p.id {
                return Err(Error::conflict(format!(
                    "Duplicate entry found with name {name}"
                )));
            }
        }
        p.name = name;
    }
    if let Some(desc) = v::patch_str(&req, "description", 65535)? {
        p.description = desc.unwrap_or_default();
    }
    if let Some(e) = v::opt_bool(&req, "enabled")? {
        p.enabled = e;
    }
    if let Some(tags) = tag_list(&req, "tags")? {
        p.tags = tags;
    }
    if let Some(o) = v::opt_object(&req, "options")? {
        p.options.extend(o);
    }
    p.extra.extend(v::extras(&req, KNOWN));
    projects::update(id.db(), &p).await?;
    if was_enabled && !p.enabled {
        id.revoke_project(&p.id).await?;
    }
    Ok(ok(json!({"project": render(&p, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(pid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_project")?;
    if let Some(d) = domain_project(&id, &pid).await? {
        if d.enabled {
            return Err(Error::forbidden(
                "Cannot delete a domain that is enabled, please disable it first.",
            ));
        }
        domains::delete_cascade(id.db(), &d.id).await?;
        id.revoke_domain(&d.id).await?;
        return Ok(no_content());
    }
    let p = load(&id, &pid).await?;
    if projects::has_children(id.db(), &p.id).await? {
        return Err(Error::forbidden(format!(
            "Cannot delete the project {} since it is not a leaf in the hierarchy.",
            p.id
        )));
    }
    projects::delete(id.db(), &p.id).await?;
    id.revoke_project(&p.id).await?;
    Ok(no_content())
}

pub async fn list_tags(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(pid): Path<String>,
) -> Result<Response> {
    let p = load(&id, &pid).await?;
    policy::project_reader(&ctx, "identity:list_project_tags", &p.id, &p.domain_id)?;
    Ok(ok(json!({"tags": p.tags})))
}

pub async fn replace_tags(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(pid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_project_tags")?;
    let req = body.object()?;
    if let Some(k) = req.keys().find(|k| *k != "tags") {
        return Err(Error::bad_request(format!(
            "Invalid input: additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let mut p = load(&id, &pid).await?;
    p.tags = tag_list(&req, "tags")?.ok_or_else(|| {
        Error::bad_request("Invalid input for field 'tags': is a required property")
    })?;
    projects::update(id.db(), &p).await?;
    Ok(ok(json!({"tags": p.tags})))
}

pub async fn clear_tags(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(pid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_project_tags")?;
    let mut p = load(&id, &pid).await?;
    p.tags.clear();
    projects::update(id.db(), &p).await?;
    Ok(no_content())
}

pub async fn check_tag(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((pid, tag)): Path<(String, String)>,
) -> Result<Response> {
    let p = load(&id, &pid).await?;
    policy::project_reader(&ctx, "identity:get_project_tag", &p.id, &p.domain_id)?;
    if !p.tags.contains(&tag) {
        return Err(Error::no_such("project tag", &tag));
    }
    Ok(no_content())
}

pub async fn add_tag(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((pid, tag)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_project_tag")?;
    valid_tag(&tag)?;
    let mut p = load(&id, &pid).await?;
    if !p.tags.contains(&tag) {
        if p.tags.len() >= 80 {
            return Err(Error::bad_request(
                "Invalid input for field 'tags': at most 80 tags",
            ));
        }
        p.tags.push(tag.clone());
        p.tags.sort();
        projects::update(id.db(), &p).await?;
    }
    // Upstream answers 201 with an empty body (tempest relies on it).
    let mut resp = (http::StatusCode::CREATED, "").into_response();
    if let Ok(loc) = base.join(&format!("/v3/projects/{pid}/tags/{tag}")).parse() {
        resp.headers_mut().insert(http::header::LOCATION, loc);
    }
    Ok(resp)
}

pub async fn delete_tag(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((pid, tag)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_project_tag")?;
    let mut p = load(&id, &pid).await?;
    if !p.tags.contains(&tag) {
        return Err(Error::no_such("project tag", &tag));
    }
    p.tags.retain(|t| *t != tag);
    projects::update(id.db(), &p).await?;
    Ok(no_content())
}
