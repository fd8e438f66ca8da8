//! Operations shared by the HTTP API and the in-process `VolumeApi`: quota
//! checks, creating work for the worker, the attach status machine, deletion.

use ferro_api::time::now_micros;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::store::{self, attachments, quotas, snapshots, tasks, volumes, Db};
use crate::worker;
use crate::VolumeService;

/// Extra usage a request would add.
#[derive(Default)]
pub struct Delta {
    pub volumes: i64,
    pub snapshots: i64,
    pub gigabytes: i64,
}

/// Check a project's quotas (inside the transaction that will write).
pub async fn check_quota(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    d: &Delta,
    per_volume_size: Option<i64>,
) -> Result<()> {
    store::lock_project(db, conn, project_id).await?;
    let limits = quotas::limits(conn, project_id).await?;
    let (vols, snaps, gb) = quotas::usage(conn, project_id).await?;
    let lim = |k: &str| limits.get(k).copied().unwrap_or(-1);
    if let Some(size) = per_volume_size {
        let max = lim("per_volume_gigabytes");
        if max >= 0 && size > max {
            return Err(Error::OverLimit(format!(
                "VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum \
                 allowed limit {max}G."
            )));
        }
    }
    if d.volumes > 0 && lim("volumes") >= 0 && vols + d.volumes > lim("volumes") {
        return Err(Error::OverLimit(format!(
            "VolumeLimitExceeded: Maximum number of volumes allowed ({}) exceeded for quota \
             'volumes'.",
            lim("volumes")
        )));
    }
    if d.snapshots > 0 && lim("snapshots") >= 0 && snaps + d.snapshots > lim("snapshots") {
        return Err(Error::OverLimit(format!(
            "SnapshotLimitExceeded: Maximum number of snapshots allowed ({}) exceeded for \
             quota 'snapshots'.",
            lim("snapshots")
        )));
    }
    if d.gigabytes > 0 && lim("gigabytes") >= 0 && gb + d.gigabytes > lim("gigabytes") {
        return Err(Error::OverLimit(format!(
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed \
             gigabytes quota. Requested {}G, quota is {}G and {gb}G has been consumed.",
            d.gigabytes,
            lim("gigabytes")
        )));
    }
    Ok(())
}

/// Where a new volume's data comes from.
pub enum Source {
    Blank,
    Snapshot(String),
    Volume(String),
    /// A backup's data file (by its data id).
    Backup(String),
    Image {
        path: String,
        format: String,
    },
    /// No backend matches the volume type's capabilities: the worker
    /// fails the volume and leaves a user message for `request_id`.
    NoValidHost {
        request_id: String,
    },
}

/// Insert a `creating` volume and its durable creation task, within quota.
pub async fn create_volume(svc: &VolumeService, vol: &volumes::Volume, src: &Source) -> Result<()> {
    let db = svc.db();
    let mut args = Map::new();
    let (kind, id) = match src {
        Source::Blank => ("blank", None),
        Source::Snapshot(id) => ("snapshot", Some(id.clone())),
        Source::Volume(id) => ("volume", Some(id.clone())),
        Source::Backup(id) => ("backup", Some(id.clone())),
        Source::Image { path, format } => {
            args.insert("path".into(), Value::String(path.clone()));
            args.insert("format".into(), Value::String(format.clone()));
            ("image", None)
        }
        Source::NoValidHost { request_id } => {
            args.insert("request_id".into(), Value::String(request_id.clone()));
            ("no_valid_host", None)
        }
    };
    args.insert("source".into(), Value::String(kind.into()));
    if let Some(id) = id {
        args.insert("source_id".into(), Value::String(id));
    }
    let mut tx = db.write().begin().await?;
    let delta = Delta {
        volumes: 1,
        gigabytes: vol.size,
        ..Delta::default()
    };
    check_quota(db, &mut tx, &vol.project_id, &delta, Some(vol.size)).await?;
    volumes::insert(&mut tx, vol).await?;
    tasks::insert(
        &mut tx,
        worker::CREATE_VOLUME,
        &vol.id,
        &args,
        vol.created_at,
    )
    .await?;
    tx.commit().await?;
    svc.wake();
    Ok(())
}

fn invalid(vol: &volumes::Volume, what: &str) -> Error {
    Error::bad_request(format!(
        "Invalid volume: Volume {} status must be {what}, but current status is: {}.",
        vol.id, vol.status
    ))
}

/// The statuses a volume may take a new attachment in: `available`, and
/// for a multiattach volume also `in-use`.
pub fn attachable(vol: &volumes::Volume) -> &'static [&'static str] {
    if vol.multiattach {
        &["available", "in-use"]
    } else {
        &["available"]
    }
}

/// `available → attaching` (a multiattach volume also `in-use →
/// attaching`) with a reserved attachment; returns its id.
pub async fn reserve(
    svc: &VolumeService,
    vol: &volumes::Volume,
    server_id: Option<&str>,
) -> Result<String> {
    let now = now_micros();
    let ok_from = attachable(vol);
    if let Some(server) = server_id {
        let existing = attachments::of_volume(svc.db(), &vol.id).await?;
        if existing
            .iter()
            .any(|a| a.server_id.as_deref() == Some(server))
        {
            return Err(Error::bad_request(format!(
                "Invalid volume: Volume {} is already attached to server {server}.",
                vol.id
            )));
        }
    }
    let mut tx = svc.db().write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, ok_from, "attaching", now).await? {
        return Err(invalid(vol, &ok_from.join(" or ")));
    }
    let att = attachments::Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        server_id: server_id.map(str::to_owned),
        host_name: None,
        device: None,
        attach_status: "reserved".into(),
        mode: "rw".into(),
        attached_at: None,
        created_at: now,
        connector: None,
    };
    attachments::insert(&mut tx, &att).await?;
    tx.commit().await?;
    Ok(att.id)
}

pub struct AttachReq<'a> {
    pub attachment_id: Option<&'a str>,
    pub server_id: Option<&'a str>,
    pub host_name: Option<&'a str>,
    pub device: &'a str,
    pub mode: &'a str,
}

/// `attaching` (or `available`) `→ in-use`, the attachment recorded.
pub async fn attach(svc: &VolumeService, vol: &volumes::Volume, req: &AttachReq<'_>) -> Result<()> {
    let db = svc.db();
    if vol.status != "attaching" && vol.status != "available" {
        return Err(invalid(vol, "attaching or available"));
    }
    if req.mode == "rw" && vol.readonly {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} is read-only; attach it in 'ro' mode.",
            vol.id
        )));
    }
    let existing = attachments::of_volume(db, &vol.id).await?;
    let found = match req.attachment_id {
        Some(a) => Some(
            existing
                .iter()
                .find(|x| x.id == a)
                .cloned()
                .ok_or_else(|| Error::not_found(format!("Attachment {a} could not be found.")))?,
        ),
        None => existing
            .iter()
            .find(|x| x.attach_status == "reserved" && x.server_id.as_deref() == req.server_id)
            .or_else(|| existing.iter().find(|x| x.attach_status == "reserved"))
            .cloned(),
    };
    let now = now_micros();
    let mut tx = db.write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, &["attaching", "available"], "in-use", now).await? {
        return Err(invalid(vol, "attaching or available"));
    }
    let mut att = found.unwrap_or_else(|| attachments::Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        server_id: None,
        host_name: None,
        device: None,
        attach_status: "reserved".into(),
        mode: "rw".into(),
        attached_at: None,
        created_at: now,
        connector: None,
    });
    let fresh = att.attach_status == "reserved"
        && att.attached_at.is_none()
        && !existing.iter().any(|x| x.id == att.id);
    if let Some(s) = req.server_id {
        att.server_id = Some(s.to_owned());
    }
    att.host_name = req.host_name.map(str::to_owned).or(att.host_name);
    att.device = Some(req.device.to_owned());
    att.attach_status = "attached".into();
    att.mode = req.mode.to_owned();
    att.attached_at = Some(now);
    if fresh {
        attachments::insert(&mut tx, &att).await?;
    } else {
        attachments::update(&mut tx, &att).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Undo a reservation: back to `available` (or `in-use` if still attached).
pub async fn unreserve(
    svc: &VolumeService,
    vol: &volumes::Volume,
    attachment_id: Option<&str>,
) -> Result<()> {
    if vol.status != "attaching" {
        return Ok(());
    }
    let mut tx = svc.db().write().begin().await?;
    match attachment_id {
        Some(a) => attachments::delete(&mut tx, a).await?,
        None => attachments::delete_with_status(&mut tx, &vol.id, "reserved").await?,
    }
    tx.commit().await?;
    settle(svc, &vol.id, &["attaching"]).await
}

/// After attachments changed: `in-use` if any is attached, else `available`.
async fn settle(svc: &VolumeService, id: &str, from: &[&str]) -> Result<()> {
    let db = svc.db();
    let left = attachments::of_volume(db, id).await?;
    let status = if left.iter().any(|a| a.attach_status == "attached") {
        "in-use"
    } else {
        "available"
    };
    let mut conn = db.write().acquire().await?;
    volumes::transition(&mut conn, id, from, status, now_micros()).await?;
    Ok(())
}

pub async fn begin_detaching(svc: &VolumeService, vol: &volumes::Volume) -> Result<()> {
    let mut conn = svc.db().write().acquire().await?;
    if !volumes::transition(&mut conn, &vol.id, &["in-use"], "detaching", now_micros()).await? {
        return Err(invalid(vol, "in-use"));
    }
    Ok(())
}

pub async fn roll_detaching(svc: &VolumeService, vol: &volumes::Volume) -> Result<()> {
    let mut conn = svc.db().write().acquire().await?;
    volumes::transition(&mut conn, &vol.id, &["detaching"], "in-use", now_micros()).await?;
    Ok(())
}

/// `in-use`/`detaching → available` (or stays `in-use` while other
/// attachments remain), removing the attachment.
pub async fn detach(
    svc: &VolumeService,
    vol: &volumes::Volume,
    attachment_id: Option<&str>,
) -> Result<()> {
    let db = svc.db();
    let atts = attachments::of_volume(db, &vol.id).await?;
    let idle = matches!(vol.status.as_str(), "available" | "in-use" | "detaching");
    if atts.is_empty() && attachment_id.is_none() && idle {
        // As Cinder's volume manager: nothing is attached, so there is
        // nothing to detach and the volume is simply available.
        let mut conn = db.write().acquire().await?;
        volumes::transition(
            &mut conn,
            &vol.id,
            &[&vol.status],
            "available",
            now_micros(),
        )
        .await?;
        return Ok(());
    }
    if vol.status != "in-use" && vol.status != "detaching" {
        return Err(invalid(vol, "in-use or detaching"));
    }
    let target = match attachment_id {
        Some(a) => atts
            .iter()
            .find(|x| x.id == a)
            .ok_or_else(|| {
                Error::bad_request(format!(
                    "Invalid volume: Volume {} has no attachment {a}.",
                    vol.id
                ))
            })?
            .id
            .clone(),
        None => {
            let attached: Vec<_> = atts
                .iter()
                .filter(|a| a.attach_status == "attached")
                .collect();
            match attached.as_slice() {
                [one] => one.id.clone(),
                [] => String::new(),
                _ => {
                    return Err(Error::bad_request(
                        "Invalid volume: the volume has several attachments; name one with \
                         attachment_id.",
                    ))
                }
            }
        }
    };
    if !target.is_empty() {
        let mut conn = db.write().acquire().await?;
        attachments::delete(&mut conn, &target).await?;
    }
    settle(svc, &vol.id, &["in-use", "detaching"]).await
}

/// `os-force_detach` (admin): the attachment goes whatever the volume's
/// status (also `error`, `error_attaching`...), then the volume is `in-use`
/// if another attachment remains, else `available`.
pub async fn force_detach(
    svc: &VolumeService,
    vol: &volumes::Volume,
    attachment_id: Option<&str>,
) -> Result<()> {
    let db = svc.db();
    let atts = attachments::of_volume(db, &vol.id).await?;
    let mut conn = db.write().acquire().await?;
    match attachment_id {
        Some(a) => {
            if !atts.iter().any(|x| x.id == a) {
                return Err(Error::bad_request(format!(
                    "Invalid volume: Volume {} has no attachment {a}.",
                    vol.id
                )));
            }
            attachments::delete(&mut conn, a).await?;
        }
        None => {
            for a in &atts {
                attachments::delete(&mut conn, &a.id).await?;
            }
        }
    }
    drop(conn);
    settle(svc, &vol.id, &[vol.status.as_str()]).await
}

/// Statuses a volume may be deleted in (without `force`).
pub const DELETABLE: &[&str] = &[
    "available",
    "error",
    "error_restoring",
    "error_extending",
    "error_managing",
];

/// Delete a volume (and with `cascade` its snapshots): rows first, in one
/// transaction, then the files (a crash in between leaves only orphan files,
/// which `recover` removes).
pub async fn delete_volume(
    svc: &VolumeService,
    vol: &volumes::Volume,
    cascade: bool,
    force: bool,
) -> Result<()> {
    let db = svc.db();
    if !force && !DELETABLE.contains(&vol.status.as_str()) {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume status must be available or error or error_restoring or \
             error_extending or error_managing and must not be migrating, attached, belong to \
             a group, have snapshots or be disassociated from snapshots after volume transfer \
             (volume {} is {}).",
            vol.id, vol.status
        )));
    }
    let attached = attachments::of_volume(db, &vol.id).await?;
    if !force && attached.iter().any(|a| a.attach_status == "attached") {
        return Err(invalid(vol, "detached"));
    }
    let snaps = snapshots::of_volume(db, &vol.id).await?;
    if !snaps.is_empty() && !cascade {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} still has {} dependent snapshot(s).",
            vol.id,
            snaps.len()
        )));
    }
    let mut tx = db.write().begin().await?;
    for s in &snaps {
        snapshots::delete(&mut tx, &s.id).await?;
    }
    if !volumes::delete(&mut tx, &vol.id).await? {
        return Err(Error::volume_not_found(&vol.id));
    }
    tx.commit().await?;
    let b = svc.backend();
    for s in &snaps {
        b.remove(&b.snapshot_path(&s.id)).await;
    }
    b.remove(&b.volume_path(&vol.id)).await;
    Ok(())
}
