//! `/v3/endpoints`. The legacy `region` attribute is accepted and, as
//! upstream, creates the region when it does not exist.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::catalog::{self, Endpoint, Region};
use crate::store::new_id;
use crate::validate::{self as v, Object};
use crate::{policy, Identity};

const KNOWN: &[&str] = &[
    "id",
    "service_id",
    "interface",
    "region",
    "region_id",
    "url",
    "enabled",
    "links",
];
const INTERFACES: &[&str] = &["public", "internal", "admin"];

pub fn render(e: &Endpoint, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": e.id,
            "service_id": e.service_id,
            "interface": e.interface,
            "region": e.region_id,
            "region_id": e.region_id,
            "url": e.url,
            "enabled": e.enabled,
            "links": {"self": base.join(&format!("/v3/endpoints/{}", e.id))},
        }),
        &e.extra,
    )
}

async fn load(id: &Identity, eid: &str) -> Result<Endpoint> {
    catalog::get_endpoint(id.db(), eid)
        .await?
        .ok_or_else(|| Error::no_such("endpoint", eid))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_endpoints")?;
    let items = catalog::list_endpoints(id.db())
        .await?
        .iter()
        .map(|e| render(e, &base))
        .collect();
    let items = Filters::new(&q).apply(
        items,
        &["interface", "service_id", "region_id", "enabled", "id"],
    );
    Ok(collection("endpoints", items, &base.join("/v3/endpoints")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(eid): Path<String>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:get_endpoint")?;
    Ok(ok(
        json!({"endpoint": render(&load(&id, &eid).await?, &base)}),
    ))
}

fn interface(req: &Object) -> Result<String> {
    let i = v::req_str(req, "interface", 10)?;
    if !INTERFACES.contains(&i.as_str()) {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'interface': {i:?} is not one of public, internal, admin"
        )));
    }
    Ok(i)
}

fn url(req: &Object) -> Result<String> {
    let u = v::req_str(req, "url", 225)?;
    if !(u.contains("://") || u.starts_with('$')) {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'url': {u:?} is not a URL"
        )));
    }
    Ok(u)
}

async fn service_exists(id: &Identity, sid: &str) -> Result<()> {
    if catalog::get_service(id.db(), sid).await?.is_none() {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'service_id': service {sid} does not exist"
        )));
    }
    Ok(())
}

/// `region_id`, or the legacy `region` (created when missing).
async fn region(id: &Identity, req: &Object) -> Result<Option<Option<String>>> {
    if let Some(r) = v::patch_str(req, "region_id", 255)? {
        if let Some(rid) = &r {
            if catalog::get_region(id.db(), rid).await?.is_none() {
                return Err(Error::bad_request(format!(
                    "Invalid input for field 'region_id': region {rid} does not exist"
                )));
            }
        }
        return Ok(Some(r));
    }
    if let Some(r) = v::patch_str(req, "region", 255)? {
        if let Some(rid) = &r {
            if catalog::get_region(id.db(), rid).await?.is_none() {
                let region = Region {
                    id: rid.clone(),
                    description: String::new(),
                    parent_region_id: None,
                    extra: Default::default(),
                };
                catalog::create_region(id.db(), &region).await?;
            }
        }
        return Ok(Some(r));
    }
    Ok(None)
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_endpoint")?;
    let req = v::wrapped_only(&body.object()?, "endpoint")?;
    let service_id = v::req_str(&req, "service_id", 64)?;
    let e = Endpoint {
        id: new_id(),
        interface: interface(&req)?,
        url: url(&req)?,
        enabled: v::opt_bool(&req, "enabled")?.unwrap_or(true),
        extra: v::extras(&req, KNOWN),
        region_id: None,
        service_id,
    };
    service_exists(&id, &e.service_id).await?;
    let e = Endpoint {
        region_id: region(&id, &req).await?.flatten(),
        ..e
    };
    catalog::create_endpoint(id.db(), &e).await?;
    Ok(created(json!({"endpoint": render(&e, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(eid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_endpoint")?;
    let req = v::wrapped_update_only(&body.object()?, "endpoint")?;
    let mut e = load(&id, &eid).await?;
    if req
        .get("id")
        .is_some_and(|x| x.as_str() != Some(eid.as_str()))
    {
        return Err(Error::bad_request(
            "Invalid input for field 'id': cannot be updated",
        ));
    }
    let enabled = v::opt_bool(&req, "enabled")?;
    if req.contains_key("interface") {
        e.interface = interface(&req)?;
    }
    if req.contains_key("url") {
        e.url = url(&req)?;
    }
    if req.contains_key("service_id") {
        let sid = v::req_str(&req, "service_id", 64)?;
        service_exists(&id, &sid).await?;
        e.service_id = sid;
    }
    if let Some(r) = region(&id, &req).await? {
        e.region_id = r;
    }
    if let Some(en) = enabled {
        e.enabled = en;
    }
    e.extra.extend(v::extras(&req, KNOWN));
    catalog::update_endpoint(id.db(), &e).await?;
    Ok(ok(json!({"endpoint": render(&e, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(eid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_endpoint")?;
    load(&id, &eid).await?;
    catalog::delete_endpoint(id.db(), &eid).await?;
    Ok(no_content())
}
