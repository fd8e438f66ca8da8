//! `/v3/groups` and group membership.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    caller_domain, collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::groups::{self, Group};
use crate::store::{new_id, users};
use crate::validate::{self as v};
use crate::{policy, Identity};

const KNOWN: &[&str] = &["id", "name", "domain_id", "description", "links"];

pub fn render(g: &Group, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": g.id,
            "name": g.name,
            "domain_id": g.domain_id,
            "description": g.description,
            "links": {"self": base.join(&format!("/v3/groups/{}", g.id))},
        }),
        &g.extra,
    )
}

async fn load(id: &Identity, group_id: &str) -> Result<Group> {
    groups::get(id.db(), group_id)
        .await?
        .ok_or_else(|| Error::no_such("group", group_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    policy::domain_reader(&ctx, "identity:list_groups", f.get("domain_id"))?;
    let items = groups::list(id.db())
        .await?
        .iter()
        .map(|g| render(g, &base))
        .collect();
    let items = f.apply(items, &["name", "domain_id", "id"]);
    Ok(collection("groups", items, &base.join("/v3/groups")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(gid): Path<String>,
) -> Result<Response> {
    let g = load(&id, &gid).await;
    let domain = g.as_ref().ok().map(|g| g.domain_id.clone());
    policy::domain_reader(&ctx, "identity:get_group", domain.as_deref())?;
    Ok(ok(json!({"group": render(&g?, &base)})))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_group")?;
    let req = v::wrapped_only(&body.object()?, "group")?;
    let g = Group {
        id: new_id(),
        name: v::req_str(&req, "name", 64)?,
        domain_id: v::opt_nonempty_str(&req, "domain_id", 64)?
            .unwrap_or_else(|| caller_domain(&ctx)),
        description: v::opt_str(&req, "description", 65535)?.unwrap_or_default(),
        extra: v::extras(&req, KNOWN),
    };
    super::domains::load(&id, &g.domain_id).await?;
    if groups::get_by_name(id.db(), &g.domain_id, &g.name)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {}",
            g.name
        )));
    }
    groups::create(id.db(), &g, now_micros()).await?;
    Ok(created(json!({"group": render(&g, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(gid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_group")?;
    let req = v::wrapped_update_only(&body.object()?, "group")?;
    let mut g = load(&id, &gid).await?;
    for (field, current) in [("id", &g.id), ("domain_id", &g.domain_id)] {
        if let Some(val) = req.get(field) {
            if val.as_str() != Some(current.as_str()) {
                return Err(Error::bad_request(format!(
                    "Invalid input for field '{field}': cannot be updated"
                )));
            }
        }
    }
    if req.contains_key("name") {
        let name = v::req_str(&req, "name", 64)?;
        if let Some(other) = groups::get_by_name(id.db(), &g.domain_id, &name).await? {
            if other.id != g.id {
                return Err(Error::conflict(format!(
                    "Duplicate entry found with name {name}"
                )));
            }
        }
        g.name = name;
    }
    if let Some(d) = v::patch_str(&req, "description", 65535)? {
        g.description = d.unwrap_or_default();
    }
    g.extra.extend(v::extras(&req, KNOWN));
    groups::update(id.db(), &g).await?;
    Ok(ok(json!({"group": render(&g, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(gid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_group")?;
    load(&id, &gid).await?;
    groups::delete(id.db(), &gid).await?;
    Ok(no_content())
}

pub async fn members(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(gid): Path<String>,
    q: QueryParams,
) -> Result<Response> {
    let g = load(&id, &gid).await?;
    policy::domain_reader(&ctx, "identity:list_users_in_group", Some(&g.domain_id))?;
    let items = users::list_in_group(id.db(), &gid)
        .await?
        .iter()
        .map(|u| super::users::render(&id, u, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["name", "domain_id", "enabled"]);
    Ok(collection(
        "users",
        items,
        &base.join(&format!("/v3/groups/{gid}/users")),
    ))
}

async fn both(id: &Identity, gid: &str, uid: &str) -> Result<()> {
    load(id, gid).await?;
    super::users::load(id, uid).await?;
    Ok(())
}

pub async fn add_member(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((gid, uid)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:add_user_to_group")?;
    both(&id, &gid, &uid).await?;
    groups::add_member(id.db(), &gid, &uid).await?;
    Ok(no_content())
}

pub async fn check_member(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((gid, uid)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:check_user_in_group", &uid)?;
    both(&id, &gid, &uid).await?;
    if !groups::is_member(id.db(), &gid, &uid).await? {
        return Err(Error::not_found(format!(
            "User {uid} is not a member of group {gid}."
        )));
    }
    Ok(no_content())
}

pub async fn remove_member(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((gid, uid)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:remove_user_from_group")?;
    both(&id, &gid, &uid).await?;
    if !groups::remove_member(id.db(), &gid, &uid).await? {
        return Err(Error::not_found(format!(
            "User {uid} is not a member of group {gid}."
        )));
    }
    Ok(no_content())
}
