//! The instance worker: claims durable tasks and carries them out through the
//! driver and the peer services. Every handler is idempotent, so a task
//! requeued after a crash can simply run again.

use std::sync::Arc;
use std::time::Duration;

use ferro_api::services::{BootVolumeSource, PortRequest};
use ferro_api::AuthContext;
use ferro_virt::VolumeDisk;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::state::{vm, PowerState};
use crate::store::attachments::{self, Attachment};
use crate::store::instances::{self, Instance};
use crate::store::tasks::{self, Task};
use crate::store::{instance_actions, server_groups, services, tags};
use crate::ComputeService;

mod power_sync;
mod shelving;
mod snapshots;

/// How many tasks run at once (each on a different server).
const PARALLEL_TASKS: usize = 8;

/// How often the worker marks this host's services alive (upstream's
/// `report_interval`).
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Run forever: claim a task for a server that has none running, run it
/// beside the others (up to `PARALLEL_TASKS`), repeat; sleep until woken
/// or a second passes when there is nothing to do.
pub async fn run(svc: ComputeService) {
    power_sync::start(svc.clone());
    let slots = Arc::new(Semaphore::new(PARALLEL_TASKS));
    let mut last_beat = std::time::Instant::now();
    loop {
        if last_beat.elapsed() >= HEARTBEAT {
            last_beat = std::time::Instant::now();
            if let Err(e) = services::heartbeat(svc.db(), &svc.config().host).await {
                tracing::warn!(error = %e, "could not record the service heartbeat");
            }
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        match tasks::claim(svc.db(), &svc.config().host).await {
            Ok(Some(task)) => {
                let svc = svc.clone();
                tokio::spawn(async move {
                    let id = task.id.clone();
                    handle(&svc, task).await;
                    if let Err(e) = tasks::finish(svc.db(), &id).await {
                        tracing::error!(error = %e, task = %id, "could not finish task");
                    }
                    drop(slot);
                    // A task of the same server may wait for this one.
                    svc.wake_worker();
                });
            }
            Ok(None) => {
                drop(slot);
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), svc.inner.wake.notified()).await;
            }
            Err(e) => {
                drop(slot);
                tracing::error!(error = %e, "could not claim a compute task");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The context the worker acts in for an instance: its owner's project.
pub(crate) fn owner_context(i: &Instance) -> AuthContext {
    owner_context_of(&i.user_id, &i.project_id)
}

/// The context of a server's owner, from its user and project ids.
pub(crate) fn owner_context_of(user_id: &str, project_id: &str) -> AuthContext {
    AuthContext {
        user_id: user_id.to_owned(),
        project_id: Some(project_id.to_owned()),
        roles: vec!["member".into(), "reader".into()],
        ..Default::default()
    }
}

async fn handle(svc: &ComputeService, task: Task) {
    let instance = match instances::get(svc.db(), &task.instance_id).await {
        Ok(Some(i)) => i,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "could not load instance");
            return;
        }
    };
    let started = ferro_api::time::now_micros();
    let result = match task.kind.as_str() {
        "build" => build(svc, &instance).await,
        "delete" => delete(svc, &instance).await,
        "power" => power(svc, &instance, &task.args).await,
        "reboot" => reboot(svc, &instance, &task.args).await,
        "rebuild" => rebuild(svc, &instance, &task.args).await,
        "resize" => resize(svc, &instance, &task.args).await,
        "shelve" => shelving::shelve(svc, &instance, &task.args).await,
        "shelve_offload" => shelving::offload(svc, &instance).await,
        "unshelve" => shelving::unshelve(svc, &instance).await,
        "rescue" => shelving::rescue(svc, &instance, &task.args).await,
        "unrescue" => shelving::unrescue(svc, &instance).await,
        "snapshot" => snapshots::snapshot(svc, &instance, &task.args).await,
        "attach_volume" => attach_volume(svc, &instance, &task.args).await,
        "detach_volume" => detach_volume(svc, &instance, &task.args).await,
        "attach_interface" => attach_interface(svc, &instance, &task.args).await,
        "detach_interface" => detach_interface(svc, &instance, &task.args).await,
        "confirm_resize" => svc
            .driver()
            .confirm_resize(&instance.id)
            .await
            .map_err(|e| e.to_string()),
        other => Err(format!("unknown task kind {other}")),
    };
    record_event(svc, &instance, &task.kind, started, result.as_ref().err()).await;
    if let Err(message) = result {
        tracing::warn!(instance = %instance.id, task = %task.kind, %message, "task failed");
        if task.kind == "build" {
            let ctx = owner_context(&instance);
            // Nothing of a failed build stays on the host.
            let _ = svc.driver().destroy(&instance.id).await;
            let _ = svc.peers().network.release_ports(&ctx, &instance.id).await;
            let _ = instances::set_error(svc.db(), &instance.id, 500, &message).await;
        } else if task.kind == "resize" {
            let _ = crate::store::migrations::advance(
                svc.db(),
                &instance.id,
                &["migrating", "reverting"],
                "error",
            )
            .await;
        }
        if task.kind != "build" && task.kind != "delete" {
            let _ = instances::set_state(
                svc.db(),
                &instance.id,
                &instance.vm_state,
                None,
                instance.power_state,
            )
            .await;
        }
    }
}

/// The event of the instance's latest action (the one that queued this
/// task), with Nova's event names.
async fn record_event(
    svc: &ComputeService,
    i: &Instance,
    kind: &str,
    started: i64,
    failure: Option<&String>,
) {
    let db = svc.db();
    let Ok(actions) = instance_actions::list(db, &i.id).await else {
        return;
    };
    let Some(action) = actions.first() else {
        return;
    };
    let event = match kind {
        "build" => "compute__do_build_and_run_instance".to_owned(),
        "delete" => "compute_terminate_instance".to_owned(),
        "shelve_offload" => "compute_shelve_offload_instance".to_owned(),
        "attach_volume" => "compute_attach_volume".to_owned(),
        "detach_volume" => "compute_detach_volume".to_owned(),
        "attach_interface" => "compute_attach_interface".to_owned(),
        "detach_interface" => "compute_detach_interface".to_owned(),
        "confirm_resize" => "compute_confirm_resize".to_owned(),
        _ => format!("compute_{}_instance", action.action),
    };
    let failure = failure.map(String::as_str);
    let host = &svc.config().host;
    if let Err(e) =
        instance_actions::add_event_on(db, &action.id, &event, started, failure, Some(host)).await
    {
        tracing::warn!(instance = %i.id, error = %e, "could not record the action event");
    }
}

async fn build(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    if i.vm_state != vm::BUILDING {
        return Ok(());
    }
    let ctx = owner_context(i);
    let db = svc.db();
    let err = |e: ferro_store::sqlx::Error| e.to_string();
    schedule(svc, i).await?;
    instances::set_state(db, &i.id, vm::BUILDING, Some("networking"), 0)
        .await
        .map_err(err)?;
    let existing = svc
        .peers()
        .network
        .ports_of_device(&ctx, &i.id)
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_empty() {
        let tags = network_tags(i);
        for (req, tag) in port_requests(i).into_iter().zip(tags) {
            let port = svc
                .peers()
                .network
                .allocate_port(&ctx, &req, &i.id, "compute:nova")
                .await
                .map_err(|e| format!("Build of instance {} aborted: {e}", i.id))?;
            if let Some(tag) = tag {
                tags::set_interface_tag(db, &i.id, &port.id, &tag)
                    .await
                    .map_err(err)?;
            }
        }
    }
    instances::set_state(db, &i.id, vm::BUILDING, Some("block_device_mapping"), 0)
        .await
        .map_err(err)?;
    attach_boot_volumes(svc, &ctx, i).await?;
    instances::set_state(db, &i.id, vm::BUILDING, Some("spawning"), 0)
        .await
        .map_err(err)?;
    let guest = crate::guest::guest_of(svc, i, None).await?;
    svc.driver()
        .spawn(&guest)
        .await
        .map_err(|e| e.to_string())?;
    instances::set_active(db, &i.id, &svc.config().host)
        .await
        .map_err(err)
}

/// The scheduler's filters, on this deployment's one host: the host's
/// nova-compute service must be enabled and not forced down
/// (ComputeFilter), and a member of an `anti-affinity` group fails when
/// `max_server_per_host` (default 1) other members already run here.
async fn schedule(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    let db = svc.db();
    let err = |e: ferro_store::sqlx::Error| e.to_string();
    let no_host = "No valid host was found. There are not enough hosts available.";
    let host = &svc.config().host;
    let compute = services::get(db, host, "nova-compute").await.map_err(err)?;
    if compute.is_some_and(|s| s.disabled || s.forced_down) {
        return Err(no_host.into());
    }
    if !fits(svc, i).await.map_err(err)? {
        return Err(no_host.into());
    }
    let Some(group) = server_groups::group_of(db, &i.id).await.map_err(err)? else {
        return Ok(());
    };
    // The soft policies only weigh hosts; `anti-affinity` allows
    // `max_server_per_host` members per host (2.64 rule, default 1).
    if group.policy != "anti-affinity" {
        return Ok(());
    }
    let max = group.max_server_per_host.unwrap_or(1);
    let mut here = 0;
    for member in server_groups::members(db, &group.id).await.map_err(err)? {
        if member == i.id {
            continue;
        }
        let other = instances::get(db, &member).await.map_err(err)?;
        if other.is_some_and(|o| o.host.as_deref() == Some(host.as_str())) {
            here += 1;
        }
    }
    if here >= max {
        return Err(no_host.into());
    }
    Ok(())
}

/// The resource filters: the host's CPUs, memory (less Nova's 512 MiB
/// reserved for the host) and disk, times the allocation ratios, must hold
/// what its servers' flavors already take plus this one's.
async fn fits(svc: &ComputeService, i: &Instance) -> ferro_store::sqlx::Result<bool> {
    let host = svc.driver().host_resources();
    let cfg = svc.config();
    let take = |f: &Value, k: &str| f.get(k).and_then(Value::as_i64).unwrap_or(0).max(0);
    let need = |f: &Value| {
        (
            take(f, "vcpus"),
            take(f, "ram"),
            take(f, "disk") + take(f, "ephemeral") + (take(f, "swap") + 1023) / 1024,
        )
    };
    let (mut cpus, mut ram, mut disk) = need(&i.flavor);
    for other in instances::list(svc.db(), None).await? {
        if other.id == i.id || other.host.as_deref() != Some(cfg.host.as_str()) {
            continue;
        }
        if other.vm_state == vm::SHELVED_OFFLOADED || other.deleted_at.is_some() {
            continue;
        }
        let (c, r, d) = need(&other.flavor);
        cpus += c;
        ram += r;
        disk += d;
    }
    let cap = |total: i64, ratio: f64| (total.max(0) as f64 * ratio) as i64;
    Ok(cpus <= cap(host.vcpus, cfg.cpu_allocation_ratio)
        && ram <= cap(host.memory_mb - 512, cfg.ram_allocation_ratio)
        && disk <= cap(host.local_gb, cfg.disk_allocation_ratio))
}

/// The device tag of each requested NIC (None where none was given).
fn network_tags(i: &Instance) -> Vec<Option<String>> {
    match &i.requested_networks {
        Value::Array(list) => list
            .iter()
            .map(|n| n["tag"].as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The NIC requests recorded at create time.
fn port_requests(i: &Instance) -> Vec<PortRequest> {
    let groups = i.security_groups.clone();
    match &i.requested_networks {
        Value::Array(list) => list
            .iter()
            .map(|n| PortRequest {
                port_id: n["port"].as_str().map(str::to_owned),
                network_id: n["uuid"].as_str().map(str::to_owned),
                fixed_ip: n["fixed_ip"].as_str().map(str::to_owned),
                security_groups: groups.clone(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn attach_boot_volumes(
    svc: &ComputeService,
    ctx: &AuthContext,
    i: &Instance,
) -> Result<(), String> {
    let have = attachments::of_instance(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())?;
    let bdms = i.block_devices.as_array().cloned().unwrap_or_default();
    for (n, b) in bdms.iter().enumerate() {
        if b["destination_type"].as_str() != Some("volume") {
            continue;
        }
        let source = match b["source_type"].as_str() {
            Some("volume") => None,
            Some("image") => Some(BootVolumeSource::Image(
                b["uuid"].as_str().unwrap_or(&i.image_id).to_owned(),
            )),
            Some("snapshot") => Some(BootVolumeSource::Snapshot(
                b["uuid"].as_str().unwrap_or_default().to_owned(),
            )),
            Some("blank") => Some(BootVolumeSource::Blank),
            _ => continue,
        };
        let volume_id = match source {
            None => b["uuid"].as_str().unwrap_or_default().to_owned(),
            Some(source) => {
                // A volume made for this entry on an earlier try is kept.
                if have.iter().any(|a| a.device == device_name(n)) {
                    continue;
                }
                let size = b["volume_size"].as_i64().unwrap_or(1).max(1);
                let volume_type = b["volume_type"].as_str().map(str::to_owned);
                svc.peers()
                    .volume
                    .create_boot_volume(ctx, source, size, volume_type)
                    .await
                    .map_err(|e| e.to_string())?
                    .id
            }
        };
        if have.iter().any(|a| a.volume_id == volume_id) {
            continue;
        }
        let device = device_name(n);
        let att = svc
            .peers()
            .volume
            .reserve(ctx, &volume_id, &i.id)
            .await
            .map_err(|e| e.to_string())?;
        svc.peers()
            .volume
            .attach(ctx, &volume_id, &att, &device)
            .await
            .map_err(|e| e.to_string())?;
        let a = Attachment {
            id: uuid::Uuid::new_v4().to_string(),
            instance_id: i.id.clone(),
            volume_id,
            device,
            attachment_id: att,
            delete_on_termination: b["delete_on_termination"].as_bool().unwrap_or(false),
            boot_index: b["boot_index"].as_i64(),
            tag: b["tag"].as_str().map(str::to_owned),
        };
        attachments::create(svc.db(), &a)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The device of the `n`th block device mapping (`/dev/vda`, …).
fn device_name(n: usize) -> String {
    format!("/dev/vd{}", (b'a' + (n.min(25) as u8)) as char)
}

async fn delete(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    let ctx = owner_context(i);
    shelving::delete_shelved_image(svc, i).await;
    svc.driver()
        .destroy(&i.id)
        .await
        .map_err(|e| e.to_string())?;
    for a in attachments::of_instance(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())?
    {
        if let Err(e) = svc
            .peers()
            .volume
            .detach(&ctx, &a.volume_id, &a.attachment_id)
            .await
        {
            tracing::warn!(volume = %a.volume_id, error = %e, "detach on delete failed");
        }
        if a.delete_on_termination {
            let _ = svc.peers().volume.delete_volume(&ctx, &a.volume_id).await;
        }
        let _ = attachments::delete(svc.db(), &a.id).await;
    }
    svc.peers()
        .network
        .release_ports(&ctx, &i.id)
        .await
        .map_err(|e| e.to_string())?;
    server_groups::remove_instance(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())?;
    instances::mark_deleted(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())
}

/// How long a guest may take to power off cleanly before it is stopped
/// hard (Nova's `shutdown_timeout`).
pub(crate) fn shutdown_timeout(svc: &ComputeService) -> Duration {
    Duration::from_secs(svc.config().shutdown_timeout_s)
}

fn driver_err(e: ferro_virt::DriverError) -> String {
    e.to_string()
}

/// `{"to": "running"|"shutdown"|"paused"|"suspended"}`, from the server's
/// current vm_state.
async fn power(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let driver = svc.driver();
    let (to, state) = match args["to"].as_str() {
        Some("running") => {
            match i.vm_state.as_str() {
                vm::PAUSED => driver.unpause(&i.id).await,
                vm::SUSPENDED => {
                    let guest = crate::guest::guest_of(svc, i, None).await?;
                    driver.resume(&guest).await
                }
                _ => {
                    let guest = crate::guest::guest_of(svc, i, None).await?;
                    driver.power_on(&guest).await
                }
            }
            .map_err(driver_err)?;
            (PowerState::Running, vm::ACTIVE)
        }
        Some("shutdown") => {
            driver
                .power_off(&i.id, shutdown_timeout(svc))
                .await
                .map_err(driver_err)?;
            (PowerState::Shutdown, vm::STOPPED)
        }
        Some("paused") => {
            driver.pause(&i.id).await.map_err(driver_err)?;
            (PowerState::Paused, vm::PAUSED)
        }
        Some("suspended") => {
            driver.suspend(&i.id).await.map_err(driver_err)?;
            (PowerState::Suspended, vm::SUSPENDED)
        }
        other => return Err(format!("bad power target {other:?}")),
    };
    instances::set_state(svc.db(), &i.id, state, None, to.code())
        .await
        .map_err(|e| e.to_string())
}

async fn reboot(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let hard = args["hard"].as_bool().unwrap_or(false);
    let guest = crate::guest::guest_of(svc, i, None).await?;
    svc.driver()
        .reboot(&guest, hard, shutdown_timeout(svc))
        .await
        .map_err(driver_err)?;
    instances::set_state(
        svc.db(),
        &i.id,
        vm::ACTIVE,
        None,
        PowerState::Running.code(),
    )
    .await
    .map_err(|e| e.to_string())
}

/// Rebuild: a fresh root disk from the (new) image, same id, ports and
/// volumes; back to `to` (`active`, or `stopped` for a server that was
/// stopped).
async fn rebuild(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let running = args["to"].as_str() != Some(vm::STOPPED);
    if let Some(image_id) = args["reimage"].as_str() {
        reimage_root_volume(svc, i, image_id).await?;
    }
    let guest = crate::guest::guest_of(svc, i, None).await?;
    svc.driver()
        .rebuild(&guest, running)
        .await
        .map_err(driver_err)?;
    let (state, power) = if running {
        (vm::ACTIVE, PowerState::Running)
    } else {
        (vm::STOPPED, PowerState::Shutdown)
    };
    instances::set_state(svc.db(), &i.id, state, None, power.code())
        .await
        .map_err(|e| e.to_string())
}

/// A volume-backed server's rebuild from 2.93: the guest stops (its disk
/// is about to change under it), then the volume service rewrites the root
/// volume with the new image; the rebuild boots it afresh.
async fn reimage_root_volume(
    svc: &ComputeService,
    i: &Instance,
    image_id: &str,
) -> Result<(), String> {
    let root = attachments::of_instance(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|a| a.boot_index == Some(0))
        .ok_or_else(|| "the volume-backed server has no root volume".to_owned())?;
    svc.driver()
        .power_off(&i.id, Duration::ZERO)
        .await
        .map_err(driver_err)?;
    svc.peers()
        .volume
        .reimage_volume(&crate::guest::admin_context(i), &root.volume_id, image_id)
        .await
        .map_err(|e| e.to_string())
}

/// Resize (to `resized`, awaiting confirmation) or its revert (back to the
/// vm_state the server had); a guest that ran runs again.
async fn resize(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let guest = crate::guest::guest_of(svc, i, None).await?;
    let (to, running) = match args["to"].as_str() {
        Some("resized") => {
            let was = i
                .old_flavor
                .as_ref()
                .and_then(|o| o["vm_state"].as_str())
                .unwrap_or(vm::ACTIVE);
            let running = was != vm::STOPPED;
            svc.driver()
                .resize(&guest, running)
                .await
                .map_err(driver_err)?;
            ("resized", running)
        }
        Some(vm::STOPPED) => {
            svc.driver()
                .revert_resize(&guest, false)
                .await
                .map_err(driver_err)?;
            (vm::STOPPED, false)
        }
        _ => {
            svc.driver()
                .revert_resize(&guest, true)
                .await
                .map_err(driver_err)?;
            (vm::ACTIVE, true)
        }
    };
    let power = if running {
        PowerState::Running
    } else {
        PowerState::Shutdown
    };
    instances::set_state(svc.db(), &i.id, to, None, power.code())
        .await
        .map_err(|e| e.to_string())?;
    // The migration record follows: a resize is finished (awaiting
    // confirmation), a revert reverted.
    let (from, status): (&[&str], &str) = if to == "resized" {
        (&["migrating"], "finished")
    } else {
        (&["reverting"], "reverted")
    };
    crate::store::migrations::advance(svc.db(), &i.id, from, status)
        .await
        .map_err(|e| e.to_string())
}

/// Whether the server's guest exists on this host (not shelved away).
fn has_guest(i: &Instance) -> bool {
    i.vm_state != vm::SHELVED_OFFLOADED && i.vm_state != vm::BUILDING
}

/// `{"volume_id", "attachment_id", "device"}`: the volume (reserved and
/// recorded by the API) is hot-plugged into the guest, then in use. On
/// failure the reservation and the record go.
async fn attach_volume(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let ctx = crate::guest::admin_context(i);
    let volume_id = args["volume_id"].as_str().unwrap_or_default();
    let attachment_id = args["attachment_id"].as_str().unwrap_or_default();
    let device = args["device"].as_str().unwrap_or_default();
    let result = plug_volume(svc, &ctx, i, volume_id, device).await;
    let result = match result {
        Ok(()) => svc
            .peers()
            .volume
            .attach(&ctx, volume_id, attachment_id, device)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        tracing::warn!(instance = %i.id, volume = %volume_id, error = %e, "attach failed");
        let _ = svc.driver().detach_volume(&i.id, volume_id).await;
        let _ = svc
            .peers()
            .volume
            .unreserve(&ctx, volume_id, attachment_id)
            .await;
        if let Ok(list) = attachments::of_instance(svc.db(), &i.id).await {
            for a in list.iter().filter(|a| a.volume_id == volume_id) {
                let _ = attachments::delete(svc.db(), &a.id).await;
            }
        }
    }
    result
}

async fn plug_volume(
    svc: &ComputeService,
    ctx: &AuthContext,
    i: &Instance,
    volume_id: &str,
    device: &str,
) -> Result<(), String> {
    if !has_guest(i) || !svc.driver().uses_disk_files() {
        return Ok(());
    }
    let volume = svc
        .peers()
        .volume
        .get_volume(ctx, volume_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("Volume {volume_id} could not be found."))?;
    let path = volume
        .data_path
        .ok_or_else(|| format!("Volume {volume_id} has no data on this host."))?;
    let disk = VolumeDisk {
        volume_id: volume_id.to_owned(),
        file: crate::guest::volume_file(path),
        device: device.to_owned(),
        shared: volume.multiattach,
    };
    svc.driver()
        .attach_volume(&i.id, &disk)
        .await
        .map_err(driver_err)
}

/// `{"port_id"}`: the port (allocated by the API) is hot-plugged into the
/// guest as a NIC; if that fails the port goes again, as Nova does.
async fn attach_interface(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    if !has_guest(i) {
        return Ok(());
    }
    let ctx = crate::guest::admin_context(i);
    let port_id = args["port_id"].as_str().unwrap_or_default();
    let ports = svc
        .peers()
        .network
        .ports_of_device(&ctx, &i.id)
        .await
        .map_err(|e| e.to_string())?;
    // Detached (or deleted) meanwhile: nothing to plug.
    let Some(port) = ports.iter().find(|p| p.id == port_id) else {
        return Ok(());
    };
    let nic = crate::guest::nic_of(port);
    if let Err(e) = svc.driver().attach_interface(&i.id, &nic).await {
        tracing::warn!(instance = %i.id, port = %port_id, error = %e, "interface attach failed");
        let _ = svc.driver().detach_interface(&i.id, port_id).await;
        let _ = svc.peers().network.release_port(&ctx, &i.id, port_id).await;
        return Err(driver_err(e));
    }
    Ok(())
}

/// `{"port_id"}`: the guest releases the NIC, then the port is released
/// (deleted when Nova made it, unbound when the user brought it).
async fn detach_interface(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let ctx = crate::guest::admin_context(i);
    let port_id = args["port_id"].as_str().unwrap_or_default();
    if has_guest(i) {
        svc.driver()
            .detach_interface(&i.id, port_id)
            .await
            .map_err(driver_err)?;
    }
    svc.peers()
        .network
        .release_port(&ctx, &i.id, port_id)
        .await
        .map_err(|e| e.to_string())
}

/// `{"volume_id"}`: the guest releases the volume, then it is available
/// and the attachment record goes.
async fn detach_volume(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let ctx = crate::guest::admin_context(i);
    let volume_id = args["volume_id"].as_str().unwrap_or_default();
    let list = attachments::of_instance(svc.db(), &i.id)
        .await
        .map_err(|e| e.to_string())?;
    let Some(a) = list.into_iter().find(|a| a.volume_id == volume_id) else {
        return Ok(());
    };
    if has_guest(i) {
        svc.driver()
            .detach_volume(&i.id, volume_id)
            .await
            .map_err(driver_err)?;
    }
    svc.peers()
        .volume
        .detach(&ctx, &a.volume_id, &a.attachment_id)
        .await
        .map_err(|e| e.to_string())?;
    attachments::delete(svc.db(), &a.id)
        .await
        .map_err(|e| e.to_string())
}
