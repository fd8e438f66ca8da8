//! `PUT /v2.0/routers/{id}/add_router_interface` and `remove_router_interface`;
//! `PUT /v2.0/subnetpools/{id}/add_prefixes` and `remove_prefixes`.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use super::{ctx, Body, Caller};
use crate::error::Result;
use crate::logic;
use crate::NetworkService;

pub async fn add_interface(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let map = body.object()?;
    let out = svc
        .write(|st| logic::routers::add_interface(st, &ctx, &id, &map))
        .await?;
    Ok(Json(out))
}

pub async fn remove_interface(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let map = body.object()?;
    let out = svc
        .write(|st| logic::routers::remove_interface(st, &ctx, &id, &map))
        .await?;
    Ok(Json(out))
}

pub async fn add_prefixes(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let map = body.object()?;
    let out = svc
        .write(|st| logic::subnetpools::add_prefixes(st, &ctx, &id, &map))
        .await?;
    Ok(Json(out))
}

pub async fn remove_prefixes(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let map = body.object()?;
    let out = svc
        .write(|st| logic::subnetpools::remove_prefixes(st, &ctx, &id, &map))
        .await?;
    Ok(Json(out))
}
