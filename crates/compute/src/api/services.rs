//! `/os-services` (admin only): list with `host` and `binary` filters,
//! updates of a nova-compute service, delete.
//!
//! Per microversion, as Nova: 2.11 `forced_down` in views and
//! `PUT /os-services/force-down`; 2.53 services are known by UUID (`id`),
//! updated with `PUT /os-services/{uuid}` and a body of `status`,
//! `disabled_reason`, `forced_down` (the action paths are then not UUIDs:
//! 400), deleted by UUID; 2.75 unknown query parameters are refused.
//! (2.69's down-cell form never applies: there is one cell.)

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{iso_naive_micros, now_micros};
use serde_json::{json, Map, Value};

use super::common::{invalid, no_content, ok, parse_bool, query_get, require_admin};
use super::common::{Body, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::services::{self, Service};
use crate::store::{aggregates, instances};
use crate::ComputeService;

/// A service is `down` when it has not reported for this long (upstream's
/// `service_down_time`).
const DOWN_AFTER_MICROS: i64 = 60_000_000;

/// Up: reported lately and not forced down.
pub fn is_up(s: &Service) -> bool {
    !s.forced_down && now_micros() - s.updated_at <= DOWN_AFTER_MICROS
}

fn status(s: &Service) -> &'static str {
    if s.disabled {
        "disabled"
    } else {
        "enabled"
    }
}

fn render(s: &Service, v: ApiVersion) -> Value {
    let mut o = json!({
        "id": s.id,
        "binary": s.binary,
        "host": s.host,
        "zone": if s.binary == "nova-compute" { "nova" } else { "internal" },
        "status": status(s),
        "state": if is_up(s) { "up" } else { "down" },
        "updated_at": iso_naive_micros(s.updated_at),
        "disabled_reason": s.disabled_reason,
    });
    if v.at_least(2, 11) {
        o["forced_down"] = json!(s.forced_down);
    }
    if v.at_least(2, 53) {
        o["id"] = json!(s.uuid);
    }
    o
}

pub async fn list_services(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-services:list")?;
    if v.at_least(2, 75) {
        listing::only_params(&q, &["host", "binary"])?;
    }
    let mut list = services::list(svc.db()).await?;
    if let Some(host) = query_get(&q, "host").filter(|h| !h.is_empty()) {
        list.retain(|s| s.host == host);
    }
    if let Some(binary) = query_get(&q, "binary").filter(|b| !b.is_empty()) {
        list.retain(|s| s.binary == binary);
    }
    let items: Vec<Value> = list.iter().map(|s| render(s, v)).collect();
    Ok(ok(json!({ "services": items })))
}

fn unexpected(o: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

fn string_field(o: &Map<String, Value>, k: &str) -> Result<Option<String>> {
    match o.get(k) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Ok(Some(s.clone())),
        Some(v) => Err(invalid(
            k,
            &format!("Value: {v}. must be a string of 1 to 255 characters"),
        )),
    }
}

fn bool_field(o: &Map<String, Value>, k: &str) -> Result<Option<bool>> {
    o.get(k)
        .map(|x| parse_bool(x).ok_or_else(|| invalid(k, &format!("{x} is not of type 'boolean'"))))
        .transpose()
}

/// The body of a 2.1-style update (`{host, binary[, disabled_reason]
/// [, forced_down]}`).
struct LegacyUpdate {
    host: String,
    binary: String,
    reason: Option<String>,
    forced_down: Option<bool>,
}

fn legacy_body(v: ApiVersion, o: &Map<String, Value>) -> Result<LegacyUpdate> {
    let mut allowed = vec!["host", "binary", "disabled_reason"];
    if v.at_least(2, 11) {
        allowed.push("forced_down");
    }
    unexpected(o, &allowed)?;
    let required = |k: &str| -> Result<String> {
        string_field(o, k)?.ok_or_else(|| invalid(k, &format!("'{k}' is a required property")))
    };
    Ok(LegacyUpdate {
        host: required("host")?,
        binary: required("binary")?,
        reason: string_field(o, "disabled_reason")?,
        forced_down: bool_field(o, "forced_down")?,
    })
}

fn only_compute(binary: &str) -> Result<()> {
    if binary != "nova-compute" {
        return Err(Error::bad_request(format!(
            "Updating a {binary} service is not supported. Only nova-compute services can be updated."
        )));
    }
    Ok(())
}

/// `PUT /os-services/{enable,disable,disable-log-reason[,force-down]}`
/// before 2.53.
async fn update_legacy(
    svc: &ComputeService,
    v: ApiVersion,
    action: &str,
    body: &Map<String, Value>,
) -> Result<Response> {
    let mut actions = vec!["enable", "disable", "disable-log-reason"];
    if v.at_least(2, 11) {
        actions.push("force-down");
    }
    if !actions.contains(&action) {
        return Err(Error::not_found("Unknown action"));
    }
    let b = legacy_body(v, body)?;
    let reason = match (action, b.reason) {
        ("disable-log-reason", None) => {
            return Err(Error::bad_request("Missing disabled reason field"))
        }
        ("disable-log-reason", r) => r,
        _ => None,
    };
    let forced_down = match (action, b.forced_down) {
        ("force-down", None) => return Err(Error::bad_request("Missing forced_down field")),
        (_, f) => f,
    };
    only_compute(&b.binary)?;
    let s = services::get(svc.db(), &b.host, &b.binary)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "Could not find binary {} on host {}.",
                b.binary, b.host
            ))
        })?;
    let mut out = json!({"host": b.host, "binary": b.binary});
    if action == "force-down" {
        let f = forced_down.unwrap_or(false);
        services::set_forced_down(svc.db(), s.id, f).await?;
        out["forced_down"] = json!(f);
    } else {
        let disabled = action != "enable";
        services::set_disabled(svc.db(), s.id, disabled, reason.as_deref()).await?;
        out["status"] = json!(if disabled { "disabled" } else { "enabled" });
        if let Some(r) = reason {
            out["disabled_reason"] = json!(r);
        }
    }
    Ok(ok(json!({ "service": out })))
}

fn uuid_of(raw: &str) -> Result<String> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_owned())
        .map_err(|_| Error::bad_request(format!("Invalid uuid {raw}")))
}

/// `PUT /os-services/{uuid}` from 2.53: `status`, `disabled_reason`,
/// `forced_down`; answers the whole service.
async fn update_by_uuid(
    svc: &ComputeService,
    v: ApiVersion,
    raw: &str,
    o: &Map<String, Value>,
) -> Result<Response> {
    unexpected(o, &["status", "disabled_reason", "forced_down"])?;
    let status = match o.get("status") {
        None => None,
        Some(Value::String(s)) if s == "enabled" || s == "disabled" => Some(s.clone()),
        Some(x) => {
            return Err(invalid(
                "status",
                &format!("{x} is not one of ['enabled', 'disabled']"),
            ))
        }
    };
    let reason = string_field(o, "disabled_reason")?;
    let forced_down = bool_field(o, "forced_down")?;
    let id = uuid_of(raw)?;
    let mut s = services::get_by_uuid(svc.db(), &id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Service {id} could not be found.")))?;
    only_compute(&s.binary)?;
    if status.as_deref() == Some("enabled") && reason.is_some() {
        return Err(Error::bad_request(
            "Specifying 'disabled_reason' with status 'enabled' is invalid.",
        ));
    }
    if status.is_none() && forced_down.is_none() {
        return Err(Error::bad_request(
            "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
        ));
    }
    if let Some(st) = status {
        s.disabled = st == "disabled";
        s.disabled_reason = if s.disabled { reason } else { None };
        services::set_disabled(svc.db(), s.id, s.disabled, s.disabled_reason.as_deref()).await?;
    }
    if let Some(f) = forced_down {
        s.forced_down = f;
        services::set_forced_down(svc.db(), s.id, f).await?;
    }
    Ok(ok(json!({ "service": render(&s, v) })))
}

pub async fn update_service(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    let raw = last(&p).to_owned();
    if v.at_least(2, 53) {
        uuid_of(&raw)?;
    }
    require_admin(&c, "os_compute_api:os-services:update")?;
    let o = body.object()?;
    if v.at_least(2, 53) {
        update_by_uuid(&svc, v, &raw, &o).await
    } else {
        update_legacy(&svc, v, &raw, &o).await
    }
}

/// `DELETE /os-services/{id}` (a UUID from 2.53): a compute service still
/// hosting servers cannot go (409).
pub async fn delete_service(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-services:delete")?;
    let raw = last(&p);
    let found = if v.at_least(2, 53) {
        services::get_by_uuid(svc.db(), &uuid_of(raw)?).await?
    } else {
        let id: i64 = raw
            .parse()
            .map_err(|_| invalid("id", &format!("Value: {raw:?}. must be an integer")))?;
        services::get_by_id(svc.db(), id).await?
    };
    let s = found.ok_or_else(|| Error::not_found(format!("Service {raw} not found.")))?;
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
    if s.binary == "nova-compute" {
        // As Nova: the host leaves every aggregate it was in.
        for mut a in aggregates::list(svc.db()).await? {
            if a.hosts.contains(&s.host) {
                a.hosts.retain(|h| *h != s.host);
                a.updated_at = Some(now_micros());
                aggregates::save(svc.db(), &a).await?;
            }
        }
    }
    services::delete(svc.db(), s.id).await?;
    Ok(no_content())
}
