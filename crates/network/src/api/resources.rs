//! List / show / create / update / delete for every resource collection.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::{ctx, kind_of, url_collection, Body, Caller};
use crate::error::{Error, Result};
use crate::logic::{self, validate, Ctx};
use crate::query::{self, ListQuery};
use crate::state::{Kind, Obj, State as St};
use crate::NetworkService;

/// Make sure the caller's project has its `default` security group.
pub async fn ensure_default_group(svc: &NetworkService, ctx: &Ctx) -> Result<()> {
    if ctx.project_id.is_empty() {
        return Ok(());
    }
    let exists = svc.read().await?.iter(Kind::SecurityGroup).any(|g| {
        g.get("project_id").and_then(Value::as_str) == Some(ctx.project_id.as_str())
            && g.get("_default").is_some()
    });
    if !exists {
        let pid = ctx.project_id.clone();
        svc.write(|st| logic::secgroups::ensure_default(st, &pid).map(|_| ()))
            .await?;
    }
    Ok(())
}

pub async fn list(
    State(svc): State<NetworkService>,
    caller: Caller,
    base: BaseUrl,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let kind = kind_of(&collection)?;
    let ctx = ctx(&caller);
    if kind == Kind::SecurityGroup || kind == Kind::SecurityGroupRule {
        ensure_default_group(&svc, &ctx).await?;
    }
    let q = ListQuery::parse(raw.as_deref());
    let st = svc.read().await?;
    let items: Vec<Obj> = st
        .iter(kind)
        .filter(|o| logic::visible(&st, kind, o, &ctx))
        .map(|o| logic::render(&st, kind, o, &ctx))
        .filter(|o| query::matches(o, &q))
        .collect();
    let body = query::page(
        items,
        &q,
        kind.collection(),
        url_collection(kind),
        &base.0,
        |m| {
            st.get(kind, m)
                .filter(|o| logic::visible(&st, kind, o, &ctx))
                .map(|o| logic::render(&st, kind, o, &ctx))
        },
        |m| kind.not_found(m),
    )?;
    Ok(Json(body))
}

pub async fn show(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let kind = kind_of(&collection)?;
    let id = id.strip_suffix(".json").unwrap_or(&id).to_owned();
    let ctx = ctx(&caller);
    let q = ListQuery::parse(raw.as_deref());
    let st = svc.read().await?;
    let obj = logic::fetch(&st, kind, &id, &ctx)?;
    let out = query::select(logic::render(&st, kind, obj, &ctx), &q.fields());
    Ok(Json(json!({kind.tag(): out})))
}

fn create_one(st: &mut St, kind: Kind, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    let o = match kind {
        Kind::Network => logic::networks::create(st, ctx, body)?,
        Kind::Subnet => logic::subnets::create(st, ctx, body)?,
        Kind::Port => logic::ports::create(st, ctx, body)?,
        Kind::SecurityGroup => logic::secgroups::create(st, ctx, body)?,
        Kind::SecurityGroupRule => logic::secgroups::create_rule(st, ctx, body)?,
        Kind::Router => logic::routers::create(st, ctx, body)?,
        Kind::FloatingIp => logic::floatingips::create(st, ctx, body)?,
        Kind::SubnetPool => logic::subnetpools::create_pool(st, ctx, body)?,
        Kind::AddressScope => logic::subnetpools::create_scope(st, ctx, body)?,
        Kind::Quota => return Err(Error::bad_request("Quotas are not created with POST.")),
    };
    let id = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    let stored = st.get(kind, &id).cloned().unwrap_or(o);
    Ok(logic::render(st, kind, &stored, ctx))
}

pub async fn create(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(collection): Path<String>,
    body: Body,
) -> Result<Response> {
    let kind = kind_of(&collection)?;
    let ctx = ctx(&caller);
    let map = body.object()?;
    let (items, bulk) = validate::single_or_bulk(&map, kind.tag(), kind.collection())?;
    let created = svc
        .write(|st| {
            items
                .iter()
                .map(|b| create_one(st, kind, &ctx, b))
                .collect::<Result<Vec<Obj>>>()
        })
        .await?;
    let body = if bulk {
        json!({kind.collection(): created})
    } else {
        json!({kind.tag(): created.into_iter().next()})
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn update(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Value>> {
    let kind = kind_of(&collection)?;
    let id = id.strip_suffix(".json").unwrap_or(&id).to_owned();
    let ctx = ctx(&caller);
    let map = body.object()?;
    let res = validate::resource(&map, kind.tag())?;
    let out = svc
        .write(|st| {
            let o = match kind {
                Kind::Network => logic::networks::update(st, &ctx, &id, &res)?,
                Kind::Subnet => logic::subnets::update(st, &ctx, &id, &res)?,
                Kind::Port => logic::ports::update(st, &ctx, &id, &res)?,
                Kind::SecurityGroup => logic::secgroups::update(st, &ctx, &id, &res)?,
                Kind::Router => logic::routers::update(st, &ctx, &id, &res)?,
                Kind::FloatingIp => logic::floatingips::update(st, &ctx, &id, &res)?,
                Kind::SubnetPool => logic::subnetpools::update_pool(st, &ctx, &id, &res)?,
                Kind::AddressScope => logic::subnetpools::update_scope(st, &ctx, &id, &res)?,
                _ => {
                    logic::fetch(st, kind, &id, &ctx)?;
                    return Err(Error::bad_request(format!(
                        "Resource {} cannot be updated.",
                        kind.tag()
                    )));
                }
            };
            Ok(logic::render(st, kind, &o, &ctx))
        })
        .await?;
    Ok(Json(json!({kind.tag(): out})))
}

pub async fn delete(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let kind = kind_of(&collection)?;
    let id = id.strip_suffix(".json").unwrap_or(&id).to_owned();
    let ctx = ctx(&caller);
    svc.write(|st| match kind {
        Kind::Network => logic::networks::delete(st, &ctx, &id),
        Kind::Subnet => logic::subnets::delete(st, &ctx, &id),
        Kind::Port => logic::ports::delete(st, &ctx, &id),
        Kind::SecurityGroup => logic::secgroups::delete(st, &ctx, &id),
        Kind::SecurityGroupRule => logic::secgroups::delete_rule(st, &ctx, &id),
        Kind::Router => logic::routers::delete(st, &ctx, &id),
        Kind::FloatingIp => logic::floatingips::delete(st, &ctx, &id),
        Kind::SubnetPool => logic::subnetpools::delete_pool(st, &ctx, &id),
        Kind::AddressScope => logic::subnetpools::delete_scope(st, &ctx, &id),
        Kind::Quota => Err(Error::bad_request("Use /v2.0/quotas/{project_id}.")),
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
