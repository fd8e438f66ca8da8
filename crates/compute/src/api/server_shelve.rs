//! Server actions `shelve`, `shelveOffload` and `unshelve`. A shelve keeps
//! the guest as a snapshot image `<name>-shelved` (none for a
//! volume-backed server) and, as Nova with `shelved_offloaded_time = 0`,
//! offloads it right away: the guest is destroyed and the server has no
//! host until it is unshelved (spawned again from that image).

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, require_admin, Caller};
use super::server_fields as fields;
use super::server_images as images;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::store::{aggregates, services, tasks};
use crate::ComputeService;

pub(crate) fn conflict(action: &str, i: &Instance) -> Error {
    Error::conflict(format!(
        "Cannot '{action}' instance {} while it is in vm_state {}",
        i.id, i.vm_state
    ))
}

pub(crate) fn task_conflict(action: &str, i: &Instance) -> Error {
    Error::conflict(format!(
        "Cannot '{action}' instance {} while it is in task_state {}",
        i.id,
        i.task_state.as_deref().unwrap_or("unknown")
    ))
}

/// Nova's `check_instance_state`: one of `allowed` and no task under way,
/// then the task state claimed.
async fn claim(
    svc: &ComputeService,
    i: &Instance,
    action: &str,
    allowed: &[&str],
    task_state: &str,
) -> Result<()> {
    if !allowed.contains(&i.vm_state.as_str()) {
        return Err(conflict(action, i));
    }
    if i.task_state.is_some()
        || !instances::claim_task_state(svc.db(), &i.id, None, task_state).await?
    {
        return Err(task_conflict(action, i));
    }
    Ok(())
}

/// Nova's `is_volume_backed_instance`: no image of its own, or a root
/// (boot index 0) block device that is a volume.
pub(crate) fn volume_backed(i: &Instance) -> bool {
    let root_volume = |b: &Value| {
        let index = match &b["boot_index"] {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            other => other.as_i64(),
        };
        index == Some(0) && b["destination_type"].as_str() == Some("volume")
    };
    i.image_id.is_empty()
        || i.block_devices
            .as_array()
            .is_some_and(|l| l.iter().any(root_volume))
}

/// `shelve` (any body): snapshot (unless volume-backed), then offload.
pub async fn shelve(svc: &ComputeService, c: &Caller, i: &Instance) -> Result<Response> {
    let allowed = [vm::ACTIVE, vm::STOPPED, vm::PAUSED, vm::SUSPENDED];
    claim(svc, i, "shelve", &allowed, "shelving").await?;
    let image_id = if volume_backed(i) {
        None
    } else {
        let name = format!("{}-shelved", i.name);
        match images::register(svc, c, i, &name, Map::new(), Map::new(), "snapshot").await {
            Ok(image) => Some(image.id),
            Err(e) => {
                instances::set_state(svc.db(), &i.id, &i.vm_state, None, i.power_state).await?;
                return Err(e);
            }
        }
    };
    instances::set_shelved_image(svc.db(), &i.id, image_id.as_deref()).await?;
    tasks::enqueue(svc.db(), &i.id, "shelve", &json!({ "image_id": image_id })).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

/// `shelveOffload` (admin): a `shelved` server leaves its host.
pub async fn shelve_offload(svc: &ComputeService, c: &Caller, i: &Instance) -> Result<Response> {
    require_admin(c, "os_compute_api:os-shelve:shelve_offload")?;
    claim(
        svc,
        i,
        "shelveOffload",
        &[vm::SHELVED],
        "shelving_offloading",
    )
    .await?;
    tasks::enqueue(svc.db(), &i.id, "shelve_offload", &Value::Null).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

/// What an `unshelve` body asks: a new zone (`Some(None)` unpins) and a
/// host.
#[derive(Debug, Default, PartialEq)]
struct UnshelveArgs {
    zone: Option<Option<String>>,
    host: Option<String>,
}

/// The `unshelve` body per version: anything before 2.77; from 2.77 null
/// or `{"availability_zone": name}`; from 2.91 null or
/// `{"availability_zone"?: str|null, "host"?: str}`.
fn unshelve_args(arg: &Value, v: ApiVersion) -> Result<UnshelveArgs> {
    if !v.at_least(2, 77) {
        return Ok(UnshelveArgs::default());
    }
    let o = match arg {
        Value::Null => return Ok(UnshelveArgs::default()),
        Value::Object(o) => o,
        other => {
            return Err(invalid(
                "unshelve",
                &format!("{other} is not of type 'object', 'null'"),
            ))
        }
    };
    if !v.at_least(2, 91) {
        fields::only_known(o, &["availability_zone"])?;
        let zone = o
            .get("availability_zone")
            .ok_or_else(|| invalid("unshelve", "'availability_zone' is a required property"))?;
        let zone = fields::name(zone, "availability_zone")?;
        return Ok(UnshelveArgs {
            zone: Some(Some(zone)),
            host: None,
        });
    }
    fields::only_known(o, &["availability_zone", "host"])?;
    let zone = match o.get("availability_zone") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(z)) => Some(Some(z.clone())),
        Some(other) => {
            return Err(invalid(
                "availability_zone",
                &format!("{other} is not of type 'string', 'null'"),
            ))
        }
    };
    let host = match o.get("host") {
        None => None,
        Some(Value::String(h)) => Some(h.clone()),
        Some(other) => return Err(invalid("host", &format!("{other} is not of type 'string'"))),
    };
    Ok(UnshelveArgs { zone, host })
}

/// The zone of a compute host: its aggregate's, else the default `nova`.
async fn zone_of_host(svc: &ComputeService, host: &str) -> Result<String> {
    let zone = aggregates::list(svc.db())
        .await?
        .into_iter()
        .find(|a| a.hosts.iter().any(|h| h == host) && a.availability_zone().is_some())
        .and_then(|a| a.availability_zone().map(str::to_owned));
    Ok(zone.unwrap_or_else(|| "nova".into()))
}

/// `unshelve`: a shelved server is spawned again (from its shelved image).
pub async fn unshelve(
    svc: &ComputeService,
    c: &Caller,
    mut i: Instance,
    arg: &Value,
    v: ApiVersion,
) -> Result<Response> {
    let args = unshelve_args(arg, v)?;
    if ![vm::SHELVED, vm::SHELVED_OFFLOADED].contains(&i.vm_state.as_str()) {
        return Err(conflict("unshelve", &i));
    }
    if i.task_state.is_some() {
        return Err(task_conflict("unshelve", &i));
    }
    if (args.zone.is_some() || args.host.is_some()) && i.vm_state != vm::SHELVED_OFFLOADED {
        return Err(Error::conflict(format!(
            "The unshelve action failed because the instance {} is in {} state; \
             it must be shelved offloaded to choose a zone or host.",
            i.id, i.vm_state
        )));
    }
    let here = zone_of_host(svc, &svc.config().host).await?;
    if let Some(Some(zone)) = &args.zone {
        if *zone != here {
            return Err(Error::bad_request(
                "The requested availability zone is not available",
            ));
        }
    }
    if let Some(host) = &args.host {
        require_admin(c, "os_compute_api:os-shelve:unshelve_to_host")?;
        if services::get(svc.db(), host, "nova-compute")
            .await?
            .is_none()
        {
            return Err(Error::bad_request(format!(
                "Compute host {host} could not be found."
            )));
        }
        let expected = match &args.zone {
            Some(z) => z.clone(),
            None => i.pinned_az.clone(),
        };
        if let Some(zone) = expected {
            if zone != zone_of_host(svc, host).await? {
                return Err(Error::conflict(format!(
                    "Host \"{host}\" is not in the availability zone \"{zone}\"."
                )));
            }
        }
    }
    if let Some(zone) = args.zone {
        i.pinned_az = zone;
    }
    if !instances::claim_task_state(svc.db(), &i.id, None, "unshelving").await? {
        return Err(task_conflict("unshelve", &i));
    }
    instances::update_fields(svc.db(), &i).await?;
    tasks::enqueue(svc.db(), &i.id, "unshelve", &Value::Null).await?;
    svc.wake_worker();
    Ok(accepted_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minor: u32) -> ApiVersion {
        ApiVersion::new(2, minor)
    }

    #[test]
    fn bodies_per_version() {
        let any = json!({"whatever": 1});
        assert_eq!(
            unshelve_args(&any, at(76)).ok(),
            Some(UnshelveArgs::default())
        );
        assert!(unshelve_args(&json!({}), at(77)).is_err());
        assert!(unshelve_args(&json!({"host": "h"}), at(77)).is_err());
        let z = unshelve_args(&json!({"availability_zone": "nova"}), at(77)).ok();
        assert_eq!(z.map(|a| a.zone), Some(Some(Some("nova".into()))));
        let n = unshelve_args(&json!({"availability_zone": null}), at(91)).ok();
        assert_eq!(n.map(|a| a.zone), Some(Some(None)));
        assert!(unshelve_args(&json!({}), at(91)).is_ok());
        assert!(unshelve_args(&json!({"host": 1}), at(91)).is_err());
    }
}
