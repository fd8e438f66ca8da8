//! The worker's side of shelve/unshelve and rescue/unrescue.

use ferro_api::AuthContext;
use serde_json::Value;

use crate::state::{vm, PowerState};
use crate::store::instances::{self, Instance};
use crate::ComputeService;
use ferro_virt::DiskFile;

fn db_err(e: ferro_store::sqlx::Error) -> String {
    e.to_string()
}

/// The context the worker handles a server's shelved image in: its
/// owner's, with the admin role (an admin may have shelved it).
pub(super) fn image_context(i: &Instance) -> AuthContext {
    let mut ctx = super::owner_context(i);
    ctx.roles.push("admin".into());
    ctx
}

/// Shelve: the guest is powered off and its disk uploaded to the image
/// the API registered (none for a volume-backed server), then offloaded
/// at once (Nova's default `shelved_offload_time = 0`).
pub(super) async fn shelve(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let driver = svc.driver();
    driver
        .power_off(&i.id, super::shutdown_timeout(svc))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(image_id) = args["image_id"].as_str() {
        super::snapshots::upload_disk(svc, i, &image_context(i), image_id).await?;
        instances::set_state(
            svc.db(),
            &i.id,
            vm::SHELVED,
            Some("shelving_offloading"),
            PowerState::Shutdown.code(),
        )
        .await
        .map_err(db_err)?;
    }
    offload(svc, i).await
}

/// Shelve offload: the guest is destroyed and the server leaves its host.
pub(super) async fn offload(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    svc.driver()
        .destroy(&i.id)
        .await
        .map_err(|e| e.to_string())?;
    instances::set_offloaded(svc.db(), &i.id)
        .await
        .map_err(db_err)
}

/// Unshelve: the guest is spawned (from the shelved image) on this host,
/// the shelved image is deleted, then the server is active.
pub(super) async fn unshelve(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    let db = svc.db();
    instances::set_state(db, &i.id, &i.vm_state, Some("spawning"), i.power_state)
        .await
        .map_err(db_err)?;
    let guest = crate::guest::guest_of(svc, i, i.shelved_image_id.as_deref()).await?;
    svc.driver()
        .spawn(&guest)
        .await
        .map_err(|e| e.to_string())?;
    // As Nova: the snapshot goes before the server is shown ACTIVE again.
    delete_shelved_image(svc, i).await;
    instances::set_active(db, &i.id, &svc.config().host)
        .await
        .map_err(db_err)
}

/// Forget (and delete from Glance) the image a server was shelved as.
pub(super) async fn delete_shelved_image(svc: &ComputeService, i: &Instance) {
    let Some(image_id) = &i.shelved_image_id else {
        return;
    };
    if let Err(e) = svc
        .peers()
        .image
        .delete_image(&image_context(i), image_id)
        .await
    {
        tracing::warn!(instance = %i.id, image = %image_id, error = %e, "could not delete the shelved image");
    }
    let _ = instances::set_shelved_image(svc.db(), &i.id, None).await;
}

/// Rescue: the guest boots from the rescue image; `rescued`, running.
pub(super) async fn rescue(svc: &ComputeService, i: &Instance, args: &Value) -> Result<(), String> {
    let guest = crate::guest::guest_of(svc, i, None).await?;
    let image_id = args["image_id"].as_str().unwrap_or(&i.image_id);
    let image = if !svc.driver().uses_disk_files() {
        DiskFile::default()
    } else {
        crate::guest::image_disk(svc, &image_context(i), image_id).await?
    };
    svc.driver()
        .rescue(&guest, &image)
        .await
        .map_err(|e| e.to_string())?;
    let running = PowerState::Running.code();
    instances::set_state(svc.db(), &i.id, vm::RESCUED, None, running)
        .await
        .map_err(db_err)
}

/// Unrescue: back to the guest's own disk, `active`.
pub(super) async fn unrescue(svc: &ComputeService, i: &Instance) -> Result<(), String> {
    let guest = crate::guest::guest_of(svc, i, None).await?;
    svc.driver()
        .unrescue(&guest)
        .await
        .map_err(|e| e.to_string())?;
    let running = PowerState::Running.code();
    instances::set_state(svc.db(), &i.id, vm::ACTIVE, None, running)
        .await
        .map_err(db_err)
}
