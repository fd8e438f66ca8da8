//! `os-volumes` and `os-snapshots`: Cinder volumes and snapshots in Nova's
//! camel-case view (`displayName`, `availabilityZone`, `attachments` with
//! `serverId`/`device`, `[{}]` when unattached).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use ferro_api::loopback::RestRequest;
use ferro_api::request_id::TrailingSlash;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::{blank_id, call, call_ok, enc, limited, proxy_gone, section};
use crate::api::common::{accepted_empty, ok, project_of, Body, Caller, QueryParams};
use crate::api::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

fn base(c: &Caller) -> Result<String> {
    Ok(format!("/volume/v3/{}", enc(&project_of(c)?)))
}

fn volume_view(v: &Value) -> Value {
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let attachments: Vec<Value> = v
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            let mut m = Map::new();
            m.insert("id".into(), id.clone());
            m.insert("volumeId".into(), id.clone());
            if let Some(s) = a.get("server_id").filter(|s| !s.is_null()) {
                m.insert("serverId".into(), s.clone());
            }
            if let Some(d) = a.get("device").filter(|d| !d.is_null()) {
                m.insert("device".into(), d.clone());
            }
            Value::Object(m)
        })
        .collect();
    let attachments = if attachments.is_empty() {
        vec![json!({})]
    } else {
        attachments
    };
    json!({
        "id": id,
        "status": v.get("status"),
        "size": v.get("size"),
        "availabilityZone": v.get("availability_zone"),
        "createdAt": v.get("created_at"),
        "displayName": v.get("name"),
        "displayDescription": v.get("description"),
        "volumeType": v.get("volume_type"),
        "snapshotId": v.get("snapshot_id"),
        "metadata": v.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "attachments": attachments,
    })
}

fn snapshot_view(s: &Value) -> Value {
    json!({
        "id": s.get("id"),
        "volumeId": s.get("volume_id"),
        "status": s.get("status"),
        "size": s.get("size"),
        "createdAt": s.get("created_at"),
        "displayName": s.get("name"),
        "displayDescription": s.get("description"),
    })
}

/// One Cinder object (`kind` = volumes/snapshots), Nova's 404 otherwise.
async fn one(svc: &ComputeService, c: &Caller, kind: &str, id: &str) -> Result<Value> {
    let r = call(
        svc,
        c,
        RestRequest::get(format!("{}/{kind}/{}", base(c)?, enc(id))),
    )
    .await?;
    if r.status == StatusCode::NOT_FOUND {
        let what = if kind == "volumes" {
            "Volume"
        } else {
            "Snapshot"
        };
        return Err(Error::not_found(format!("{what} {id} could not be found.")));
    }
    let key = if kind == "volumes" {
        "volume"
    } else {
        "snapshot"
    };
    Ok(r.ok()?.get(key).cloned().unwrap_or(Value::Null))
}

async fn all(svc: &ComputeService, c: &Caller, kind: &str) -> Result<Vec<Value>> {
    let body = call_ok(
        svc,
        c,
        RestRequest::get(format!("{}/{kind}/detail", base(c)?)),
    )
    .await?;
    Ok(body
        .get(kind)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

pub async fn list_volumes(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    proxy_gone(v)?;
    blank_id(slash.is_some(), "Volume")?;
    let items: Vec<Value> = all(&svc, &c, "volumes")
        .await?
        .iter()
        .map(volume_view)
        .collect();
    Ok(ok(json!({ "volumes": limited(items, &q)? })))
}

/// `DELETE /os-volumes/`: no id (404); the collection has no DELETE (405).
pub async fn delete_blank(
    v: ApiVersion,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    proxy_gone(v)?;
    blank_id(slash.is_some(), "Volume")?;
    Err(Error::Common(ferro_api::CommonError::MethodNotAllowed(
        "The method is not allowed for this resource.".into(),
    )))
}

pub async fn show_volume(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let vol = one(&svc, &c, "volumes", last(&p)).await?;
    Ok(ok(json!({ "volume": volume_view(&vol) })))
}

/// A string field of a create body (null/absent = none).
fn text(m: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 255 => Ok(Some(s.clone())),
        Some(other) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {other}. Expected a string of at most 255 characters"
        ))),
    }
}

pub async fn create_volume(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let body = body.object()?;
    let vol = section(&body, "volume")?;
    let size = match vol.get("size") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|n| *n >= 1)
    .ok_or_else(|| {
        Error::bad_request(format!(
            "Invalid input for field/attribute size. Value: {}. Expected a positive integer",
            vol.get("size").cloned().unwrap_or(Value::Null)
        ))
    })?;
    let mut req = Map::new();
    req.insert("size".into(), json!(size));
    for (nova, cinder) in [
        ("display_name", "name"),
        ("display_description", "description"),
        ("volume_type", "volume_type"),
        ("availability_zone", "availability_zone"),
        ("snapshot_id", "snapshot_id"),
        ("imageRef", "imageRef"),
    ] {
        if let Some(s) = text(vol, nova)? {
            req.insert(cinder.into(), json!(s));
        }
    }
    match vol.get("metadata") {
        None | Some(Value::Null) => {}
        Some(m @ Value::Object(_)) => {
            req.insert("metadata".into(), m.clone());
        }
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute metadata. Value: {other}. Expected an object"
            )))
        }
    }
    let r = call(
        &svc,
        &c,
        RestRequest::new(Method::POST, format!("{}/volumes", base(&c)?))
            .json(json!({ "volume": req })),
    )
    .await?;
    if r.status == StatusCode::PAYLOAD_TOO_LARGE {
        return Err(Error::forbidden(r.message()));
    }
    let created = r.ok()?;
    let vol = created.get("volume").cloned().unwrap_or(Value::Null);
    Ok(ok(json!({ "volume": volume_view(&vol) })))
}

async fn delete_kind(svc: &ComputeService, c: &Caller, kind: &str, id: &str) -> Result<Response> {
    one(svc, c, kind, id).await?;
    let r = call(
        svc,
        c,
        RestRequest::new(Method::DELETE, format!("{}/{kind}/{}", base(c)?, enc(id))),
    )
    .await?;
    r.ok()?;
    Ok(accepted_empty())
}

pub async fn delete_volume(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    delete_kind(&svc, &c, "volumes", last(&p)).await
}

pub async fn list_snapshots(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    proxy_gone(v)?;
    blank_id(slash.is_some(), "Snapshot")?;
    let items: Vec<Value> = all(&svc, &c, "snapshots")
        .await?
        .iter()
        .map(snapshot_view)
        .collect();
    Ok(ok(json!({ "snapshots": limited(items, &q)? })))
}

pub async fn show_snapshot(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let s = one(&svc, &c, "snapshots", last(&p)).await?;
    Ok(ok(json!({ "snapshot": snapshot_view(&s) })))
}

pub async fn create_snapshot(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let body = body.object()?;
    let snap = section(&body, "snapshot")?;
    let volume_id =
        match snap.get("volume_id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Error::bad_request(
                "Invalid input for field/attribute volume_id. 'volume_id' is a required property",
            )),
        };
    let force = match snap.get("force") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => true,
            "false" | "0" | "no" | "off" | "f" | "n" => false,
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute force. Value: {s}. Expected a boolean"
                )))
            }
        },
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute force. Value: {other}. Expected a boolean"
            )))
        }
    };
    let mut req = Map::new();
    req.insert("volume_id".into(), json!(volume_id));
    req.insert("force".into(), json!(force));
    if let Some(s) = text(snap, "display_name")? {
        req.insert("name".into(), json!(s));
    }
    if let Some(s) = text(snap, "display_description")? {
        req.insert("description".into(), json!(s));
    }
    let created = call_ok(
        &svc,
        &c,
        RestRequest::new(Method::POST, format!("{}/snapshots", base(&c)?))
            .json(json!({ "snapshot": req })),
    )
    .await?;
    let s = created.get("snapshot").cloned().unwrap_or(Value::Null);
    Ok(ok(json!({ "snapshot": snapshot_view(&s) })))
}

pub async fn delete_snapshot(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    delete_kind(&svc, &c, "snapshots", last(&p)).await
}
