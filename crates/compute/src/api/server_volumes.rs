//! `/servers/{id}/os-volume_attachments`: list, show, attach, update,
//! detach, per microversion — `tag` at attach (2.49) and in the view (2.70),
//! `delete_on_termination` (2.79; updatable from 2.85), `attachment_id` and
//! `bdm_uuid` instead of `id` (2.89), multiattach volumes (2.60), and 202
//! without a body for an attach from 2.101.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::common::parent_and_last as pair;
use super::common::{
    accepted_empty, invalid, load_server, ok, require_member, wrapped, Body, Caller,
};
use super::flavors::last;
use super::instance_actions::{record, ReqId};
use super::server_fields as fields;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::attachments::{self, Attachment};
use crate::store::tasks;
use crate::ComputeService;

fn render(a: &Attachment, v: ApiVersion) -> Value {
    let mut out = json!({"volumeId": a.volume_id, "serverId": a.instance_id, "device": a.device});
    if v.at_least(2, 89) {
        out["attachment_id"] = json!(a.attachment_id);
        out["bdm_uuid"] = json!(a.id);
    } else {
        out["id"] = json!(a.volume_id);
    }
    if v.at_least(2, 70) {
        out["tag"] = json!(a.tag);
    }
    if v.at_least(2, 79) {
        out["delete_on_termination"] = json!(a.delete_on_termination);
    }
    out
}

/// The vm_states a volume may be attached or detached in (Nova's; we also
/// keep `suspended`); shelved servers only from 2.20.
fn check_state(i: &crate::store::instances::Instance, action: &str, v: ApiVersion) -> Result<()> {
    let shelved = [vm::SHELVED, vm::SHELVED_OFFLOADED].contains(&i.vm_state.as_str());
    let allowed = [
        vm::ACTIVE,
        vm::STOPPED,
        vm::PAUSED,
        vm::SUSPENDED,
        "resized",
        vm::SHELVED,
        vm::SHELVED_OFFLOADED,
    ];
    if !allowed.contains(&i.vm_state.as_str()) || (shelved && !v.at_least(2, 20)) {
        return Err(Error::conflict(format!(
            "Cannot '{action}' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    Ok(())
}

async fn find(svc: &ComputeService, server_id: &str, volume_id: &str) -> Result<Attachment> {
    attachments::of_instance(svc.db(), server_id)
        .await?
        .into_iter()
        .find(|a| a.volume_id == volume_id)
        .ok_or_else(|| Error::not_found(format!("volume_id not found: {volume_id}")))
}

pub async fn list_attachments(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    let items: Vec<Value> = attachments::of_instance(svc.db(), &i.id)
        .await?
        .iter()
        .map(|a| render(a, v))
        .collect();
    Ok(ok(json!({ "volumeAttachments": items })))
}

pub async fn show_attachment(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, vid) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let a = find(&svc, &i.id, &vid).await?;
    Ok(ok(json!({ "volumeAttachment": render(&a, v) })))
}

/// `/dev/vdX`: the first letter after the root disk not yet used.
fn next_device(used: &[Attachment]) -> String {
    let taken: Vec<&str> = used.iter().map(|a| a.device.as_str()).collect();
    ('b'..='z')
        .map(|l| format!("/dev/vd{l}"))
        .find(|d| !taken.contains(&d.as_str()))
        .unwrap_or_else(|| "/dev/vdz".into())
}

/// An attach request's fields at version `v`.
struct AttachBody {
    volume_id: String,
    device: Option<String>,
    tag: Option<String>,
    delete_on_termination: bool,
}

fn attach_body(body: &Body, v: ApiVersion) -> Result<AttachBody> {
    let o = wrapped(&body.object()?, "volumeAttachment")?;
    let mut known = vec!["volumeId", "device"];
    if v.at_least(2, 49) {
        known.push("tag");
    }
    if v.at_least(2, 79) {
        known.push("delete_on_termination");
    }
    fields::only_known(&o, &known)?;
    let volume_id = o
        .get("volumeId")
        .and_then(Value::as_str)
        .filter(|x| uuid::Uuid::parse_str(x).is_ok())
        .ok_or_else(|| invalid("volumeId", "must be a volume UUID"))?
        .to_owned();
    let device = match o.get("device") {
        None | Some(Value::Null) => None,
        Some(Value::String(d))
            if d.starts_with("/dev/")
                && d.len() <= 255
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b)) =>
        {
            Some(d.clone())
        }
        Some(x) => return Err(invalid("device", &format!("{x} is not a device path"))),
    };
    let tag = o.get("tag").map(|t| fields::tag(t, "tag")).transpose()?;
    let delete_on_termination = match o.get("delete_on_termination") {
        None => false,
        Some(x) => super::common::parse_bool(x)
            .ok_or_else(|| invalid("delete_on_termination", &format!("{x} is not a boolean")))?,
    };
    Ok(AttachBody {
        volume_id,
        device,
        tag,
        delete_on_termination,
    })
}

pub async fn attach_volume(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    rid: ReqId,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    let b = attach_body(&body, v)?;
    check_state(&i, "attach_volume", v)?;
    let offloaded = i.vm_state == vm::SHELVED_OFFLOADED;
    if offloaded && b.tag.is_some() {
        return Err(Error::bad_request(
            "Tagged device attach is not supported for shelved-offloaded instances.",
        ));
    }
    let vid = b.volume_id;
    let volume = svc
        .peers()
        .volume
        .get_volume(&c, &vid)
        .await?
        .ok_or_else(|| Error::not_found(format!("Volume {vid} could not be found.")))?;
    if volume.multiattach && !v.at_least(2, 60) {
        return Err(Error::bad_request(
            "Multiattach volumes are only supported starting with compute API version 2.60.",
        ));
    }
    if volume.multiattach && offloaded {
        return Err(Error::bad_request(
            "Attaching multiattach volumes is not supported for shelved-offloaded instances.",
        ));
    }
    let used = attachments::of_instance(svc.db(), &i.id).await?;
    // Nova answers 400 (InvalidVolume) for a volume that is not available.
    if used.iter().any(|a| a.volume_id == vid) {
        return Err(Error::bad_request(format!(
            "Invalid volume: volume {vid} is already attached to this server"
        )));
    }
    let device = b.device.unwrap_or_else(|| next_device(&used));
    let att = match svc.peers().volume.reserve(&c, &vid, &i.id).await {
        Ok(att) => att,
        Err(ferro_api::CommonError::Conflict(m)) => {
            return Err(Error::bad_request(format!("Invalid volume: {m}")))
        }
        Err(e) => return Err(e.into()),
    };
    let a = Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        instance_id: i.id.clone(),
        volume_id: vid.clone(),
        device: device.clone(),
        attachment_id: att.clone(),
        delete_on_termination: b.delete_on_termination,
        boot_index: None,
        tag: b.tag,
    };
    if offloaded {
        // No guest to plug it into (Nova attaches these in the API too).
        if let Err(e) = svc.peers().volume.attach(&c, &vid, &att, &device).await {
            let _ = svc.peers().volume.unreserve(&c, &vid, &att).await;
            return Err(e.into());
        }
        attachments::create(svc.db(), &a).await?;
    } else {
        // The worker plugs the volume into the guest, then it is in use.
        let args = json!({"volume_id": vid, "attachment_id": att, "device": device});
        let queued = match attachments::create(svc.db(), &a).await {
            Ok(()) => tasks::enqueue(svc.db(), &i.id, "attach_volume", &args).await,
            Err(e) => Err(e),
        };
        if let Err(e) = queued {
            let _ = attachments::delete(svc.db(), &a.id).await;
            let _ = svc.peers().volume.unreserve(&c, &vid, &att).await;
            return Err(e.into());
        }
        svc.wake_worker();
    }
    record(&svc, &c, &i.id, "attach_volume", &rid, true).await?;
    if v.at_least(2, 101) {
        return Ok(accepted_empty());
    }
    Ok(ok(json!({ "volumeAttachment": render(&a, v) })))
}

/// `PUT …/os-volume_attachments/{volume_id}`: swapping to another volume
/// needs a second volume driver path (not offered: 400 as Nova's for a
/// volume it cannot swap to); from 2.85 the owner may change
/// `delete_on_termination` (every other field must stay as it is).
pub async fn update_attachment(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, vid) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let o = wrapped(&body.object()?, "volumeAttachment")?;
    let mut known = vec!["volumeId"];
    if v.at_least(2, 85) {
        known.extend(["device", "tag", "delete_on_termination", "serverId", "id"]);
    }
    fields::only_known(&o, &known)?;
    let a = find(&svc, &i.id, &vid).await?;
    let new_volume = o
        .get("volumeId")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("volumeId", "'volumeId' is a required property"))?;
    if new_volume != vid {
        super::common::require_admin(&c, "os_compute_api:os-volumes-attachments:swap")?;
        swap(&svc, &c, &a, new_volume).await?;
        return Ok(accepted_empty());
    }
    for (key, current) in [
        ("device", Some(a.device.as_str())),
        ("tag", a.tag.as_deref()),
        ("serverId", Some(a.instance_id.as_str())),
        ("id", Some(a.volume_id.as_str())),
    ] {
        if let Some(x) = o.get(key) {
            if x.as_str() != current {
                return Err(Error::bad_request(format!(
                    "The {key} of a volume attachment cannot be changed."
                )));
            }
        }
    }
    if let Some(x) = o.get("delete_on_termination") {
        let on = super::common::parse_bool(x)
            .ok_or_else(|| invalid("delete_on_termination", &format!("{x} is not a boolean")))?;
        attachments::set_delete_on_termination(svc.db(), &a.id, on).await?;
    }
    Ok(accepted_empty())
}

/// Swap an attached volume for another at the same device (admin): the
/// new one is reserved and attached first, then the old one released.
async fn swap(svc: &ComputeService, c: &Caller, old: &Attachment, new_volume: &str) -> Result<()> {
    let att = match svc
        .peers()
        .volume
        .reserve(c, new_volume, &old.instance_id)
        .await
    {
        Ok(att) => att,
        Err(ferro_api::CommonError::Conflict(m)) => {
            return Err(Error::bad_request(format!("Invalid volume: {m}")))
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = svc
        .peers()
        .volume
        .attach(c, new_volume, &att, &old.device)
        .await
    {
        let _ = svc.peers().volume.unreserve(c, new_volume, &att).await;
        return Err(e.into());
    }
    svc.peers()
        .volume
        .detach(c, &old.volume_id, &old.attachment_id)
        .await?;
    attachments::delete(svc.db(), &old.id).await?;
    attachments::create(
        svc.db(),
        &Attachment {
            id: uuid::Uuid::new_v4().to_string(),
            volume_id: new_volume.to_owned(),
            attachment_id: att,
            ..old.clone()
        },
    )
    .await?;
    Ok(())
}

pub async fn detach_volume(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    rid: ReqId,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, vid) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    check_state(&i, "detach_volume", v)?;
    let a = find(&svc, &i.id, &vid).await?;
    if a.boot_index == Some(0) {
        return Err(Error::bad_request("Cannot detach a root device volume"));
    }
    if i.vm_state == vm::SHELVED_OFFLOADED {
        // No guest holds it: freed at once, as Nova does.
        svc.peers()
            .volume
            .detach(&c, &a.volume_id, &a.attachment_id)
            .await?;
        attachments::delete(svc.db(), &a.id).await?;
    } else {
        // The worker has the guest release the volume, then frees it.
        let args = json!({ "volume_id": a.volume_id });
        tasks::enqueue(svc.db(), &i.id, "detach_volume", &args).await?;
        svc.wake_worker();
    }
    record(&svc, &c, &i.id, "detach_volume", &rid, true).await?;
    Ok(accepted_empty())
}
