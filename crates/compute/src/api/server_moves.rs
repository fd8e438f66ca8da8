//! What needs a second compute host, answered as Nova answers on a
//! deployment with one: cold `migrate` and `os-migrateLive` are accepted
//! (202) and fail in the scheduler with NoValidHost — the server stays as it
//! was and its instance action records the error —, a named destination
//! host that is not this one is a 400, `evacuate` is a 400 because this
//! host's compute service is up. `GET /servers/{id}/migrations` (2.23) lists
//! in-progress live migrations: never any. Also the NUMA topology (2.78:
//! guests here have none) and remote consoles (2.6: none is enabled).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, load_server, ok, require_admin, Caller};
use super::flavors::last;
use super::instance_actions::ReqId;
use super::server_fields as fields;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instance_actions::{self, InstanceAction};
use crate::store::instances::Instance;
use crate::ComputeService;

const NO_VALID_HOST: &str = "No valid host was found. There are not enough hosts available.";

fn body_object<'a>(arg: &'a Value, action: &str) -> Result<Option<&'a Map<String, Value>>> {
    match arg {
        Value::Null => Ok(None),
        Value::Object(o) => Ok(Some(o)),
        other => Err(invalid(
            action,
            &format!("{other} is not of type 'object', 'null'"),
        )),
    }
}

/// A destination host named in a move: only this host exists, and a
/// server cannot move to the host it is on.
fn check_destination(svc: &ComputeService, host: Option<&Value>) -> Result<()> {
    match host {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(h)) if *h == svc.config().host => Err(Error::bad_request(
            "Cannot migrate to the host where the server exists.",
        )),
        Some(Value::String(h)) => Err(Error::bad_request(format!(
            "Compute host {h} could not be found."
        ))),
        Some(other) => Err(invalid(
            "host",
            &format!("{other} is not of type 'string', 'null'"),
        )),
    }
}

/// Record the move as an action whose scheduling failed, as Nova's
/// conductor does when no host fits.
async fn failed_move(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    action: &str,
    event: &str,
    req: &ReqId,
) -> Result<Response> {
    let a = InstanceAction {
        id: uuid::Uuid::new_v4().to_string(),
        instance_id: i.id.clone(),
        action: action.to_owned(),
        request_id: req.0.clone(),
        user_id: c.user_id.clone(),
        project_id: c.project_id.clone().unwrap_or_default(),
        message: None,
        start_time: ferro_api::time::now_micros(),
    };
    instance_actions::create(svc.db(), &a).await?;
    instance_actions::add_event(svc.db(), &a.id, event, a.start_time, Some(NO_VALID_HOST)).await?;
    Ok(accepted_empty())
}

/// `migrate` (cold; `host` from 2.56).
pub async fn migrate(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    v: ApiVersion,
    req: &ReqId,
) -> Result<Response> {
    require_admin(c, "os_compute_api:os-migrate-server:migrate")?;
    if let Some(o) = body_object(arg, "migrate")? {
        let known: &[&str] = if v.at_least(2, 56) { &["host"] } else { &[] };
        fields::only_known(o, known)?;
        check_destination(svc, o.get("host"))?;
    }
    if ![vm::ACTIVE, vm::STOPPED].contains(&i.vm_state.as_str()) {
        return Err(Error::conflict(format!(
            "Cannot 'migrate' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    failed_move(svc, c, i, "migrate", "conductor_migrate_server", req).await
}

/// `os-migrateLive` (`block_migration` "auto" from 2.25, `force` 2.30-2.67).
pub async fn migrate_live(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    v: ApiVersion,
    req: &ReqId,
) -> Result<Response> {
    require_admin(c, "os_compute_api:os-migrate-server:migrate_live")?;
    let o = arg
        .as_object()
        .ok_or_else(|| invalid("os-migrateLive", &format!("{arg} is not of type 'object'")))?;
    let mut known = vec!["host", "block_migration"];
    if !v.at_least(2, 25) {
        known.push("disk_over_commit");
    }
    if v.at_least(2, 30) && !v.at_least(2, 68) {
        known.push("force");
    }
    fields::only_known(o, &known)?;
    match o.get("block_migration") {
        Some(Value::String(s)) if v.at_least(2, 25) && s == "auto" => {}
        Some(b) if super::common::parse_bool(b).is_some() => {}
        None if v.at_least(2, 25) => {
            return Err(invalid(
                "block_migration",
                "'block_migration' is a required property",
            ))
        }
        None => {}
        Some(b) => {
            return Err(invalid(
                "block_migration",
                &format!("{b} is not a valid value"),
            ))
        }
    }
    check_destination(svc, o.get("host"))?;
    if ![vm::ACTIVE, vm::PAUSED].contains(&i.vm_state.as_str()) {
        return Err(Error::conflict(format!(
            "Cannot 'os-migrateLive' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    if !v.at_least(2, 34) {
        return Err(Error::bad_request(NO_VALID_HOST));
    }
    failed_move(
        svc,
        c,
        i,
        "live-migration",
        "conductor_live_migrate_instance",
        req,
    )
    .await
}

/// `evacuate`: only for a server whose host is down; this one is up.
pub async fn evacuate(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
    v: ApiVersion,
) -> Result<Response> {
    require_admin(c, "os_compute_api:os-evacuate")?;
    let o = arg
        .as_object()
        .ok_or_else(|| invalid("evacuate", &format!("{arg} is not of type 'object'")))?;
    let mut known = vec!["host", "adminPass"];
    if !v.at_least(2, 14) {
        known.push("onSharedStorage");
    }
    if v.at_least(2, 29) && !v.at_least(2, 68) {
        known.push("force");
    }
    if v.at_least(2, 95) {
        known.push("targetState");
    }
    fields::only_known(o, &known)?;
    check_destination(svc, o.get("host")).map_err(|e| match o.get("host") {
        // Nova looks the named host up first: unknown hosts are a 404.
        Some(Value::String(h)) if *h != svc.config().host => {
            Error::not_found(format!("Compute host {h} not found."))
        }
        _ => e,
    })?;
    let host = i.host.clone().unwrap_or_else(|| svc.config().host.clone());
    Err(Error::bad_request(format!(
        "Compute service of {host} is still in use."
    )))
}

/// `GET /servers/{id}/migrations` (2.23, admin): in-progress live
/// migrations of the server.
pub async fn list_server_migrations(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v, 2, 23)?;
    require_admin(&c, "os_compute_api:servers:migrations:index")?;
    load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "migrations": [] })))
}

pub async fn show_server_migration(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v, 2, 23)?;
    require_admin(&c, "os_compute_api:servers:migrations:show")?;
    let (sid, migration) = super::common::parent_and_last(&p);
    load_server(&svc, &c, &sid).await?;
    Err(Error::not_found(format!(
        "Migration {migration} for instance {sid} could not be found."
    )))
}

/// `GET /servers/{id}/topology` (2.78): guests here have no NUMA topology.
pub async fn show_topology(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_version(v, 2, 78)?;
    load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "nodes": [], "pagesize_kb": null })))
}

/// `POST /servers/{id}/remote-consoles` (2.6): the protocols and types a
/// version knows are checked; none is enabled on this deployment.
pub async fn create_remote_console(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
    body: super::common::Body,
) -> Result<Response> {
    require_version(v, 2, 6)?;
    super::common::require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let o = super::common::wrapped(&body.object()?, "remote_console")?;
    fields::only_known(&o, &["protocol", "type"])?;
    let mut protocols = vec!["vnc", "spice", "rdp", "serial"];
    if v.at_least(2, 8) {
        protocols.push("mks");
    }
    let protocol = o
        .get("protocol")
        .and_then(Value::as_str)
        .filter(|p| protocols.contains(p))
        .ok_or_else(|| invalid("protocol", &format!("must be one of {protocols:?}")))?;
    let mut types = vec!["novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial"];
    if v.at_least(2, 8) {
        types.push("webmks");
    }
    if v.at_least(2, 99) {
        types.push("spice-direct");
    }
    let kind = o
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| types.contains(t))
        .ok_or_else(|| invalid("type", &format!("must be one of {types:?}")))?;
    if i.vm_state != vm::ACTIVE {
        return Err(Error::conflict(format!("Instance {} is not ready", i.id)));
    }
    Err(Error::bad_request(format!(
        "Unavailable console type {kind} (protocol {protocol})."
    )))
}

fn require_version(v: ApiVersion, major: u32, minor: u32) -> Result<()> {
    if v.at_least(major, minor) {
        Ok(())
    } else {
        Err(Error::not_found("The resource could not be found."))
    }
}
