//! `POST /servers/{id}/action`: power actions, lock, rebuild, resize,
//! console output; createImage/createBackup are in `server_images`,
//! shelve/unshelve in `server_shelve`, rescue/unrescue in `server_rescue`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    accepted_empty, invalid, load_server, ok, ref_id, require_member, Body, Caller,
};
use super::flavors::last;
use super::instance_actions::{record, ReqId};
use super::server_fields as fields;
use super::server_images as images;
use super::server_moves as moves;
use super::server_rescue as rescue;
use super::server_security_groups as sg;
use super::server_shelve as shelve;
use super::server_view::{render, Shape};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::quota;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::store::{flavors, tasks};
use crate::ComputeService;

/// An action's body that must be an object.
fn object<'a>(arg: &'a Value, action: &str) -> Result<&'a serde_json::Map<String, Value>> {
    arg.as_object()
        .ok_or_else(|| invalid(action, &format!("{arg} is not of type 'object'")))
}

fn conflict(action: &str, i: &Instance) -> Error {
    Error::conflict(format!(
        "Cannot '{action}' instance {} while it is in vm_state {}",
        i.id, i.vm_state
    ))
}

/// Start a power transition: check the state, claim the task state, queue it.
async fn transition(
    svc: &ComputeService,
    i: &Instance,
    action: &str,
    allowed: &[&str],
    task_state: &str,
    kind: &str,
    args: Value,
) -> Result<Response> {
    if !allowed.contains(&i.vm_state.as_str()) {
        return Err(conflict(action, i));
    }
    if !instances::claim_task_state(svc.db(), &i.id, None, task_state).await? {
        return Err(Error::conflict(format!(
            "Cannot '{action}' instance {} while it is in task_state {}",
            i.id,
            i.task_state.as_deref().unwrap_or("unknown")
        )));
    }
    tasks::enqueue(svc.db(), &i.id, kind, &args).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

pub async fn action(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    req: ReqId,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let o = body.object()?;
    let (name, arg) = match o.iter().next() {
        Some((k, v)) if o.len() == 1 => (k.clone(), v.clone()),
        _ => {
            return Err(Error::bad_request(
                "The action body must name exactly one action.",
            ))
        }
    };
    let lock_exempt = [
        "lock",
        "unlock",
        "os-getConsoleOutput",
        "createImage",
        "createBackup",
        "addSecurityGroup",
        "removeSecurityGroup",
    ];
    if i.locked && !c.is_admin() && !lock_exempt.contains(&name.as_str()) {
        return Err(Error::conflict(format!("Instance {} is locked", i.id)));
    }
    let id = i.id.clone();
    let resp = match name.as_str() {
        "migrate" => moves::migrate(&svc, &c, &i, &arg, v, &req).await?,
        "os-migrateLive" => moves::migrate_live(&svc, &c, &i, &arg, v, &req).await?,
        "evacuate" => moves::evacuate(&svc, &c, &i, &arg, v).await?,
        _ => run(&svc, &c, v, &base, i, &name, &arg).await?,
    };
    if let Some((action, synchronous)) = recorded_action(&name) {
        record(&svc, &c, &id, action, &req, synchronous).await?;
    }
    Ok(resp)
}

/// The instance action an API action is recorded as (Nova's names), and
/// whether the API finishes it itself (else the worker adds the event).
fn recorded_action(name: &str) -> Option<(&'static str, bool)> {
    Some(match name {
        "os-start" => ("start", false),
        "os-stop" => ("stop", false),
        "reboot" => ("reboot", false),
        "pause" => ("pause", false),
        "unpause" => ("unpause", false),
        "suspend" => ("suspend", false),
        "resume" => ("resume", false),
        "lock" => ("lock", true),
        "unlock" => ("unlock", true),
        "rebuild" => ("rebuild", false),
        "resize" => ("resize", false),
        "confirmResize" => ("confirmResize", true),
        "revertResize" => ("revertResize", false),
        "createImage" => ("createImage", true),
        "createBackup" => ("createBackup", true),
        "shelve" => ("shelve", false),
        "shelveOffload" => ("shelveOffload", false),
        "unshelve" => ("unshelve", false),
        "rescue" => ("rescue", false),
        "unrescue" => ("unrescue", false),
        _ => return None,
    })
}

async fn run(
    svc: &ComputeService,
    c: &Caller,
    v: ApiVersion,
    base: &BaseUrl,
    i: Instance,
    name: &str,
    arg: &Value,
) -> Result<Response> {
    let (svc, arg) = (svc.clone(), arg.clone());
    let power = |to: &str| json!({ "to": to });
    match name {
        "os-start" => {
            transition(
                &svc,
                &i,
                "start",
                &[vm::STOPPED],
                "powering-on",
                "power",
                power("running"),
            )
            .await
        }
        "os-stop" => {
            transition(
                &svc,
                &i,
                "stop",
                &[vm::ACTIVE, vm::ERROR],
                "powering-off",
                "power",
                power("shutdown"),
            )
            .await
        }
        "pause" => {
            transition(
                &svc,
                &i,
                "pause",
                &[vm::ACTIVE],
                "pausing",
                "power",
                power("paused"),
            )
            .await
        }
        "unpause" => {
            transition(
                &svc,
                &i,
                "unpause",
                &[vm::PAUSED],
                "unpausing",
                "power",
                power("running"),
            )
            .await
        }
        "suspend" => {
            transition(
                &svc,
                &i,
                "suspend",
                &[vm::ACTIVE],
                "suspending",
                "power",
                power("suspended"),
            )
            .await
        }
        "resume" => {
            transition(
                &svc,
                &i,
                "resume",
                &[vm::SUSPENDED],
                "resuming",
                "power",
                power("running"),
            )
            .await
        }
        "reboot" => reboot(&svc, &i, &arg).await,
        "lock" => lock(&svc, c, i, Some(&arg), v).await,
        "unlock" => lock(&svc, c, i, None, v).await,
        "trigger_crash_dump" if v.at_least(2, 17) => crash_dump(&i, &arg),
        "os-getConsoleOutput" => console(&svc, &i, &arg).await,
        "createImage" => images::create_image(&svc, c, &i, &arg, base, v).await,
        "createBackup" => images::create_backup(&svc, c, &i, &arg, base, v).await,
        "rebuild" => rebuild(&svc, c, i, &arg, base, v).await,
        "resize" => resize(&svc, i, &arg).await,
        "confirmResize" => confirm_resize(&svc, i).await,
        "revertResize" => revert_resize(&svc, i).await,
        "shelve" => shelve::shelve(&svc, c, &i).await,
        "shelveOffload" => shelve::shelve_offload(&svc, c, &i).await,
        "unshelve" => shelve::unshelve(&svc, c, i, &arg, v).await,
        "rescue" => rescue::rescue(&svc, c, &i, &arg, v).await,
        "unrescue" => rescue::unrescue(&svc, &i).await,
        "os-resetState" => reset_state(&svc, c, &i, &arg).await,
        "addSecurityGroup" => sg::add_security_group(&svc, c, &i, &arg).await,
        "injectNetworkInfo" => inject_network_info(c, &i),
        "addFloatingIp" => super::proxy::floating_ips::add_floating_ip(&svc, c, v, &i, &arg).await,
        "removeFloatingIp" => {
            super::proxy::floating_ips::remove_floating_ip(&svc, c, v, &i, &arg).await
        }
        "removeSecurityGroup" => sg::remove_security_group(&svc, c, &i, &arg).await,
        // Deletes are never soft (no reclaim interval), so no server is ever
        // in vm_state soft-deleted and `restore` always conflicts, as in Nova.
        "restore" => Err(conflict("restore", &i)),
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

/// Admin `os-resetState`: force vm_state to `active` or `error` and clear
/// the task state, as Nova does (no driver call).
async fn reset_state(
    svc: &ComputeService,
    c: &Caller,
    i: &Instance,
    arg: &Value,
) -> Result<Response> {
    super::common::require_admin(c, "os_compute_api:os-admin-actions:reset_state")?;
    let state = match arg.get("state").and_then(Value::as_str) {
        Some("active") => vm::ACTIVE,
        Some("error") => vm::ERROR,
        _ => {
            return Err(invalid(
                "state",
                &format!(
                    "{} is not one of ['active', 'error']",
                    arg.get("state").unwrap_or(&Value::Null)
                ),
            ))
        }
    };
    instances::set_state(svc.db(), &i.id, state, None, i.power_state).await?;
    Ok(accepted_empty())
}

async fn reboot(svc: &ComputeService, i: &Instance, arg: &Value) -> Result<Response> {
    let o = object(arg, "reboot")?;
    fields::only_known(o, &["type"])?;
    let kind = match o.get("type").and_then(Value::as_str) {
        Some(t @ ("HARD" | "Hard" | "hard" | "SOFT" | "Soft" | "soft")) => t.to_ascii_uppercase(),
        _ => String::new(),
    };
    let (hard, allowed, task): (bool, &[&str], &str) = match kind.as_str() {
        "SOFT" => (false, &[vm::ACTIVE], "reboot_pending"),
        "HARD" => (
            true,
            &[
                vm::ACTIVE,
                vm::STOPPED,
                vm::PAUSED,
                vm::SUSPENDED,
                vm::ERROR,
            ],
            "reboot_pending_hard",
        ),
        _ => return Err(invalid("reboot.type", "must be 'SOFT' or 'HARD'")),
    };
    transition(
        svc,
        i,
        "reboot",
        allowed,
        task,
        "reboot",
        json!({ "hard": hard }),
    )
    .await
}

/// `lock` (`arg` is its body: null, or from 2.73 `{"locked_reason"}`) and
/// `unlock` (`arg` None).
async fn lock(
    svc: &ComputeService,
    c: &Caller,
    mut i: Instance,
    arg: Option<&Value>,
    v: ApiVersion,
) -> Result<Response> {
    let on = arg.is_some();
    if !on && i.locked && !c.is_admin() && i.locked_by.as_deref() == Some("admin") {
        return Err(Error::forbidden(
            "The instance was locked by an administrator.",
        ));
    }
    i.locked_reason = match arg {
        Some(body) if v.at_least(2, 73) => lock_reason(body)?,
        _ => None,
    };
    i.locked = on;
    i.locked_by = on.then(|| {
        if c.is_admin() {
            "admin".into()
        } else {
            "owner".into()
        }
    });
    instances::update_fields(svc.db(), &i).await?;
    Ok(accepted_empty())
}

/// The `lock` body of 2.73: null, or an object with an optional
/// `locked_reason` of at most 255 characters.
fn lock_reason(body: &Value) -> Result<Option<String>> {
    match body {
        Value::Null => Ok(None),
        Value::Object(o) => {
            fields::only_known(o, &["locked_reason"])?;
            match o.get("locked_reason") {
                None => Ok(None),
                Some(Value::String(r)) if r.chars().count() <= 255 => Ok(Some(r.clone())),
                Some(other) => Err(invalid(
                    "locked_reason",
                    &format!("{other} is not a string of at most 255 characters"),
                )),
            }
        }
        other => Err(invalid(
            "lock",
            &format!("{other} is not of type 'object', 'null'"),
        )),
    }
}

/// `trigger_crash_dump` (2.17): the guest gets an NMI; nothing to record.
fn crash_dump(i: &Instance, arg: &Value) -> Result<Response> {
    if !arg.is_null() {
        return Err(invalid(
            "trigger_crash_dump",
            &format!("{arg} is not of type 'null'"),
        ));
    }
    if i.vm_state != vm::ACTIVE {
        return Err(conflict("trigger_crash_dump", i));
    }
    Ok(accepted_empty())
}

async fn console(svc: &ComputeService, i: &Instance, arg: &Value) -> Result<Response> {
    let o = object(arg, "os-getConsoleOutput")?;
    fields::only_known(o, &["length"])?;
    if i.vm_state != vm::ACTIVE && i.vm_state != vm::PAUSED {
        return Err(conflict("get_console_output", i));
    }
    let text = svc.driver().console_output(&i.id).await;
    let out = match o.get("length") {
        None | Some(Value::Null) => text,
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| *n >= -1)
                .ok_or_else(|| invalid("length", "must be an integer >= -1"))?;
            if n < 0 {
                text
            } else {
                // Nova's tail: split on '\n' (a trailing newline counts as
                // an empty last line) and keep the last `length` pieces.
                let lines: Vec<&str> = text.split('\n').collect();
                lines[lines.len().saturating_sub(n as usize)..].join("\n")
            }
        }
    };
    Ok(ok(json!({ "output": out })))
}

async fn rebuild(
    svc: &ComputeService,
    c: &Caller,
    mut i: Instance,
    arg: &Value,
    base: &BaseUrl,
    v: ApiVersion,
) -> Result<Response> {
    let Value::Object(o) = arg else {
        return Err(invalid(
            "rebuild",
            &format!("{arg} is not of type 'object'"),
        ));
    };
    fields::only_known(o, &rebuild_keys(v))?;
    let image_ref = o
        .get("imageRef")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("imageRef", "'imageRef' is a required property"))?;
    apply_rebuild_fields(svc, c, &mut i, o, v).await?;
    if ![vm::ACTIVE, vm::STOPPED, vm::ERROR].contains(&i.vm_state.as_str())
        || i.task_state.is_some()
    {
        return Err(conflict("rebuild", &i));
    }
    let image_id = ref_id(image_ref);
    let image = svc
        .peers()
        .image
        .get_image(c, &image_id)
        .await?
        .filter(|im| im.status == "active")
        .ok_or_else(|| Error::bad_request("Cannot find image for rebuild"))?;
    // A volume-backed server keeps its empty image (Nova's mark of one);
    // from 2.93 its root volume is re-imaged, before that the image may
    // not change.
    let reimage = if shelve::volume_backed(&i) {
        let root = root_volume_image(svc, &i).await?;
        if !v.at_least(2, 93) && root.as_deref() != Some(image_id.as_str()) {
            return Err(Error::bad_request(format!(
                "Image {image_id} is unacceptable: Unable to rebuild with a different image \
                 for a volume-backed server."
            )));
        }
        v.at_least(2, 93).then(|| image_id.clone())
    } else {
        i.image_id = image_id;
        None
    };
    i.image_properties = super::server_create::image_properties(&image);
    let back_to = if i.vm_state == vm::STOPPED {
        vm::STOPPED
    } else {
        vm::ACTIVE
    };
    if !instances::claim_task_state(svc.db(), &i.id, None, "rebuilding").await? {
        return Err(conflict("rebuild", &i));
    }
    instances::update_fields(svc.db(), &i).await?;
    tasks::enqueue(
        svc.db(),
        &i.id,
        "rebuild",
        &json!({ "to": back_to, "reimage": reimage }),
    )
    .await?;
    svc.wake_worker();
    let admin_pass = match o.get("adminPass") {
        Some(Value::String(p)) => p.clone(),
        Some(other) => {
            return Err(invalid(
                "adminPass",
                &format!("{other} is not of type 'string'"),
            ))
        }
        None => uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
    };
    // The answer shows the rebuild under way (the worker may already be
    // done with a fast driver), as Nova's does.
    let mut i = load_server(svc, c, &i.id).await?;
    i.task_state = Some("rebuilding".into());
    i.vm_state = back_to.to_owned();
    let mut server = render(svc, c, &i, base, Shape::rebuild(v)).await?;
    server["adminPass"] = json!(admin_pass);
    if v.at_least(2, 57) {
        server["user_data"] = json!(i.user_data);
    }
    Ok(super::common::accepted(json!({ "server": server })))
}

/// The image in a volume-backed server's root volume (Cinder's
/// `volume_image_metadata`), if any.
async fn root_volume_image(svc: &ComputeService, i: &Instance) -> Result<Option<String>> {
    let root = crate::store::attachments::of_instance(svc.db(), &i.id)
        .await?
        .into_iter()
        .find(|a| a.boot_index == Some(0));
    let Some(root) = root else {
        return Ok(None);
    };
    let ctx = crate::guest::admin_context(i);
    Ok(svc
        .peers()
        .volume
        .get_volume(&ctx, &root.volume_id)
        .await?
        .and_then(|v| v.image_id))
}

/// The keys a rebuild body may have at version `v`.
fn rebuild_keys(v: ApiVersion) -> Vec<&'static str> {
    let mut keys = vec![
        "imageRef",
        "name",
        "adminPass",
        "metadata",
        "OS-DCF:diskConfig",
        "accessIPv4",
        "accessIPv6",
        "preserve_ephemeral",
    ];
    for (since, key) in [
        ((2, 19), "description"),
        ((2, 54), "key_name"),
        ((2, 57), "user_data"),
        ((2, 63), "trusted_image_certificates"),
        ((2, 90), "hostname"),
    ] {
        if v.at_least(since.0, since.1) {
            keys.push(key);
        }
    }
    if !v.at_least(2, 57) {
        keys.push("personality");
    }
    keys
}

/// The server fields a rebuild may change, checked before anything moves.
async fn apply_rebuild_fields(
    svc: &ComputeService,
    c: &Caller,
    i: &mut Instance,
    o: &serde_json::Map<String, Value>,
    v: ApiVersion,
) -> Result<()> {
    if let Some(n) = o.get("name") {
        i.name = fields::server_name(n)?;
    }
    if let Some(m) = o.get("metadata") {
        let m = fields::metadata(m, "metadata")?;
        quota::check_metadata_items(svc, &i.project_id, m.len()).await?;
        i.metadata = m;
    }
    if let Some(x) = o.get("OS-DCF:diskConfig") {
        i.disk_config = fields::disk_config(x)?;
    }
    if let Some(x) = o.get("accessIPv4") {
        i.access_ipv4 = fields::access_ip(x, "accessIPv4", 4)?;
    }
    if let Some(x) = o.get("accessIPv6") {
        i.access_ipv6 = fields::access_ip(x, "accessIPv6", 6)?;
    }
    if let Some(x) = o.get("preserve_ephemeral") {
        super::common::parse_bool(x)
            .ok_or_else(|| invalid("preserve_ephemeral", &format!("{x} is not a boolean")))?;
    }
    if let Some(x) = o.get("description") {
        i.description = fields::description(x)?;
    }
    if let Some(x) = o.get("key_name") {
        (i.key_name, i.key_data) = match x {
            Value::Null => (None, None),
            _ => {
                let k = fields::name(x, "key_name")?;
                let data = super::server_create::key_data(svc, c, &k)
                    .await
                    .map_err(|_| Error::bad_request("Invalid key_name provided."))?;
                (Some(k), Some(data))
            }
        };
    }
    if let Some(x) = o.get("user_data") {
        i.user_data = super::server_create::user_data_value(x)?;
    }
    if let Some(x) = o.get("trusted_image_certificates") {
        i.trusted_certs = fields::trusted_certs(x)?;
    }
    if let Some(x) = o.get("hostname") {
        i.hostname = fields::hostname(x, v)?;
    }
    Ok(())
}

async fn resize(svc: &ComputeService, mut i: Instance, arg: &Value) -> Result<Response> {
    fields::only_known(object(arg, "resize")?, &["flavorRef", "OS-DCF:diskConfig"])?;
    if ![vm::ACTIVE, vm::STOPPED].contains(&i.vm_state.as_str()) || i.task_state.is_some() {
        return Err(conflict("resize", &i));
    }
    let fref = arg["flavorRef"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| arg["flavorRef"].as_i64().map(|n| n.to_string()))
        .ok_or_else(|| invalid("resize.flavorRef", "is required"))?;
    let new = flavors::get(svc.db(), &ref_id(&fref))
        .await?
        .ok_or_else(|| Error::bad_request(format!("Flavor {fref} could not be found.")))?;
    if new.id == i.flavor_id {
        return Err(Error::bad_request(
            "When resizing, instances must change flavor!",
        ));
    }
    if let Some(v) = arg.get("OS-DCF:diskConfig") {
        i.disk_config = super::server_fields::disk_config(v)?;
    }
    resize_quota(svc, &i, &new).await?;
    if !instances::claim_task_state(svc.db(), &i.id, None, "resize_prep").await? {
        return Err(conflict("resize", &i));
    }
    i.old_flavor = Some(json!({"flavor": i.flavor, "vm_state": i.vm_state}));
    let host = i.host.clone();
    let record = crate::store::migrations::Migration {
        uuid: uuid::Uuid::new_v4().to_string(),
        instance_uuid: i.id.clone(),
        migration_type: "resize".into(),
        status: "migrating".into(),
        source_compute: host.clone(),
        source_node: host.clone(),
        dest_compute: host.clone(),
        dest_node: host.clone(),
        dest_host: Some(svc.config().host_ip.clone()),
        old_flavor_id: Some(i.flavor_id.clone()),
        new_flavor_id: Some(new.id.clone()),
        project_id: i.project_id.clone(),
        user_id: i.user_id.clone(),
        created_at: ferro_api::time::now_micros(),
        ..Default::default()
    };
    crate::store::migrations::create(svc.db(), &record).await?;
    i.flavor_id = new.id.clone();
    i.flavor = serde_json::to_value(&new).unwrap_or(Value::Null);
    instances::update_fields(svc.db(), &i).await?;
    tasks::enqueue(svc.db(), &i.id, "resize", &json!({ "to": "resized" })).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

/// An upsize must fit the cores/ram quota of the project and of the
/// server's user (the increase counts).
async fn resize_quota(svc: &ComputeService, i: &Instance, new: &flavors::Flavor) -> Result<()> {
    let old = |k: &str| i.flavor.get(k).and_then(Value::as_i64).unwrap_or(0);
    let all = instances::list(svc.db(), Some(&i.project_id)).await?;
    let mine: Vec<Instance> = all
        .iter()
        .filter(|x| x.user_id == i.user_id)
        .cloned()
        .collect();
    for (list, limits) in [
        (&all, quota::project_limits(svc, &i.project_id).await?),
        (
            &mine,
            quota::user_limits(svc, &i.project_id, &i.user_id).await?,
        ),
    ] {
        let (_, cores, ram) = instances::sum_usage(list);
        for (what, used, delta) in [
            ("cores", cores, new.vcpus - old("vcpus")),
            ("ram", ram, new.ram - old("ram")),
        ] {
            if delta > 0 {
                quota::check(what, delta, used, limits.get(what))?;
            }
        }
    }
    Ok(())
}

async fn confirm_resize(svc: &ComputeService, mut i: Instance) -> Result<Response> {
    if i.vm_state != "resized" {
        return Err(conflict("confirmResize", &i));
    }
    let back = pre_resize_state(&i);
    i.old_flavor = None;
    instances::update_fields(svc.db(), &i).await?;
    instances::set_state(svc.db(), &i.id, back, None, i.power_state).await?;
    crate::store::migrations::advance(svc.db(), &i.id, &["finished"], "confirmed").await?;
    // The disk kept for a revert goes (in the worker).
    tasks::enqueue(svc.db(), &i.id, "confirm_resize", &Value::Null).await?;
    svc.wake_worker();
    Ok(no_body())
}

async fn revert_resize(svc: &ComputeService, mut i: Instance) -> Result<Response> {
    if i.vm_state != "resized" {
        return Err(conflict("revertResize", &i));
    }
    let back = pre_resize_state(&i);
    if !instances::claim_task_state(svc.db(), &i.id, None, "resize_reverting").await? {
        return Err(conflict("revertResize", &i));
    }
    if let Some(old) = i.old_flavor.take() {
        i.flavor_id = old["flavor"]["id"]
            .as_str()
            .unwrap_or(&i.flavor_id)
            .to_owned();
        i.flavor = old["flavor"].clone();
    }
    instances::update_fields(svc.db(), &i).await?;
    crate::store::migrations::advance(svc.db(), &i.id, &["finished"], "reverting").await?;
    tasks::enqueue(svc.db(), &i.id, "resize", &json!({ "to": back })).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

/// The vm_state a server returns to when its resize is settled.
fn pre_resize_state(i: &Instance) -> &'static str {
    match i.old_flavor.as_ref().and_then(|o| o["vm_state"].as_str()) {
        Some("stopped") => vm::STOPPED,
        _ => vm::ACTIVE,
    }
}

fn no_body() -> Response {
    super::common::no_content()
}

/// `injectNetworkInfo` (admin): 202. Guests learn their network from DHCP
/// and the metadata service, so there is nothing to push into them (Nova's
/// libvirt driver does nothing either); a server not on a host is 409.
fn inject_network_info(c: &Caller, i: &Instance) -> Result<Response> {
    super::common::require_admin(c, "os_compute_api:os-admin-actions:inject_network_info")?;
    if i.host.is_none() {
        return Err(Error::conflict(format!(
            "Instance {} is not ready yet (it has no host).",
            i.id
        )));
    }
    Ok(accepted_empty())
}
