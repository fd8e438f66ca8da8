//! `/v3/domains`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::domains::{self, Domain};
use crate::store::new_id;
use crate::validate::{self as v, Object};
use crate::{policy, Identity};

const KNOWN: &[&str] = &[
    "id",
    "name",
    "description",
    "enabled",
    "options",
    "tags",
    "links",
    "explicit_domain_id",
];

pub fn render(d: &Domain, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "enabled": d.enabled,
            "options": d.options,
            "tags": [],
            "links": {"self": base.join(&format!("/v3/domains/{}", d.id))},
        }),
        &d.extra,
    )
}

pub(super) async fn load(id: &Identity, domain_id: &str) -> Result<Domain> {
    domains::get(id.db(), domain_id)
        .await?
        .ok_or_else(|| Error::no_such("domain", domain_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_domains")?;
    let items = domains::list(id.db())
        .await?
        .iter()
        .map(|d| render(d, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["name", "enabled", "id"]);
    Ok(collection("domains", items, &base.join("/v3/domains")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(domain_id): Path<String>,
) -> Result<Response> {
    policy::domain_viewer(&ctx, "identity:get_domain", &domain_id)?;
    let d = load(&id, &domain_id).await?;
    Ok(ok(json!({"domain": render(&d, &base)})))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_domain")?;
    let req = v::wrapped_only(&body.object()?, "domain")?;
    let d = Domain {
        id: v::opt_nonempty_str(&req, "id", 64)?.unwrap_or_else(new_id),
        name: v::req_str(&req, "name", 64)?,
        description: v::opt_str(&req, "description", 65535)?.unwrap_or_default(),
        enabled: v::opt_bool(&req, "enabled")?.unwrap_or(true),
        extra: v::extras(&req, KNOWN),
        options: v::opt_object(&req, "options")?.unwrap_or_default(),
    };
    create_domain(&id, &d).await?;
    Ok(created(json!({"domain": render(&d, &base)})))
}

/// Insert a domain, refusing a duplicate name or id with 409.
pub(super) async fn create_domain(id: &Identity, d: &Domain) -> Result<()> {
    if domains::get_by_name(id.db(), &d.name).await?.is_some()
        || domains::get(id.db(), &d.id).await?.is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {}",
            d.name
        )));
    }
    domains::create(id.db(), d, now_micros()).await?;
    Ok(())
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(domain_id): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_domain")?;
    let req = v::wrapped_update_only(&body.object()?, "domain")?;
    let mut d = load(&id, &domain_id).await?;
    let was_enabled = d.enabled;
    apply_update(&mut d, &req)?;
    if let Some(other) = domains::get_by_name(id.db(), &d.name).await? {
        if other.id != d.id {
            return Err(Error::conflict(format!(
                "Duplicate entry found with name {}",
                d.name
            )));
        }
    }
    domains::update(id.db(), &d).await?;
    if was_enabled && !d.enabled {
        id.revoke_domain(&d.id).await?;
    }
    Ok(ok(json!({"domain": render(&d, &base)})))
}

fn apply_update(d: &mut Domain, req: &Object) -> Result<()> {
    if let Some(i) = req.get("id") {
        if i.as_str() != Some(d.id.as_str()) {
            return Err(Error::bad_request(
                "Invalid input for field 'id': cannot be updated",
            ));
        }
    }
    if req.contains_key("name") {
        d.name = v::req_str(req, "name", 64)?;
    }
    if let Some(desc) = v::patch_str(req, "description", 65535)? {
        d.description = desc.unwrap_or_default();
    }
    if let Some(e) = v::opt_bool(req, "enabled")? {
        d.enabled = e;
    }
    if let Some(o) = v::opt_object(req, "options")? {
        d.options.extend(o);
    }
    d.extra.extend(v::extras(req, KNOWN));
    Ok(())
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(domain_id): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_domain")?;
    let d = load(&id, &domain_id).await?;
    if d.enabled {
        return Err(Error::forbidden(
            "Cannot delete a domain that is enabled, please disable it first.",
        ));
    }
    if d.id == "default" {
        return Err(Error::forbidden("The default domain cannot be deleted."));
    }
    domains::delete_cascade(id.db(), &d.id).await?;
    id.revoke_domain(&d.id).await?;
    Ok(no_content())
}
