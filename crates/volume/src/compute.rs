//! What compute asks of the volume service in process ([`VolumeApi`]), and
//! crash recovery at start.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use ferro_api::services::{BootVolumeSource, ServiceResult, VolumeApi, VolumeInfo};
use ferro_api::time::now_micros;
use ferro_api::{AuthContext, CommonError};

use crate::api::{volumes as vapi, Ctx};
use crate::error::{Error, Result};
use crate::ops::{self, AttachReq};
use crate::store::{attachments, backups, snapshots, tasks, volumes};
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
        multiattach: v.multiattach,
        image_id: v
            .image_metadata
            .as_ref()
            .and_then(|m| m.get("image_id"))
            .and_then(|x| x.as_str())
            .map(str::to_owned),
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
    async fn get_snapshot(
        &self,
        ctx: &AuthContext,
        id: &str,
    ) -> ServiceResult<Option<(String, i64)>> {
        Ok(snapshots::get(self.db(), id)
            .await
            .map_err(Error::from)?
            .filter(|snap| sees(ctx, &snap.project_id))
            .map(|snap| (snap.status, snap.size)))
    }

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
        // a multiattach volume takes further attachments while in use
        let ok_from = ops::attachable(&v);
        if !ok_from.contains(&v.status.as_str()) {
            return Err(CommonError::conflict(format!(
                "Volume {volume_id} status must be {} to attach, but it is {}.",
                ok_from.join(" or "),
                v.status
            )));
        }
        let atts = attachments::of_volume(self.db(), &v.id)
            .await
            .map_err(Error::from)?;
        if atts
            .iter()
            .any(|a| a.server_id.as_deref() == Some(server_id))
        {
            return Err(CommonError::conflict(format!(
                "Volume {volume_id} is already attached to server {server_id}."
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

    async fn create_boot_volume(
        &self,
        ctx: &AuthContext,
        source: BootVolumeSource,
        size_gb: i64,
        volume_type: Option<String>,
    ) -> ServiceResult<VolumeInfo> {
        writer(ctx)?;
        let c = Ctx::internal(ctx.clone());
        let (image_id, snapshot_id) = match &source {
            BootVolumeSource::Image(id) => (Some(id.clone()), None),
            BootVolumeSource::Snapshot(id) => (None, Some(id.clone())),
            BootVolumeSource::Blank => (None, None),
        };
        let req = vapi::NewVolume {
            size: Some(size_gb),
            name: None,
            description: None,
            volume_type,
            metadata: Default::default(),
            availability_zone: None,
            snapshot_id,
            source_volid: None,
            image_id,
            group_id: None,
            backup_id: None,
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
                        "Volume {} from {source:?} ended in status {other}: {}",
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

    async fn reimage_volume(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        image_id: &str,
    ) -> ServiceResult<()> {
        writer(ctx)?;
        let v = load(self, ctx, volume_id).await?;
        let c = Ctx::internal(ctx.clone());
        crate::api::volume_rewrite::start_reimage(self, &c, &v, image_id, &["in-use"]).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let v = load(self, ctx, volume_id).await?;
            match v.status.as_str() {
                "downloading" if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                "in-use" => return Ok(()),
                other => {
                    return Err(CommonError::bad_request(format!(
                        "Volume {volume_id} re-imaged from {image_id} ended in status {other}: {}",
                        v.error_message.unwrap_or_default()
                    )))
                }
            }
        }
    }

    async fn snapshot_volume(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        name: &str,
    ) -> ServiceResult<String> {
        writer(ctx)?;
        let v = load(self, ctx, volume_id).await?;
        if v.status != "available" && v.status != "in-use" {
            return Err(CommonError::bad_request(format!(
                "Invalid volume: Volume {volume_id} status must be available or in-use, but \
                 current status is: {}.",
                v.status
            )));
        }
        let c = Ctx::internal(ctx.clone());
        let snap = crate::api::snapshots::new_snapshot(
            v.project_id.clone(),
            &c,
            &v,
            Some(name.to_owned()),
            None,
            Default::default(),
        );
        crate::api::snapshots::make(self, std::slice::from_ref(&snap)).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let now = snapshots::get(self.db(), &snap.id)
                .await
                .map_err(Error::from)?
                .ok_or_else(|| CommonError::not_found(format!("Snapshot {} is gone.", snap.id)))?;
            match now.status.as_str() {
                "creating" if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                "available" => return Ok(snap.id),
                other => {
                    return Err(CommonError::bad_request(format!(
                        "Snapshot {} of volume {volume_id} ended in status {other}: {}",
                        snap.id,
                        now.error_message.unwrap_or_default()
                    )))
                }
            }
        }
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
    // uploads run in the background: an interrupted one gives the volume back
    for id in volumes::ids_with_status(db, "uploading").await? {
        volumes::set_status(&mut conn, &id, "available", None, now).await?;
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
    // backups: a copy without its task failed; a restore without one
    // leaves the volume in error_restoring and the backup usable
    for id in backups::ids_with_status(db, "creating").await? {
        if !pending.contains(&id) {
            backups::set_status(&mut conn, &id, "error", Some("interrupted"), now).await?;
        }
    }
    // (snapshots being backed up: their task is pending, or they are free)
    for id in snapshots::ids_with_status(db, "backing-up").await? {
        let busy = backups::ids_with_status(db, "creating").await?;
        let mut in_use = false;
        for b in &busy {
            if let Some(b) = backups::get(db, b).await? {
                in_use |= b.snapshot_id.as_deref() == Some(id.as_str());
            }
        }
        if !in_use {
            snapshots::transition(&mut conn, &id, &["backing-up"], "available", now).await?;
        }
    }
    let mut copying = HashSet::new();
    for id in backups::ids_with_status(db, "creating").await? {
        if let Some(b) = backups::get(db, &id).await? {
            copying.insert(b.volume_id);
        }
    }
    for id in volumes::ids_with_status(db, "backing-up").await? {
        if !copying.contains(&id) {
            let attached = attachments::of_volume(db, &id)
                .await?
                .iter()
                .any(|a| a.attach_status == "attached");
            let back = if attached { "in-use" } else { "available" };
            volumes::transition(&mut conn, &id, &["backing-up"], back, now).await?;
        }
    }
    for id in volumes::ids_with_status(db, "restoring-backup").await? {
        if !pending.contains(&id) {
            volumes::set_status(&mut conn, &id, "error_restoring", None, now).await?;
        }
    }
    for id in backups::ids_with_status(db, "restoring").await? {
        backups::transition(&mut conn, &id, &["restoring"], "available", now).await?;
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
    let backup_data: HashSet<String> = backups::data_ids(svc.db()).await?.into_iter().collect();
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
        } else if let Some(id) = name
            .strip_prefix("backup-")
            .and_then(|s| s.strip_suffix(".qcow2"))
        {
            backup_data.contains(id)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferro_api::services::{ImageApi, ImageInfo, NewImage};
    use ferro_api::{context::BoxFuture, TokenValidator};

    use super::*;

    struct NoTokens;
    impl TokenValidator for NoTokens {
        fn validate<'a>(&'a self, _t: &'a str) -> BoxFuture<'a, Option<AuthContext>> {
            Box::pin(async { None })
        }
    }

    /// A fake image service holding one raw image file.
    struct FakeImages(ImageInfo);

    #[async_trait]
    impl ImageApi for FakeImages {
        async fn get_image(&self, _c: &AuthContext, id: &str) -> ServiceResult<Option<ImageInfo>> {
            Ok((id == self.0.id).then(|| self.0.clone()))
        }
        async fn list_images(
            &self,
            _c: &AuthContext,
            _ids: Option<&[String]>,
        ) -> ServiceResult<Vec<ImageInfo>> {
            Ok(vec![self.0.clone()])
        }
        async fn create_image(&self, _c: &AuthContext, _i: NewImage) -> ServiceResult<ImageInfo> {
            Err(CommonError::bad_request("not in this fake"))
        }
        async fn upload_image_file(
            &self,
            _c: &AuthContext,
            _id: &str,
            _p: std::path::PathBuf,
        ) -> ServiceResult<ImageInfo> {
            Err(CommonError::bad_request("not in this fake"))
        }
        async fn delete_image(&self, _c: &AuthContext, _id: &str) -> ServiceResult<()> {
            Ok(())
        }
    }

    async fn service(dir: &std::path::Path, images: Option<Arc<dyn ImageApi>>) -> VolumeService {
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let db = ferro_store::Db::connect(&url).await.unwrap();
        ferro_store::migrate(&db, crate::MIGRATIONS).await.unwrap();
        let svc = VolumeService::new(
            db,
            Arc::new(NoTokens),
            crate::Config::new(dir.join("volumes")),
            images,
        );
        svc.recover().await.unwrap();
        svc
    }

    fn member() -> AuthContext {
        AuthContext {
            user_id: "u1".into(),
            project_id: Some("p1".into()),
            roles: vec!["member".into(), "reader".into()],
            ..AuthContext::default()
        }
    }

    #[tokio::test]
    async fn volume_from_image_and_attach_cycle() {
        let dir = std::env::temp_dir().join(format!("ferro-vol-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = dir.join("img.raw");
        std::fs::write(&raw, vec![7u8; 1024 * 1024]).unwrap();
        let image = ImageInfo {
            id: "img-1".into(),
            name: Some("cirros".into()),
            status: "active".into(),
            disk_format: Some("raw".into()),
            container_format: Some("bare".into()),
            size: Some(1024 * 1024),
            data_path: Some(raw),
            ..ImageInfo::default()
        };
        let svc = service(&dir, Some(Arc::new(FakeImages(image)))).await;
        let ctx = member();
        let v = svc
            .create_boot_volume(&ctx, BootVolumeSource::Image("img-1".into()), 1, None)
            .await
            .unwrap();
        assert_eq!(v.status, "available");
        assert!(v.bootable);
        assert!(v.data_path.as_ref().unwrap().exists());
        let missing = svc
            .create_boot_volume(&ctx, BootVolumeSource::Image("nope".into()), 1, None)
            .await
            .unwrap_err();
        assert_eq!(missing.status(), 404);

        let att = svc.reserve(&ctx, &v.id, "srv-1").await.unwrap();
        assert_eq!(
            svc.reserve(&ctx, &v.id, "srv-2")
                .await
                .unwrap_err()
                .status(),
            409
        );
        svc.attach(&ctx, &v.id, &att, "/dev/vdb").await.unwrap();
        let got = svc.get_volume(&ctx, &v.id).await.unwrap().unwrap();
        assert_eq!(got.status, "in-use");
        assert_eq!(
            got.attachments,
            vec![("srv-1".into(), att.clone(), "/dev/vdb".into())]
        );
        let other = AuthContext {
            project_id: Some("p2".into()),
            ..member()
        };
        assert!(svc.get_volume(&other, &v.id).await.unwrap().is_none());
        svc.detach(&ctx, &v.id, &att).await.unwrap();
        assert_eq!(
            svc.get_volume(&ctx, &v.id).await.unwrap().unwrap().status,
            "available"
        );
        svc.delete_volume(&ctx, &v.id).await.unwrap();
        assert!(!v.data_path.unwrap().exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn multiattach_volume_takes_a_second_server() {
        let dir = std::env::temp_dir().join(format!("ferro-vol-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let svc = service(&dir, None).await;
        let ctx = member();
        let mut v = volumes::Volume {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: "p1".into(),
            user_id: "u1".into(),
            name: None,
            description: None,
            size: 1,
            status: "available".into(),
            availability_zone: "nova".into(),
            volume_type_id: crate::store::DEFAULT_TYPE_ID.into(),
            snapshot_id: None,
            source_volid: None,
            image_id: None,
            bootable: false,
            readonly: false,
            metadata: Default::default(),
            image_metadata: None,
            error_message: None,
            multiattach: true,
            group_id: None,
            created_at: 1,
            updated_at: None,
        };
        let mut conn = svc.db().write().acquire().await.unwrap();
        volumes::insert(&mut conn, &v).await.unwrap();
        v.id = uuid::Uuid::new_v4().to_string();
        v.multiattach = false;
        volumes::insert(&mut conn, &v).await.unwrap();
        drop(conn);
        let single = v.id.clone();
        let multi = volumes::list(svc.db(), None)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.multiattach)
            .unwrap()
            .id;
        let a1 = svc.reserve(&ctx, &multi, "srv-1").await.unwrap();
        svc.attach(&ctx, &multi, &a1, "/dev/vdb").await.unwrap();
        let err = svc.reserve(&ctx, &multi, "srv-1").await.unwrap_err();
        assert_eq!(err.status(), 409);
        let a2 = svc.reserve(&ctx, &multi, "srv-2").await.unwrap();
        svc.attach(&ctx, &multi, &a2, "/dev/vdc").await.unwrap();
        let got = svc.get_volume(&ctx, &multi).await.unwrap().unwrap();
        assert!(got.multiattach);
        assert_eq!(got.status, "in-use");
        assert_eq!(got.attachments.len(), 2);
        svc.detach(&ctx, &multi, &a1).await.unwrap();
        let got = svc.get_volume(&ctx, &multi).await.unwrap().unwrap();
        assert_eq!((got.status.as_str(), got.attachments.len()), ("in-use", 1));
        svc.detach(&ctx, &multi, &a2).await.unwrap();
        let got = svc.get_volume(&ctx, &multi).await.unwrap().unwrap();
        assert_eq!(got.status, "available");
        // a plain volume still refuses a second server
        let b1 = svc.reserve(&ctx, &single, "srv-1").await.unwrap();
        svc.attach(&ctx, &single, &b1, "/dev/vdb").await.unwrap();
        let err = svc.reserve(&ctx, &single, "srv-2").await.unwrap_err();
        assert_eq!(err.status(), 409);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn volume_from_image_without_image_service_is_400() {
        let dir = std::env::temp_dir().join(format!("ferro-vol-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let svc = service(&dir, None).await;
        let err = svc
            .create_boot_volume(&member(), BootVolumeSource::Image("img-1".into()), 1, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
