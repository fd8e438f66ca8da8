//! `POST /os-server-external-events`: what Neutron and Cinder tell Nova
//! about servers (`network-vif-plugged`, `volume-extended`, ...). Only
//! service users (the `service` role, or admins) may send them. Each event
//! is answered per server: 200 taken, 404 unknown server, 422 a server not
//! on a host yet; the whole request is 404 when no event names a known
//! server, 207 when only some do.

use axum::extract::State;
use axum::response::Response;
use ferro_api::error::json_response;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::common::{Body, Caller};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::instances;
use crate::ComputeService;

/// The event names Nova accepts, and the microversion each came with.
const NAMES: &[(&str, u32)] = &[
    ("network-changed", 0),
    ("network-vif-plugged", 0),
    ("network-vif-unplugged", 0),
    ("network-vif-deleted", 0),
    ("volume-extended", 51),
    ("power-update", 76),
    ("accelerator-request-bound", 82),
    ("volume-reimaged", 93),
];

fn invalid(why: String) -> Error {
    Error::bad_request(format!("Invalid input for field/attribute events. {why}"))
}

/// One event, checked as Nova's request schema does.
fn checked(e: &Value, v: ApiVersion) -> Result<Map<String, Value>> {
    let Value::Object(m) = e else {
        return Err(invalid(format!("Value: {e}. {e} is not of type 'object'")));
    };
    for k in m.keys() {
        if !["name", "server_uuid", "status", "tag"].contains(&k.as_str()) {
            return Err(invalid(format!(
                "Additional properties are not allowed ('{k}' was unexpected)"
            )));
        }
    }
    let name = match m.get("name") {
        Some(Value::String(n)) => n.as_str(),
        _ => return Err(invalid("'name' is a required property".into())),
    };
    if !NAMES
        .iter()
        .any(|(n, minor)| *n == name && v.at_least(2, *minor))
    {
        return Err(invalid(format!("Value: {name}. Not a known event name")));
    }
    match m.get("server_uuid") {
        Some(Value::String(u)) if uuid::Uuid::parse_str(u).is_ok() => {}
        Some(other) => {
            return Err(invalid(format!(
                "Value: {other}. server_uuid is not a 'uuid'"
            )))
        }
        None => return Err(invalid("'server_uuid' is a required property".into())),
    }
    match m.get("status") {
        None => {}
        Some(Value::String(s)) if ["failed", "completed", "in-progress"].contains(&s.as_str()) => {}
        Some(other) => return Err(invalid(format!("Value: {other}. Not a known status"))),
    }
    match m.get("tag") {
        None => {}
        Some(Value::String(t)) if t.chars().count() <= 255 => {}
        Some(Value::String(_)) => return Err(invalid("tag is longer than 255 characters".into())),
        Some(other) => return Err(invalid(format!("Value: {other}. tag is not a string"))),
    }
    Ok(m.clone())
}

pub async fn create(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    if !(c.has_role("service") || c.is_admin()) {
        return Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-server-external-events:create to be performed.",
        ));
    }
    let body = body.object()?;
    if let Some(k) = body.keys().find(|k| *k != "events") {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute body. Additional properties are not allowed \
             ('{k}' was unexpected)"
        )));
    }
    let events = match body.get("events") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(Value::Array(_)) => return Err(invalid("[] is too short".into())),
        _ => return Err(invalid("'events' is a required property".into())),
    };
    let mut out = Vec::new();
    let mut accepted = 0;
    for e in &events {
        let mut m = checked(e, v)?;
        let server = m
            .get("server_uuid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let found = instances::get(svc.db(), &server).await?;
        let (code, status) = match found {
            None => (404, "failed"),
            Some(i) if i.host.is_none() => (422, "failed"),
            Some(_) => {
                accepted += 1;
                (
                    200,
                    m.get("status")
                        .and_then(Value::as_str)
                        .unwrap_or("completed"),
                )
            }
        };
        let status = status.to_owned();
        m.insert("status".into(), json!(status));
        m.insert("code".into(), json!(code));
        out.push(Value::Object(m));
    }
    if accepted == 0 {
        return Err(Error::not_found("No instances found for any event"));
    }
    let status = if accepted == events.len() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok(json_response(status, &json!({ "events": out })))
}
