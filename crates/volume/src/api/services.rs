//! `/v3/{project_id}/os-services` (admin): the scheduler and the one volume
//! service; `PUT /os-services/{enable|disable|disable-log-reason|freeze|
//! thaw}`. A disabled or frozen volume service takes no new volumes (they
//! fail as when no backend is found).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{ok, ts, Body, Ctx};
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

fn host_of(body: &Map<String, Value>) -> Result<String> {
    match body.get("host") {
        Some(Value::String(h)) if !h.is_empty() => Ok(h.clone()),
        _ => Err(Error::bad_request(
            "Missing required element 'host' in request body.",
        )),
    }
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let body = body.object()?;
    let action = ctx.param("action").to_owned();
    match action.as_str() {
        "enable" | "disable" | "disable-log-reason" => {
            let host = host_of(&body)?;
            let binary = match body.get("binary") {
                None => "cinder-volume".to_owned(),
                Some(Value::String(b)) => b.clone(),
                Some(_) => return Err(Error::bad_request("Invalid binary.")),
            };
            if !SERVICES.iter().any(|(b, h)| *b == binary && *h == host) {
                return Err(Error::not_found(format!(
                    "Service {binary} on host {host} could not be found."
                )));
            }
            let reason = if action == "disable-log-reason" {
                match body.get("disabled_reason") {
                    Some(Value::String(r))
                        if !r.trim().is_empty()
                            && r.chars().count() <= 255
                            && !r.chars().any(char::is_control) =>
                    {
                        Some(r.clone())
                    }
                    _ => {
                        return Err(Error::bad_request(
                            "Disabled reason contains invalid characters or is too long",
                        ))
                    }
                }
            } else {
                None
            };
            let mut st = store::get(svc.db(), &host, &binary).await?;
            st.disabled = action != "enable";
            st.disabled_reason = reason.clone();
            store::put(svc.db(), &host, &binary, &st, now_micros()).await?;
            Ok(ok(json!({
                "host": host, "service": binary, "binary": binary,
                "status": if st.disabled { "disabled" } else { "enabled" },
                "disabled": st.disabled, "disabled_reason": reason,
            })))
        }
        "freeze" | "thaw" => {
            let host = host_of(&body)?;
            let Some((binary, _)) = SERVICES
                .iter()
                .find(|(b, h)| *b == "cinder-volume" && *h == host)
            else {
                return Err(Error::bad_request(format!(
                    "Invalid input received: Host {host} has no volume service to {action}."
                )));
            };
            let mut st: SvcState = store::get(svc.db(), &host, binary).await?;
            st.frozen = action == "freeze";
            store::put(svc.db(), &host, binary, &st, now_micros()).await?;
            Ok(ok(json!({})))
        }
        _ => Err(Error::not_found("The resource could not be found.")),
    }
}
