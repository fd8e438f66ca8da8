//! What compute asks of the volume service in process ([`VolumeApi`]), and
//! crash recovery at start.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use ferro_api::services::{ServiceResult, VolumeApi, VolumeInfo};
use ferro_api::time::now_micros;
use ferro_api::{AuthContext, CommonError};

use crate::api::{volumes as vapi, Ctx};
use crate::error::{Error, Result};
use crate::ops::{self, AttachReq};
use crate::store::{attachments, snapshots, tasks, volumes};
use crate::VolumeService;

fn sees(ctx: &AuthContext, project: &str) -> bool {
    ctx.is_admin() || ctx.project_id.as_deref() == Some(project)
}

async fn load(svc: &VolumeService, ctx: &AuthContext, id: &str) -> Result<volumes::Volume> {
    match volumes::get(svc.db(), id).await? {
        Some(v) if sees(ctx, &v.project_id) => Ok(v),
        _ => Err(Error::volume_not_found(id)),
    }
}

async fn info(svc: &VolumeService, v: &volumes::Volume) -> Result<VolumeInfo> {
    let atts = attachments::of_volume(svc.db(), &v.id).await?;
    Ok(VolumeInfo {
        id: v.id.clone(),
        status: v.status.clone(),
        size_gb: v.size,
        bootable: v.bootable,
        data_path: Some(svc.backend().volume_path(&v.id)),
        attachments: atts
            .into_iter()
            .filter(|a| a.attach_status == "attached")
            .map(|a| {
                (
                    a.server_id.unwrap_or_default(),
                    a.id,
                    a.device.unwrap_or_default(),
                )
            })
            .collect(),
    })
}

fn writer(ctx: &AuthContext) -> Result<()> {
    if ctx.is_admin() || ctx.has_role("member") || ctx.has_role("_member_") {
        Ok(())
    } else {
        Err(Error::policy())
    }
}

#[async_trait]
impl VolumeApi for VolumeService {
    async fn get_volume(&self, ctx: &AuthContext, id: &str) -> ServiceResult<Option<VolumeInfo>> {
        match volumes::get(self.db(), id).await.map_err(Error::from)? {
            Some(v) if sees(ctx, &v.project_id) => Ok(Some(info(self, &v).await?)),
            _ => Ok(None),
        }
    }

    async fn reserve(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        server_id: &str,
    ) -> ServiceResult<String> {
        writer(ctx)?;
        let v = load(self, ctx, volume_id).await?;
        if v.status != "available" {
            return Err(CommonError::conflict(format!(
                "Volume {volume_id} status must be available to attach, but it is {}.",
                v.status
            )));
        }
        Ok(ops::reserve(self, &v, Some(server_id)).await?)
    }

    async fn attach(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
        device: &str,
    ) -> ServiceResult<()> {
        writer(ctx)?;
        let v = load(self, ctx, volume_id).await?;
        let req = AttachReq {
            attachment_id: Some(attachment_id),
            server_id: None,
            host_name: None,
            device,
            mode: "rw",
        };
        Ok(ops::attach(self, &v, &req).await?)
    }

    async fn unreserve(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
    ) -> ServiceResult<()> {
        let v = load(self, ctx, volume_id).await?;
        Ok(ops::unreserve(self, &v, Some(attachment_id)).await?)
    }

    async fn detach(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
    ) -> ServiceResult<()> {
        let v = load(self, ctx, volume_id).await?;
        if v.status == "in-use" {
            ops::begin_detaching(self, &v).await?;
        }
        let v = load(self, ctx, volume_id).await?;
        Ok(ops::detach(self, &v, Some(attachment_id)).await?)
    }

    async fn create_from_image(
        &self,
        ctx: &AuthContext,
        image_id: &str,
        size_gb: i64,
    ) -> ServiceResult<VolumeInfo> {
        writer(ctx)?;
        let c = Ctx::internal(ctx.clone());
        let req = vapi::NewVolume {
            size: Some(size_gb),
            name: None,
            description: None,
            volume_type: None,
            metadata: Default::default(),
            availability_zone: None,
            snapshot_id: None,
            source_volid: None,
            image_id: Some(image_id.to_owned()),
        };
        let vol = vapi::create_new(self, &c, req).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let v = load(self, ctx, &vol.id).await?;
            match v.status.as_str() {
                "creating" if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                "available" => return Ok(info(self, &v).await?),
                other => {
                    return Err(CommonError::bad_request(format!(
                        "Volume {} from image {image_id} ended in status {other}: {}",
                        v.id,
                        v.error_message.unwrap_or_default()
                    )))
                }
            }
        }
    }

    async fn delete_volume(&self, ctx: &AuthContext, id: &str) -> ServiceResult<()> {
        writer(ctx)?;
        let v = load(self, ctx, id).await?;
        Ok(ops::delete_volume(self, &v, false, false).await?)
    }
}

/// At start, before the workers run: requeue interrupted tasks, fail
/// resources whose work is gone, remove partial and orphan files.
pub async fn recover(svc: &VolumeService) -> Result<()> {
    let db = svc.db();
    let requeued = tasks::requeue_running(db).await?;
    if requeued > 0 {
        tracing::info!(
            requeued,
            "volume tasks interrupted by a restart are queued again"
        );
    }
    let pending: HashSet<String> = tasks::targets(db).await?.into_iter().collect();
    let now = now_micros();
    let mut conn = db.write().acquire().await?;
    for id in volumes::ids_with_status(db, "creating").await? {
        if !pending.contains(&id) {
            volumes::set_status(
                &mut conn,
                &id,
                "error",
                Some("creation was interrupted"),
                now,
            )
            .await?;
        }
    }
    for id in volumes::ids_with_status(db, "extending").await? {
        if !pending.contains(&id) {
            volumes::set_status(&mut conn, &id, "error_extending", None, now).await?;
        }
    }
    for id in snapshots::ids_with_status(db, "creating").await? {
        if !pending.contains(&id) {
            snapshots::set_status(
                &mut conn,
                &id,
                "error",
                Some("creation was interrupted"),
                now,
            )
            .await?;
        }
    }
    drop(conn);
    remove_orphans(svc).await
}

async fn remove_orphans(svc: &VolumeService) -> Result<()> {
    let b = svc.backend();
    let mut dir = match tokio::fs::read_dir(b.dir()).await {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::internal(format!(
                "reading {}: {e}",
                b.dir().display()
            )))
        }
    };
    let vols: HashSet<String> = volumes::list(svc.db(), None)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let snaps: HashSet<String> = snapshots::list(svc.db(), None)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let keep = if name.ends_with(".part") {
            false
        } else if let Some(id) = name
            .strip_prefix("volume-")
            .and_then(|s| s.strip_suffix(".qcow2"))
        {
            vols.contains(id)
        } else if let Some(id) = name
            .strip_prefix("snapshot-")
            .and_then(|s| s.strip_suffix(".qcow2"))
        {
            snaps.contains(id)
        } else {
            true
        };
        if !keep {
            tracing::info!(file = %name, "removing an orphan volume file");
            b.remove(&entry.path()).await;
        }
    }
    Ok(())
}
