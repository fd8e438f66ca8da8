//! The `PUT` actions on one object: `/v2.0/routers/{id}/add_router_interface`
//! and `remove_router_interface`; `/v2.0/subnetpools/{id}/add_prefixes` and
//! `remove_prefixes`.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use super::{ctx, Body, Caller};
use crate::error::Result;
use crate::logic::{self, Ctx};
use crate::state::{Obj, State as NetState};
use crate::NetworkService;

type Action = fn(&mut NetState, &Ctx, &str, &Obj) -> Result<Value>;

/// Run `action` on object `id` with the request body, in one write.
async fn run(
    svc: NetworkService,
    caller: Caller,
    id: String,
    body: Body,
    action: Action,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let map = body.object()?;
    let out = svc.write(|st| action(st, &ctx, &id, &map)).await?;
    Ok(Json(out))
}

pub async fn add_interface(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    run(svc, caller, id, body, logic::routers::add_interface).await
}

pub async fn remove_interface(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    run(svc, caller, id, body, logic::routers::remove_interface).await
}

pub async fn add_prefixes(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    run(svc, caller, id, body, logic::subnetpools::add_prefixes).await
}

pub async fn remove_prefixes(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    run(svc, caller, id, body, logic::subnetpools::remove_prefixes).await
}
