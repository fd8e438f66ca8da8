//! Informational routes: `resource_filters` (3.33) and user messages (3.3;
//! recorded when the scheduler finds no backend for a volume).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::common::{list_opts, ok, paginate, ts, valid_id, Ctx};
use super::filters::{self, Attr, RESOURCE_FILTERS};
use crate::error::{Error, Result};
use crate::store::messages::{self as store, Message};
use crate::VolumeService;

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

fn render(ctx: &Ctx, m: &Message) -> Value {
    json!({
        "id": m.id,
        "message_level": m.message_level,
        "event_id": m.event_id,
        "user_message": m.user_message,
        "resource_type": m.resource_type,
        "resource_uuid": m.resource_uuid,
        "request_id": m.request_id,
        "created_at": ts(m.created_at),
        "guaranteed_until": ts(m.expires_at),
        "links": ctx.links("messages", &m.id),
    })
}

fn attr<'a>(m: &'a Message, key: &str) -> Attr<'a> {
    match key {
        "resource_uuid" => Attr::Str(m.resource_uuid.as_deref()),
        "resource_type" => Attr::Str(Some(&m.resource_type)),
        "event_id" => Attr::Str(Some(&m.event_id)),
        "request_id" => Attr::Str(Some(&m.request_id)),
        "message_level" => Attr::Str(Some(&m.message_level)),
        "id" => Attr::Str(Some(&m.id)),
        _ => Attr::Unknown,
    }
}

fn sort_value(m: &Message, key: &str) -> Value {
    match key {
        "id" => json!(m.id),
        "created_at" => json!(m.created_at),
        "event_id" => json!(m.event_id),
        "resource_uuid" => json!(m.resource_uuid),
        _ => Value::Null,
    }
}

pub async fn messages(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(3)?;
    let opts = list_opts(&ctx, &["id", "created_at", "event_id", "resource_uuid"])?;
    let scope = if ctx.is_admin() {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let legacy = [
        "resource_uuid",
        "resource_type",
        "event_id",
        "request_id",
        "message_level",
    ];
    let fs = filters::parse(&ctx, "message", &legacy, &[])?;
    let list = filters::apply(store::list(svc.db(), scope).await?, &fs, false, attr)?;
    // 3.5: paging; before, the whole list
    let (page, _more) = if ctx.at(5) {
        paginate(list, &opts, |m| m.id.as_str(), sort_value, "messages")?
    } else {
        (list, false)
    };
    let items: Vec<Value> = page.iter().map(|m| render(&ctx, m)).collect();
    Ok(ok(json!({ "messages": items })))
}

async fn visible(svc: &VolumeService, ctx: &Ctx) -> Result<Message> {
    let id = ctx.param("message_id");
    let missing = || Error::not_found(format!("Message {id} could not be found."));
    if !valid_id(id) {
        return Err(missing());
    }
    match store::get(svc.db(), id).await? {
        Some(m) if ctx.sees(&m.project_id) => Ok(m),
        _ => Err(missing()),
    }
}

pub async fn message(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(3)?;
    let m = visible(&svc, &ctx).await?;
    Ok(ok(json!({"message": render(&ctx, &m)})))
}

pub async fn delete_message(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(3)?;
    ctx.require_write()?;
    let m = visible(&svc, &ctx).await?;
    store::delete(svc.db(), &m.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
