//! Read-only informational routes: `resource_filters` (3.33) and the user
//! messages API (3.3; nothing here ever records an asynchronous error
//! message, so the list is empty and every id is unknown).

use axum::response::Response;
use serde_json::{json, Value};

use super::common::{ok, Ctx};
use super::filters::RESOURCE_FILTERS;
use crate::error::{Error, Result};

pub async fn resource_filters(ctx: Ctx) -> Result<Response> {
    ctx.require_version(33)?;
    let want = ctx.q("resource");
    let list: Vec<Value> = RESOURCE_FILTERS
        .iter()
        .filter(|(r, _)| want.is_none_or(|w| w == *r))
        .map(|(r, f)| json!({"resource": r, "filters": f}))
        .collect();
    Ok(ok(json!({ "resource_filters": list })))
}

pub async fn messages(ctx: Ctx) -> Result<Response> {
    ctx.require_version(3)?;
    Ok(ok(json!({"messages": []})))
}

pub async fn message(ctx: Ctx) -> Result<Response> {
    ctx.require_version(3)?;
    Err(Error::not_found(format!(
        "Message {} could not be found.",
        ctx.param("message_id")
    )))
}
