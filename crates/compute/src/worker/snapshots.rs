//! Snapshots: `createImage` and `createBackup` (queued by the API with the
//! image registered), and the disk upload of a shelve.

use ferro_api::AuthContext;
use serde_json::Value;

use crate::api::server_images;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::ComputeService;

/// The guest's root disk, copied consistently, becomes image `image_id`'s
/// data.
pub(super) async fn upload_disk(
    svc: &ComputeService,
    i: &Instance,
    ctx: &AuthContext,
    image_id: &str,
) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("ferro-snapshot-{image_id}.qcow2"));
    let _ = std::fs::remove_file(&tmp);
    let result = async {
        svc.driver()
            .snapshot(&i.id, &tmp)
            .await
            .map_err(|e| e.to_string())?;
        svc.peers()
            .image
            .upload_image_file(ctx, image_id, tmp.clone())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result.map(|_| ())
}

/// `{"image_id", "backup_type"?, "rotation"?}`: Nova's task states
/// `image_pending_upload` → `image_uploading` → none; a failed snapshot
/// takes its image with it. A backup then rotates the server's older
/// backups of its type.
pub(super) async fn snapshot(
    svc: &ComputeService,
    i: &Instance,
    args: &Value,
) -> Result<(), String> {
    let ctx = super::shelving::image_context(i);
    let Some(image_id) = args["image_id"].as_str() else {
        return Err("snapshot task without an image".into());
    };
    let db = svc.db();
    let set = |task: Option<&'static str>| {
        instances::set_state(db, &i.id, &i.vm_state, task, i.power_state)
    };
    set(Some("image_pending_upload"))
        .await
        .map_err(|e| e.to_string())?;
    set(Some("image_uploading"))
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = upload_disk(svc, i, &ctx, image_id).await {
        let _ = svc.peers().image.delete_image(&ctx, image_id).await;
        return Err(e);
    }
    if let (Some(kind), Some(rotation)) = (args["backup_type"].as_str(), args["rotation"].as_u64())
    {
        server_images::rotate_backups(svc, &ctx, &i.id, kind, rotation)
            .await
            .map_err(|e| e.to_string())?;
    }
    let state = if i.vm_state == vm::BUILDING {
        vm::ACTIVE
    } else {
        &i.vm_state
    };
    instances::set_state(db, &i.id, state, None, i.power_state)
        .await
        .map_err(|e| e.to_string())
}
