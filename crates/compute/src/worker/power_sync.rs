//! Truth between servers and their guests, as Nova's power-state sync and
//! its start-up checks keep it:
//!
//! - at start, guests on this host whose server is gone (deleted, never
//!   made, shelved away) are destroyed with their files; the others were
//!   left running by the previous process and are adopted as they are;
//! - then every few seconds each settled server (no task) is compared
//!   with its guest: a guest that powered itself off or died makes its
//!   server SHUTOFF (power state SHUTDOWN, or CRASHED when QEMU vanished
//!   without being asked); a guest running for a server that should be
//!   stopped is stopped; any other difference updates the power state.

use std::time::Duration;

use ferro_virt::PowerState;

use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::ComputeService;

/// How often guests are compared with their servers.
const INTERVAL: Duration = Duration::from_secs(3);

pub(super) fn start(svc: ComputeService) {
    tokio::spawn(async move {
        if let Err(e) = remove_orphans(&svc).await {
            tracing::warn!(error = %e, "could not look for orphan guests");
        }
        loop {
            tokio::time::sleep(INTERVAL).await;
            if let Err(e) = sync_once(&svc).await {
                tracing::warn!(error = %e, "power state sync failed");
            }
        }
    });
}

/// Guests whose server should have none on this host.
async fn remove_orphans(svc: &ComputeService) -> Result<(), String> {
    for g in svc.driver().list_guests().await {
        let row = instances::get(svc.db(), &g.uuid)
            .await
            .map_err(|e| e.to_string())?;
        let wanted = row.is_some_and(|i| {
            i.deleted_at.is_none()
                && i.vm_state != vm::SHELVED_OFFLOADED
                && i.host.as_deref().is_none_or(|h| h == svc.config().host)
        });
        if !wanted {
            tracing::info!(instance = %g.uuid, "removing an orphan guest");
            if let Err(e) = svc.driver().destroy(&g.uuid).await {
                tracing::warn!(instance = %g.uuid, error = %e, "could not remove an orphan guest");
            }
        }
    }
    Ok(())
}

/// vm_states whose guest should exist and be compared.
const SYNCED: &[&str] = &[
    vm::ACTIVE,
    vm::STOPPED,
    vm::PAUSED,
    vm::SUSPENDED,
    vm::RESCUED,
    "resized",
];

async fn sync_once(svc: &ComputeService) -> Result<(), String> {
    let host = svc.config().host.clone();
    let servers: Vec<Instance> = instances::list(svc.db(), None)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|i| {
            i.host.as_deref() == Some(host.as_str())
                && i.task_state.is_none()
                && i.deleted_at.is_none()
                && SYNCED.contains(&i.vm_state.as_str())
        })
        .collect();
    for i in servers {
        let power = svc.driver().power_state(&i.id).await;
        sync_one(svc, &i, power).await?;
    }
    Ok(())
}

async fn sync_one(svc: &ComputeService, i: &Instance, power: PowerState) -> Result<(), String> {
    let db = svc.db();
    let err = |e: ferro_store::sqlx::Error| e.to_string();
    // No guest at all (NOSTATE) is only noted, as Nova does: the fake
    // driver forgets its guests on a restart, and a guest being made or
    // removed is not yet or no longer there.
    if power == PowerState::NoState {
        return Ok(());
    }
    let gone = matches!(power, PowerState::Shutdown | PowerState::Crashed);
    let should_run = match i.vm_state.as_str() {
        // A server resized while stopped stays off until confirmed or reverted.
        "resized" => {
            i.old_flavor.as_ref().and_then(|o| o["vm_state"].as_str()) != Some(vm::STOPPED)
        }
        s => [vm::ACTIVE, vm::RESCUED].contains(&s),
    };
    if should_run && gone {
        tracing::info!(instance = %i.id, ?power, "the guest is off: the server is SHUTOFF");
        // A guest that powered itself off leaves QEMU waiting: end it.
        let _ = svc.driver().power_off(&i.id, Duration::ZERO).await;
        instances::sync_power(db, &i.id, &i.vm_state, vm::STOPPED, power.code())
            .await
            .map_err(err)?;
        return Ok(());
    }
    if i.vm_state == vm::STOPPED && power == PowerState::Running {
        tracing::info!(instance = %i.id, "a stopped server's guest runs: stopping it");
        let _ = svc.driver().power_off(&i.id, Duration::ZERO).await;
        return Ok(());
    }
    if power.code() != i.power_state {
        instances::sync_power(db, &i.id, &i.vm_state, &i.vm_state, power.code())
            .await
            .map_err(err)?;
    }
    Ok(())
}
