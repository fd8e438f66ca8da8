//! `/v3/services`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::catalog::{self, Service};
use crate::store::new_id;
use crate::validate::{self as v};
use crate::{policy, Identity};

const KNOWN: &[&str] = &["id", "type", "enabled", "links"];

pub fn render(s: &Service, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": s.id,
            "type": s.kind,
            "enabled": s.enabled,
            "links": {"self": base.join(&format!("/v3/services/{}", s.id))},
        }),
        &s.extra,
    )
}

async fn load(id: &Identity, sid: &str) -> Result<Service> {
    catalog::get_service(id.db(), sid)
        .await?
        .ok_or_else(|| Error::no_such("service", sid))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_services")?;
    let items = catalog::list_services(id.db())
        .await?
        .iter()
        .map(|s| render(s, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["type", "name", "enabled", "id"]);
    Ok(collection("services", items, &base.join("/v3/services")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(sid): Path<String>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:get_service")?;
    Ok(ok(
        json!({"service": render(&load(&id, &sid).await?, &base)}),
    ))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_service")?;
    let req = v::wrapped(&body.object()?, "service")?;
    v::opt_strict_str(&req, "name", 255)?;
    v::opt_str(&req, "description", 65535)?;
    let s = Service {
        id: new_id(),
        kind: v::req_str(&req, "type", 255)?,
        enabled: v::opt_bool(&req, "enabled")?.unwrap_or(true),
        extra: v::extras(&req, KNOWN),
    };
    catalog::create_service(id.db(), &s).await?;
    Ok(created(json!({"service": render(&s, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(sid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_service")?;
    let req = v::wrapped_update(&body.object()?, "service")?;
    let mut s = load(&id, &sid).await?;
    if req
        .get("id")
        .is_some_and(|x| x.as_str() != Some(sid.as_str()))
    {
        return Err(Error::bad_request(
            "Invalid input for field 'id': cannot be updated",
        ));
    }
    v::opt_strict_str(&req, "name", 255)?;
    v::opt_str(&req, "description", 65535)?;
    if req.contains_key("type") {
        s.kind = v::req_str(&req, "type", 255)?;
    }
    if let Some(e) = v::opt_bool(&req, "enabled")? {
        s.enabled = e;
    }
    s.extra.extend(v::extras(&req, KNOWN));
    catalog::update_service(id.db(), &s).await?;
    Ok(ok(json!({"service": render(&s, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(sid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_service")?;
    load(&id, &sid).await?;
    catalog::delete_service(id.db(), &sid).await?;
    Ok(no_content())
}
