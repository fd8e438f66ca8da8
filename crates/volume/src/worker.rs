//! The in-process worker: claims durable tasks from the database and runs
//! the backend (qemu-img) for them, then moves the resource to its final
//! status. Every task is idempotent, so a task interrupted by a crash is
//! simply run again after restart (see `VolumeService::recover`).

use std::time::Duration;

use ferro_api::time::now_micros;
use serde_json::Value;

use crate::store::{backups, messages, snapshots, tasks, volumes};
use crate::VolumeService;

pub const CREATE_VOLUME: &str = "create_volume";
pub const EXTEND_VOLUME: &str = "extend_volume";
pub const CREATE_SNAPSHOT: &str = "create_snapshot";
/// 3.40: copy a snapshot back over its volume.
pub const REVERT_VOLUME: &str = "revert_volume";
/// 3.68: write an image over a volume.
pub const REIMAGE_VOLUME: &str = "reimage_volume";
/// Copy a volume's (or snapshot's) data into a backup file.
pub const CREATE_BACKUP: &str = "create_backup";
/// Write a backup's data (and the metadata it kept) into a volume.
pub const RESTORE_BACKUP: &str = "restore_backup";

pub async fn run(svc: VolumeService) {
    loop {
        match tasks::claim(svc.db(), now_micros()).await {
            Ok(Some(task)) => {
                let id = task.id.clone();
                if let Err(e) = execute(&svc, task).await {
                    tracing::error!(task = %id, error = %e, "volume task failed to record");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = svc.inner.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim volume work");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn arg_str<'a>(t: &'a tasks::Task, key: &str) -> &'a str {
    t.args.get(key).and_then(Value::as_str).unwrap_or("")
}

async fn execute(svc: &VolumeService, task: tasks::Task) -> Result<(), sqlx::Error> {
    let db = svc.db();
    let backend = svc.backend();
    match task.kind.as_str() {
        CREATE_VOLUME => {
            let Some(vol) = volumes::get(db, &task.target_id).await? else {
                let mut conn = db.write().acquire().await?;
                return tasks::finish(&mut conn, &task.id).await;
            };
            let delay = svc.inner.config.create_delay_ms;
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let source = arg_str(&task, "source");
            if source == "no_valid_host" {
                return no_valid_host(svc, &task, &vol).await;
            }
            let dest = backend.volume_path(&vol.id);
            let result = match backend.ensure_dir().await {
                Err(e) => Err(e),
                Ok(()) => match source {
                    "snapshot" => {
                        let src = backend.snapshot_path(arg_str(&task, "source_id"));
                        backend.copy_from(&src, "qcow2", &dest, vol.size).await
                    }
                    "volume" => {
                        let src = backend.volume_path(arg_str(&task, "source_id"));
                        backend.copy_live(&src, &dest, vol.size).await
                    }
                    "backup" => {
                        let src = backend.backup_path(arg_str(&task, "source_id"));
                        backend.copy_from(&src, "qcow2", &dest, vol.size).await
                    }
                    "image" => {
                        let src = std::path::PathBuf::from(arg_str(&task, "path"));
                        let fmt = match arg_str(&task, "format") {
                            "qcow2" => "qcow2",
                            _ => "raw",
                        };
                        backend.copy_from(&src, fmt, &dest, vol.size).await
                    }
                    _ => backend.create_blank(&dest, vol.size).await,
                },
            };
            let mut tx = db.write().begin().await?;
            let now = now_micros();
            match &result {
                Ok(()) => {
                    let moved =
                        volumes::transition(&mut tx, &vol.id, &["creating"], "available", now)
                            .await?;
                    if !moved {
                        backend.remove(&dest).await;
                    }
                }
                Err(msg) => {
                    tracing::warn!(volume = %vol.id, error = %msg, "volume creation failed");
                    volumes::set_status(&mut tx, &vol.id, "error", Some(msg), now).await?;
                }
            }
            tasks::finish(&mut tx, &task.id).await?;
            tx.commit().await
        }
        EXTEND_VOLUME => {
            let new_size = task
                .args
                .get("new_size")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let path = backend.volume_path(&task.target_id);
            let result = backend.resize(&path, new_size).await;
            let back = match arg_str(&task, "back_to") {
                "in-use" => "in-use",
                _ => "available",
            };
            let mut tx = db.write().begin().await?;
            let now = now_micros();
            match &result {
                Ok(()) => {
                    volumes::set_size(&mut tx, &task.target_id, new_size).await?;
                    volumes::transition(&mut tx, &task.target_id, &["extending"], back, now)
                        .await?;
                }
                Err(msg) => {
                    tracing::warn!(volume = %task.target_id, error = %msg, "extend failed");
                    volumes::set_status(
                        &mut tx,
                        &task.target_id,
                        "error_extending",
                        Some(msg),
                        now,
                    )
                    .await?;
                }
            }
            tasks::finish(&mut tx, &task.id).await?;
            tx.commit().await
        }
        CREATE_SNAPSHOT => {
            let Some(snap) = snapshots::get(db, &task.target_id).await? else {
                let mut conn = db.write().acquire().await?;
                return tasks::finish(&mut conn, &task.id).await;
            };
            let src = backend.volume_path(&snap.volume_id);
            let dest = backend.snapshot_path(&snap.id);
            let result = backend.copy_live(&src, &dest, snap.size).await;
            let mut tx = db.write().begin().await?;
            let now = now_micros();
            match &result {
                Ok(()) => {
                    if !snapshots::set_status(&mut tx, &snap.id, "available", None, now).await? {
                        backend.remove(&dest).await;
                    }
                }
                Err(msg) => {
                    snapshots::set_status(&mut tx, &snap.id, "error", Some(msg), now).await?;
                }
            }
            tasks::finish(&mut tx, &task.id).await?;
            tx.commit().await
        }
        REVERT_VOLUME | REIMAGE_VOLUME => rewrite(svc, task).await,
        CREATE_BACKUP => create_backup(svc, task).await,
        RESTORE_BACKUP => restore_backup(svc, task).await,
        other => {
            tracing::error!(kind = other, "unknown volume task dropped");
            let mut conn = db.write().acquire().await?;
            tasks::finish(&mut conn, &task.id).await
        }
    }
}

/// Revert (from a snapshot) or re-image (from an image file) a volume in
/// place: the new content is written beside it and renamed over it.
async fn rewrite(svc: &VolumeService, task: tasks::Task) -> Result<(), sqlx::Error> {
    let db = svc.db();
    let backend = svc.backend();
    let Some(vol) = volumes::get(db, &task.target_id).await? else {
        let mut conn = db.write().acquire().await?;
        return tasks::finish(&mut conn, &task.id).await;
    };
    let dest = backend.volume_path(&vol.id);
    let snap = arg_str(&task, "snapshot_id").to_owned();
    let result = if task.kind == REVERT_VOLUME {
        let src = backend.snapshot_path(&snap);
        backend.copy_from(&src, "qcow2", &dest, vol.size).await
    } else {
        let src = std::path::PathBuf::from(arg_str(&task, "path"));
        let fmt = match arg_str(&task, "format") {
            "qcow2" => "qcow2",
            _ => "raw",
        };
        backend.copy_from(&src, fmt, &dest, vol.size).await
    };
    let (from, back) = if task.kind == REVERT_VOLUME {
        ("reverting", "available")
    } else {
        match arg_str(&task, "back_to") {
            "reserved" => ("downloading", "reserved"),
            "in-use" => ("downloading", "in-use"),
            _ => ("downloading", "available"),
        }
    };
    let mut tx = db.write().begin().await?;
    let now = now_micros();
    match &result {
        Ok(()) => {
            volumes::transition(&mut tx, &vol.id, &[from], back, now).await?;
        }
        Err(msg) => {
            tracing::warn!(volume = %vol.id, error = %msg, kind = %task.kind, "rewrite failed");
            volumes::set_status(&mut tx, &vol.id, "error", Some(msg), now).await?;
        }
    }
    if !snap.is_empty() {
        snapshots::set_status(&mut tx, &snap, "available", None, now).await?;
    }
    tasks::finish(&mut tx, &task.id).await?;
    tx.commit().await
}

/// A backup: the volume's file read as it is (also while a guest writes
/// it: crash consistent), or the snapshot's; then the volume (or snapshot)
/// goes back to the status it had.
async fn create_backup(svc: &VolumeService, task: tasks::Task) -> Result<(), sqlx::Error> {
    let db = svc.db();
    let backend = svc.backend();
    let Some(b) = backups::get(db, &task.target_id).await? else {
        let mut conn = db.write().acquire().await?;
        return tasks::finish(&mut conn, &task.id).await;
    };
    let delay = svc.inner.config.create_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let snap = arg_str(&task, "snapshot_id").to_owned();
    let dest = backend.backup_path(&b.data_id);
    let result = match backend.ensure_dir().await {
        Err(e) => Err(e),
        Ok(()) if !snap.is_empty() => {
            let src = backend.snapshot_path(&snap);
            backend.copy_from(&src, "qcow2", &dest, b.size).await
        }
        Ok(()) => {
            let src = backend.volume_path(&b.volume_id);
            backend.copy_live(&src, &dest, b.size).await
        }
    };
    let back = match arg_str(&task, "back_to") {
        "in-use" => "in-use",
        _ => "available",
    };
    let mut tx = db.write().begin().await?;
    let now = now_micros();
    match &result {
        Ok(()) => {
            if !backups::transition(&mut tx, &b.id, &["creating"], "available", now).await? {
                // deleted (or reset) meanwhile: keep no file nobody owns
                if backups::data_users(&mut tx, &b.data_id).await? == 0 {
                    backend.remove(&dest).await;
                }
            }
        }
        Err(msg) => {
            tracing::warn!(backup = %b.id, error = %msg, "backup failed");
            backups::set_status(&mut tx, &b.id, "error", Some(msg), now).await?;
        }
    }
    if snap.is_empty() {
        volumes::transition(&mut tx, &b.volume_id, &["backing-up"], back, now).await?;
    } else {
        snapshots::transition(&mut tx, &snap, &["backing-up"], "available", now).await?;
    }
    tasks::finish(&mut tx, &task.id).await?;
    tx.commit().await
}

/// Restore: the backup's data over the volume's file (written beside it and
/// renamed), the metadata the source volume had merged in, its bootable flag
/// and image metadata given back.
async fn restore_backup(svc: &VolumeService, task: tasks::Task) -> Result<(), sqlx::Error> {
    let db = svc.db();
    let backend = svc.backend();
    let backup_id = arg_str(&task, "backup_id").to_owned();
    let vol = volumes::get(db, &task.target_id).await?;
    let b = backups::get(db, &backup_id).await?;
    let (Some(vol), Some(b)) = (vol, b) else {
        let mut tx = db.write().begin().await?;
        let now = now_micros();
        volumes::set_status(
            &mut tx,
            &task.target_id,
            "error_restoring",
            Some("the backup is gone"),
            now,
        )
        .await?;
        backups::transition(&mut tx, &backup_id, &["restoring"], "available", now).await?;
        tasks::finish(&mut tx, &task.id).await?;
        return tx.commit().await;
    };
    let dest = backend.volume_path(&vol.id);
    let result = match backend.ensure_dir().await {
        Err(e) => Err(e),
        Ok(()) => {
            let src = backend.backup_path(&b.data_id);
            backend.copy_from(&src, "qcow2", &dest, vol.size).await
        }
    };
    let mut tx = db.write().begin().await?;
    let now = now_micros();
    match &result {
        Ok(()) => {
            let mut v = vol.clone();
            if let Some(Value::Object(m)) = b.volume_meta.get("metadata") {
                for (k, val) in m {
                    v.metadata.insert(k.clone(), val.clone());
                }
            }
            if let Some(Value::Bool(boot)) = b.volume_meta.get("bootable") {
                v.bootable = *boot;
            }
            volumes::update_fields_in(&mut tx, &v, now).await?;
            if let Some(Value::Object(im)) = b.volume_meta.get("image_metadata") {
                volumes::set_image_metadata_in(&mut tx, &v.id, im, now).await?;
            }
            volumes::transition(&mut tx, &vol.id, &["restoring-backup"], "available", now).await?;
        }
        Err(msg) => {
            tracing::warn!(volume = %vol.id, backup = %b.id, error = %msg, "restore failed");
            volumes::set_status(&mut tx, &vol.id, "error_restoring", Some(msg), now).await?;
        }
    }
    backups::transition(&mut tx, &b.id, &["restoring"], "available", now).await?;
    tasks::finish(&mut tx, &task.id).await?;
    tx.commit().await
}

/// The scheduler found no backend: the volume fails and the project gets a
/// user message, as Cinder's scheduler reports it.
async fn no_valid_host(
    svc: &VolumeService,
    task: &tasks::Task,
    vol: &volumes::Volume,
) -> Result<(), sqlx::Error> {
    let now = now_micros();
    let msg = messages::Message {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: vol.project_id.clone(),
        request_id: arg_str(task, "request_id").to_owned(),
        resource_type: "VOLUME".into(),
        resource_uuid: Some(vol.id.clone()),
        event_id: "VOLUME_VOLUME_001_002".into(),
        message_level: "ERROR".into(),
        user_message: "schedule allocate volume:Could not find any available weighted backend."
            .into(),
        created_at: now,
        expires_at: now + 30 * 24 * 3600 * 1_000_000,
    };
    let mut tx = svc.db().write().begin().await?;
    volumes::set_status(
        &mut tx,
        &vol.id,
        "error",
        Some("No valid backend was found."),
        now,
    )
    .await?;
    messages::insert(&mut tx, &msg).await?;
    tasks::finish(&mut tx, &task.id).await?;
    tx.commit().await
}
