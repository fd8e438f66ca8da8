//! Admin routes whose upstream answer without the feature is an empty one:
//! clusters (3.7; no Active/Active clusters here), manageable volumes and
//! snapshots (3.8, 3.17 `cluster`; start-up removes every file without a
//! row, so nothing is unmanaged) and workers cleanup (3.24; nothing to clean
//! for services that are always up).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::common::{list_opts, ok, Body, Ctx};
use super::validate;
use crate::error::{Error, Result};
use crate::VolumeService;

const VOLUME_HOST: &str = "ferrostack@qcow2";

fn cluster_not_found(name: &str) -> Error {
    Error::not_found(format!("Cluster {name} could not be found."))
}

/// The list filters Cinder's clusters take (3.26 adds the replication ones).
const CLUSTER_FILTERS: &[&str] = &[
    "name",
    "binary",
    "is_up",
    "disabled",
    "num_hosts",
    "num_down_hosts",
];
const REPLICATION_FILTERS: &[&str] = &["replication_status", "frozen", "active_backend_id"];

pub async fn clusters(ctx: Ctx) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    let bad: Vec<&str> = ctx
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| {
            let replication = ctx.at(26) && REPLICATION_FILTERS.contains(k);
            !(CLUSTER_FILTERS.contains(k) || replication)
        })
        .collect();
    if !bad.is_empty() {
        return Err(Error::bad_request(format!(
            "Invalid input received: Invalid filter keys: {}",
            bad.join(", ")
        )));
    }
    for key in ["disabled", "is_up"] {
        ctx.bool_param(key)?;
    }
    Ok(ok(json!({"clusters": []})))
}

pub async fn cluster(ctx: Ctx) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    Err(cluster_not_found(ctx.param("name")))
}

/// `PUT /clusters/enable|disable` with `{"name": …, "binary": …}` (disable
/// also `disabled_reason`), checked as Cinder's schemas; no cluster exists.
pub async fn cluster_update(ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(7)?;
    ctx.require_admin()?;
    let action = ctx.param("name");
    if action != "enable" && action != "disable" {
        return Err(Error::not_found("The resource could not be found."));
    }
    let obj = body.object()?;
    let mut keys = vec!["name", "binary"];
    if action == "disable" {
        keys.push("disabled_reason");
    }
    validate::no_extra(&obj, &keys, "body")?;
    let name = match obj.get("name") {
        Some(Value::String(n)) if (1..=255).contains(&n.trim().chars().count()) => n.clone(),
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute name. Value: {v}. It must be a string of 1 \
                 to 255 characters."
            )))
        }
        None => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute body. 'name' is a required property.",
            ))
        }
    };
    for key in ["binary", "disabled_reason"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            // a reason may be empty, but not only spaces
            Some(Value::String(s))
                if s.chars().count() <= 255
                    && (key == "binary" || s.is_empty() || !s.trim().is_empty()) => {}
            Some(v) => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {key}. Value: {v}. It must be a string \
                     of at most 255 characters or null."
                )))
            }
        }
    }
    Err(cluster_not_found(&name))
}

async fn manageable(ctx: &Ctx, key: &str) -> Result<Response> {
    ctx.require_version(8)?;
    ctx.require_admin()?;
    let cluster = if ctx.at(17) { ctx.q("cluster") } else { None };
    let host = ctx.q("host");
    let (msg, both_or_none) = if ctx.at(17) {
        (
            "One and only one of cluster and host must be set.",
            cluster.is_some() == host.is_some(),
        )
    } else {
        ("Host field is missing.", host.is_none())
    };
    if both_or_none {
        return Err(Error::bad_request(format!("Invalid input received: {msg}")));
    }
    if let Some(c) = cluster {
        return Err(cluster_not_found(c));
    }
    let h = host.unwrap_or("");
    if !validate::host_matches(VOLUME_HOST, h) {
        return Err(Error::not_found(format!(
            "Service cinder-volume on host {h} could not be found."
        )));
    }
    // paging and sorting as Cinder checks them (the list is empty)
    list_opts(ctx, &["reference", "size"])?;
    Ok(ok(json!({ key: [] })))
}

pub async fn manageable_volumes(State(_svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    manageable(&ctx, "manageable-volumes").await
}

pub async fn manageable_snapshots(State(_svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    manageable(&ctx, "manageable-snapshots").await
}

/// `POST /workers/cleanup` (3.24): the body as Cinder's schema takes it;
/// nothing is ever pending cleanup here.
pub async fn workers_cleanup(ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(24)?;
    ctx.require_admin()?;
    let obj = if body.bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        body.object()?
    };
    validate::no_extra(
        &obj,
        &[
            "cluster_name",
            "disabled",
            "host",
            "is_up",
            "binary",
            "resource_id",
            "resource_type",
            "service_id",
        ],
        "body",
    )?;
    for key in ["cluster_name", "host"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(h))
                if h.is_empty()
                    || h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._#@:/+".contains(c))
                        && h.chars().count() <= 255 => {}
            Some(v) => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {key}. Value: {v}. It must be a host \
                     name of at most 255 letters, digits and '-._#@:/+'."
                )))
            }
        }
    }
    for key in ["disabled", "is_up"] {
        if let Some(v) = obj.get(key) {
            validate::schema_bool(v, key)?;
        }
    }
    match obj.get("binary") {
        None => {}
        Some(Value::String(b)) if b == "cinder-volume" || b == "cinder-scheduler" => {}
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute binary. Value: {v}. It is not one of \
                 ['cinder-volume', 'cinder-scheduler']."
            )))
        }
    }
    let resource_id = validate::opt_uuid(&obj, "resource_id")?;
    match obj.get("resource_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.is_empty() => {}
        Some(Value::String(t)) if t.chars().count() <= 40 => {
            if !["volume", "snapshot"].contains(&t.to_lowercase().as_str()) {
                return Err(Error::bad_request(format!(
                    "Invalid input received: Resource type {t} not valid, must be Volume or \
                     Snapshot"
                )));
            }
        }
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute resource_type. Value: {v}. It must be a \
                 string of at most 40 characters or null."
            )))
        }
    }
    match obj.get("service_id") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_u64() => {}
        Some(Value::String(s))
            if s.chars().count() <= 11 && s.chars().all(|c| c.is_ascii_digit()) => {}
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute service_id. Value: {v}. It must be a \
                 number of at most 11 digits."
            )))
        }
    }
    if let Some(id) = resource_id {
        if !["service_id", "cluster_name", "host"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            return Err(Error::bad_request(format!(
                "Invalid input received: There is no resource with UUID {id} pending cleanup."
            )));
        }
    }
    let body = json!({"cleaning": [], "unavailable": []});
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}
