//! `/v3/{project_id}/os-services` (admin): the scheduler and the one volume
//! service; `PUT /os-services/{enable|disable|disable-log-reason|freeze|
//! thaw}`. A disabled or frozen volume service takes no new volumes (they
//! fail as when no backend is found).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{ok, ts, Body, Ctx};
use super::validate;
use crate::error::{Error, Result};
use crate::store::services::{self as store, State as SvcState};
use crate::VolumeService;

/// (binary, host)
pub const SERVICES: &[(&str, &str)] = &[
    ("cinder-scheduler", "ferrostack"),
    ("cinder-volume", "ferrostack@qcow2"),
];

/// Whether the volume service may take new volumes.
pub async fn volume_service_up(svc: &VolumeService) -> Result<bool> {
    let s = store::get(svc.db(), "ferrostack@qcow2", "cinder-volume").await?;
    Ok(!s.disabled && !s.frozen)
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let now = ts(now_micros());
    let mut list = Vec::new();
    for (binary, host) in SERVICES {
        let st = store::get(svc.db(), host, binary).await?;
        let mut entry = json!({"binary": binary, "host": host, "zone": "nova",
            "status": if st.disabled { "disabled" } else { "enabled" }, "state": "up",
            "updated_at": now, "disabled_reason": st.disabled_reason});
        if *binary == "cinder-volume" {
            entry["frozen"] = json!(st.frozen);
            entry["replication_status"] = json!("disabled");
            entry["active_backend_id"] = Value::Null;
        }
        if ctx.at(7) {
            entry["cluster"] = Value::Null;
        }
        if ctx.at(49) && *binary == "cinder-volume" {
            entry["backend_state"] = json!("up");
        }
        list.push(entry);
    }
    if let Some(b) = ctx.q("binary") {
        list.retain(|s| s["binary"] == b);
    }
    if let Some(h) = ctx.q("host") {
        list.retain(|s| {
            let host = s["host"].as_str().unwrap_or("");
            host == h || host.split('@').next() == Some(h)
        });
    }
    Ok(ok(json!({ "services": list })))
}

/// The body's `host` (Cinder's `cinder_host`: null or a host name of
/// letters, digits and `-._#@:/+[]`).
fn host_field(body: &Map<String, Value>) -> Result<Option<String>> {
    match body.get("host") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(h)) if validate::is_cinder_host(h) => Ok(Some(h.clone())),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute host. Value: {v}. It must be a host name of 1 \
             to 255 letters, digits and '-._#@:/+[]'."
        ))),
    }
}

/// A nullable string field of at most 255 characters.
fn nullable_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 255 => Ok(Some(s.clone())),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. Value: {v}. It must be a string of at \
             most 255 characters or null."
        ))),
    }
}

/// `binary` or its deprecated name `service` (one is required), each a
/// string of 1 to 255 characters; `binary` wins when both are given.
fn binary_field(body: &Map<String, Value>) -> Result<(String, String)> {
    let got = |key: &str| -> Result<String> {
        match body.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) if (1..=255).contains(&s.chars().count()) => Ok(s.clone()),
            Some(v) => Err(Error::bad_request(format!(
                "Invalid input for field/attribute {key}. Value: {v}. It must be a string of \
                 1 to 255 characters."
            ))),
        }
    };
    let binary = got("binary")?;
    let service = got("service")?;
    if !body.contains_key("binary") && !body.contains_key("service") {
        return Err(Error::bad_request(
            "Invalid input for field/attribute body: 'binary' (or 'service') is a required \
             property.",
        ));
    }
    Ok((binary, service))
}

/// The stored (binary, host) of the service `host` names (Cinder's host
/// matching: `host`, `host@backend` or exactly `host@backend#pool`).
fn find_service(binary: &str, host: &str) -> Option<(&'static str, &'static str)> {
    SERVICES
        .iter()
        .find(|(b, h)| *b == binary && validate::host_matches(h, host))
        .copied()
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let action = ctx.param("action").to_owned();
    if !matches!(
        action.as_str(),
        "enable" | "disable" | "disable-log-reason" | "freeze" | "thaw"
    ) {
        return Err(Error::not_found("The resource could not be found."));
    }
    let body = body.object()?;
    match action.as_str() {
        "enable" | "disable" | "disable-log-reason" => {
            let log_reason = action == "disable-log-reason";
            let mut keys = vec!["binary", "host", "cluster", "service"];
            if log_reason {
                keys.push("disabled_reason");
            }
            validate::no_extra(&body, &keys, "body")?;
            let host = host_field(&body)?;
            nullable_string(&body, "cluster")?;
            let (binary, service) = binary_field(&body)?;
            let reason = if log_reason {
                match body.get("disabled_reason") {
                    None => None,
                    Some(Value::String(r))
                        if (1..=255).contains(&r.trim().chars().count())
                            && r.chars().count() <= 255
                            && !r.contains('\0') =>
                    {
                        Some(r.clone())
                    }
                    Some(v) => {
                        return Err(Error::bad_request(format!(
                            "Invalid input for field/attribute disabled_reason. Value: {v}. \
                             It must be a string of 1 to 255 characters, not only spaces (and \
                             no NUL)."
                        )))
                    }
                }
            } else {
                None
            };
            let Some(host) = host else {
                return Err(Error::bad_request(
                    "Invalid input received: Host field is missing.",
                ));
            };
            let key = if binary.is_empty() { &service } else { &binary };
            let Some((b, h)) = find_service(key, &host) else {
                return Err(Error::not_found(format!(
                    "Service {key} on host {host} could not be found."
                )));
            };
            let mut st = store::get(svc.db(), h, b).await?;
            st.disabled = action != "enable";
            if action == "enable" {
                st.disabled_reason = None;
            } else if reason.is_some() {
                st.disabled_reason = reason.clone();
            }
            store::put(svc.db(), h, b, &st, now_micros()).await?;
            let mut out = json!({
                "host": host, "service": service, "binary": binary,
                "status": if st.disabled { "disabled" } else { "enabled" },
                "disabled": st.disabled,
            });
            if log_reason {
                out["disabled_reason"] = json!(reason);
            }
            Ok(ok(out))
        }
        _ => {
            validate::no_extra(&body, &["cluster", "host"], "body")?;
            let host = host_field(&body)?;
            let cluster = nullable_string(&body, "cluster")?.filter(|c| !c.is_empty());
            let cluster = if ctx.at(26) { cluster } else { None };
            let host = match (host, cluster) {
                (Some(h), None) => h,
                (None, Some(c)) => {
                    // no service here is clustered
                    return Err(Error::bad_request(format!(
                        "Invalid input received: No service found with cluster={c}"
                    )));
                }
                _ => {
                    return Err(Error::bad_request(if ctx.at(26) {
                        "Invalid input received: One and only one of cluster and host must be \
                         set."
                    } else {
                        "Invalid input received: Host field is missing."
                    }))
                }
            };
            let Some((binary, h)) = find_service("cinder-volume", &host) else {
                return Err(Error::bad_request(format!(
                    "Invalid input received: No service found with host={host}"
                )));
            };
            let freeze = action == "freeze";
            let mut st: SvcState = store::get(svc.db(), h, binary).await?;
            if st.frozen == freeze {
                return Err(Error::bad_request(format!(
                    "Invalid input received: No service could be changed: frozen in ['{h}'] \
                     must be {} to {action}.",
                    if freeze { "False" } else { "True" }
                )));
            }
            st.frozen = freeze;
            store::put(svc.db(), h, binary, &st, now_micros()).await?;
            Ok(ok(json!({})))
        }
    }
}
