//! `/v3/regions`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::catalog::{self, Region};
use crate::validate::{self as v, Object};
use crate::{policy, Identity};

const KNOWN: &[&str] = &["id", "description", "parent_region_id", "links"];

pub fn render(r: &Region, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": r.id,
            "description": r.description,
            "parent_region_id": r.parent_region_id,
            "links": {"self": base.join(&format!("/v3/regions/{}", r.id))},
        }),
        &r.extra,
    )
}

async fn load(id: &Identity, rid: &str) -> Result<Region> {
    catalog::get_region(id.db(), rid)
        .await?
        .ok_or_else(|| Error::no_such("region", rid))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(_ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let items = catalog::list_regions(id.db())
        .await?
        .iter()
        .map(|r| render(r, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["parent_region_id", "id"]);
    Ok(collection("regions", items, &base.join("/v3/regions")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(_ctx): Ctx,
    base: BaseUrl,
    Path(rid): Path<String>,
) -> Result<Response> {
    Ok(ok(
        json!({"region": render(&load(&id, &rid).await?, &base)}),
    ))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_region")?;
    let req = v::wrapped(&body.object()?, "region")?;
    let rid =
        v::opt_strict_str(&req, "id", 255)?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    insert(&id, rid, &req, &base).await
}

pub async fn create_with_id(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(rid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_region")?;
    let req = v::wrapped(&body.object()?, "region")?;
    if req
        .get("id")
        .is_some_and(|x| x.as_str() != Some(rid.as_str()))
    {
        return Err(Error::bad_request(
            "Invalid input for field 'id': does not match the URL",
        ));
    }
    insert(&id, rid, &req, &base).await
}

async fn insert(id: &Identity, rid: String, req: &Object, base: &BaseUrl) -> Result<Response> {
    let parent = v::opt_nonempty_str(req, "parent_region_id", 255)?;
    let description = v::opt_str(req, "description", 255)?.unwrap_or_default();
    if let Some(p) = &parent {
        load(id, p).await.map_err(|_| {
            Error::bad_request(format!(
                "Invalid input for field 'parent_region_id': region {p} does not exist"
            ))
        })?;
    }
    if catalog::get_region(id.db(), &rid).await?.is_some() {
        return Err(Error::conflict(format!("Duplicate ID, {rid}.")));
    }
    let r = Region {
        id: rid,
        description,
        parent_region_id: parent,
        extra: v::extras(req, KNOWN),
    };
    catalog::create_region(id.db(), &r).await?;
    Ok(created(json!({"region": render(&r, base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(rid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_region")?;
    let req = v::wrapped_update_only(&body.object()?, "region")?;
    let mut r = load(&id, &rid).await?;
    v::immutable(&req, &["id"]).or_else(|e| {
        if req.get("id").and_then(Value::as_str) == Some(&rid) {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    if let Some(d) = v::patch_str(&req, "description", 255)? {
        r.description = d.unwrap_or_default();
    }
    if let Some(p) = v::patch_str(&req, "parent_region_id", 255)? {
        if let Some(pid) = &p {
            if *pid == r.id || ancestors(&id, pid).await?.contains(&r.id) {
                return Err(Error::bad_request(
                    "Invalid input for field 'parent_region_id': would create a cycle",
                ));
            }
            load(&id, pid).await.map_err(|_| {
                Error::bad_request(format!(
                    "Invalid input for field 'parent_region_id': region {pid} does not exist"
                ))
            })?;
        }
        r.parent_region_id = p;
    }
    r.extra.extend(v::extras(&req, KNOWN));
    catalog::update_region(id.db(), &r).await?;
    Ok(ok(json!({"region": render(&r, &base)})))
}

async fn ancestors(id: &Identity, rid: &str) -> Result<Vec<String>> {
    let all = catalog::list_regions(id.db()).await?;
    let mut out = Vec::new();
    let mut cur = all
        .iter()
        .find(|r| r.id == rid)
        .and_then(|r| r.parent_region_id.clone());
    while let Some(p) = cur {
        if out.contains(&p) {
            break;
        }
        out.push(p.clone());
        cur = all
            .iter()
            .find(|r| r.id == p)
            .and_then(|r| r.parent_region_id.clone());
    }
    Ok(out)
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(rid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_region")?;
    load(&id, &rid).await?;
    let children = catalog::list_regions(id.db())
        .await?
        .into_iter()
        .any(|r| r.parent_region_id.as_deref() == Some(rid.as_str()));
    if children {
        return Err(Error::forbidden(format!(
            "Unable to delete region {rid} because it has child regions."
        )));
    }
    catalog::delete_region(id.db(), &rid).await?;
    Ok(no_content())
}
