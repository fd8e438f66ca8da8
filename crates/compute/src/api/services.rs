//! `/os-services` as at microversion 2.1 (admin only): list with `host` and
//! `binary` filters, `PUT /os-services/{enable,disable,disable-log-reason}`
//! on a nova-compute service, and delete by (integer) id.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{iso_naive_micros, now_micros};
use serde_json::{json, Map, Value};

use super::common::{invalid, no_content, ok, query_get, require_admin, Body, Caller, QueryParams};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::store::{instances, services};
use crate::ComputeService;

/// A service is `down` when it has not reported for this long (upstream's
/// `service_down_time`).
const DOWN_AFTER_MICROS: i64 = 60_000_000;

pub fn is_up(s: &services::Service) -> bool {
    now_micros() - s.updated_at <= DOWN_AFTER_MICROS
}

fn status(s: &services::Service) -> &'static str {
    if s.disabled {
        "disabled"
    } else {
        "enabled"
    }
}

fn render(s: &services::Service) -> Value {
    json!({
        "id": s.id,
        "binary": s.binary,
        "host": s.host,
        "zone": if s.binary == "nova-compute" { "nova" } else { "internal" },
        "status": status(s),
        "state": if is_up(s) { "up" } else { "down" },
        "updated_at": iso_naive_micros(s.updated_at),
        "disabled_reason": s.disabled_reason,
    })
}

pub async fn list_services(
    State(svc): State<ComputeService>,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-services:list")?;
    let mut list = services::list(svc.db()).await?;
    if let Some(host) = query_get(&q, "host") {
        list.retain(|s| s.host == host);
    }
    if let Some(binary) = query_get(&q, "binary") {
        list.retain(|s| s.binary == binary);
    }
    Ok(ok(
        json!({"services": list.iter().map(render).collect::<Vec<_>>()}),
    ))
}

/// The `host`, `binary` and `disabled_reason` of an update body.
fn update_body(o: &Map<String, Value>) -> Result<(String, String, Option<String>)> {
    if let Some(k) = o
        .keys()
        .find(|k| !["host", "binary", "disabled_reason"].contains(&k.as_str()))
    {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let field = |k: &str| -> Result<Option<String>> {
        match o.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Ok(Some(s.clone())),
            Some(v) => Err(invalid(
                k,
                &format!("Value: {v}. must be a string of 1 to 255 characters"),
            )),
        }
    };
    let required = |k: &str| -> Result<String> {
        field(k)?.ok_or_else(|| invalid(k, &format!("'{k}' is a required property")))
    };
    Ok((
        required("host")?,
        required("binary")?,
        field("disabled_reason")?,
    ))
}

/// `PUT /os-services/{action}` with `{host, binary[, disabled_reason]}`.
pub async fn update_service(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-services:update")?;
    let action = last(&p).to_owned();
    if !["enable", "disable", "disable-log-reason"].contains(&action.as_str()) {
        return Err(Error::not_found("Unknown action"));
    }
    let (host, binary, reason) = update_body(&body.object()?)?;
    let reason = match (action.as_str(), reason) {
        ("disable-log-reason", None) => {
            return Err(Error::bad_request("Missing disabled reason field"))
        }
        ("disable-log-reason", r) => r,
        _ => None,
    };
    if binary != "nova-compute" {
        return Err(Error::bad_request(format!(
            "Updating a {binary} service is not supported. Only nova-compute services can be updated."
        )));
    }
    let s = services::get(svc.db(), &host, &binary)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!("Could not find binary {binary} on host {host}."))
        })?;
    let disabled = action != "enable";
    services::set_disabled(svc.db(), s.id, disabled, reason.as_deref()).await?;
    let mut out = json!({"host": host, "binary": binary,
                         "status": if disabled { "disabled" } else { "enabled" }});
    if let Some(r) = reason {
        out["disabled_reason"] = json!(r);
    }
    Ok(ok(json!({ "service": out })))
}

/// `DELETE /os-services/{id}`: a compute service still hosting servers
/// cannot go (409).
pub async fn delete_service(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-services:delete")?;
    let raw = last(&p);
    let id: i64 = raw
        .parse()
        .map_err(|_| invalid("id", &format!("Value: {raw:?}. must be an integer")))?;
    let s = services::get_by_id(svc.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Service {id} not found.")))?;
    if s.binary == "nova-compute" {
        let hosted = instances::list(svc.db(), None).await?;
        if hosted
            .iter()
            .any(|i| i.host.as_deref() == Some(s.host.as_str()))
        {
            return Err(Error::conflict(
                "Unable to delete compute service that is hosting instances. Migrate or delete the instances first.",
            ));
        }
    }
    services::delete(svc.db(), id).await?;
    Ok(no_content())
}
