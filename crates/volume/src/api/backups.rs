//! `/v3/{project_id}/backups`: what cinder-backup does, with a backup being
//! a qcow2 copy of the volume's (or snapshot's) data in the data dir, made
//! by the worker. Restore writes that data back into a new or an existing
//! volume, together with the metadata the volume had. Incremental backups
//! are recorded as Cinder records them (`is_incremental`, the parent gets
//! `has_dependent_backups` and cannot be deleted first) but are stored as
//! full copies. Export/import of records (admin) moves the row as base64
//! JSON; an imported row shares the exported one's data file.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use ferro_api::time::now_micros;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::common::{
    accepted, accepted_empty, bool_value, counted, list_opts, metadata_value, ok, opt_string,
    opt_ts, paginate, ts, valid_id, Body, Ctx,
};
use super::filters::{self, Attr};
use super::validate;
use super::volumes::visible;
use crate::error::{Error, Result};
use crate::ops::{check_quota, Delta};
use crate::store::backups::{self as store, Backup};
use crate::store::volumes::{self as vstore, Volume};
use crate::store::{self as db_store, quotas, snapshots, tasks};
use crate::worker;
use crate::VolumeService;

/// What `export_record` names as the backup service: a record can only be
/// imported by the same kind of service.
pub const BACKUP_SERVICE: &str = "cinder.backup.drivers.ferrostack.Qcow2BackupDriver";

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Backup {id} could not be found."))
}

pub async fn visible_backup(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<Backup> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    match store::get(svc.db(), id).await? {
        Some(b) if ctx.sees(&b.project_id) => Ok(b),
        _ => Err(not_found(id)),
    }
}

fn summary(ctx: &Ctx, b: &Backup) -> Value {
    json!({"id": b.id, "name": b.name, "links": ctx.links("backups", &b.id)})
}

fn detail(ctx: &Ctx, b: &Backup, has_dependents: bool) -> Value {
    let mut m = json!({
        "id": b.id,
        "status": b.status,
        "size": b.size,
        "object_count": 0,
        "availability_zone": b.availability_zone,
        "container": b.container,
        "created_at": ts(b.created_at),
        "updated_at": opt_ts(b.updated_at),
        "name": b.name,
        "description": b.description,
        "fail_reason": b.fail_reason,
        "volume_id": b.volume_id,
        "links": ctx.links("backups", &b.id),
        "is_incremental": b.is_incremental,
        "has_dependent_backups": has_dependents,
        "snapshot_id": b.snapshot_id,
        "data_timestamp": opt_ts(b.data_timestamp),
    });
    if ctx.at(43) {
        m["metadata"] = json!(b.metadata);
    }
    if ctx.at(18) && ctx.is_admin() {
        m["os-backup-project-attr:project_id"] = json!(b.project_id);
    }
    if ctx.at(56) && ctx.is_admin() {
        m["user_id"] = json!(b.user_id);
    }
    m
}

const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "volume_id",
    "availability_zone",
    "data_timestamp",
];

fn sort_value(b: &Backup, key: &str) -> Value {
    match key {
        "id" => json!(b.id),
        "name" => json!(b.name),
        "status" => json!(b.status),
        "size" => json!(b.size),
        "created_at" => json!(b.created_at),
        "updated_at" => json!(b.updated_at),
        "volume_id" => json!(b.volume_id),
        "availability_zone" => json!(b.availability_zone),
        "data_timestamp" => json!(b.data_timestamp),
        _ => Value::Null,
    }
}

fn attr<'a>(b: &'a Backup, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&b.id)),
        "name" => Attr::Str(b.name.as_deref()),
        "description" | "display_description" => Attr::Str(b.description.as_deref()),
        "status" => Attr::Str(Some(&b.status)),
        "volume_id" => Attr::Str(Some(&b.volume_id)),
        "snapshot_id" => Attr::Str(b.snapshot_id.as_deref()),
        "parent_id" => Attr::Str(b.parent_id.as_deref()),
        "container" => Attr::Str(b.container.as_deref()),
        "availability_zone" => Attr::Str(b.availability_zone.as_deref()),
        "size" => Attr::Int(b.size),
        "is_incremental" => Attr::Bool(b.is_incremental),
        "metadata" => Attr::Meta(&b.metadata),
        "project_id" | "tenant_id" => Attr::Str(Some(&b.project_id)),
        "user_id" => Attr::Str(Some(&b.user_id)),
        "created_at" => Attr::Time(Some(b.created_at)),
        "updated_at" => Attr::Time(b.updated_at),
        "data_timestamp" => Attr::Time(b.data_timestamp),
        _ => Attr::Unknown,
    }
}

/// The ids of backups that others were taken on top of.
fn parents(all: &[Backup]) -> std::collections::HashSet<String> {
    all.iter().filter_map(|b| b.parent_id.clone()).collect()
}

async fn listing(svc: &VolumeService, ctx: Ctx, is_detail: bool) -> Result<Response> {
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let count = filters::with_count(&ctx)?;
    let scope = if ctx.all_tenants()? {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let fs = filters::parse(&ctx, "backup", &["name", "status", "volume_id"], &[])?;
    let all = store::list(svc.db(), scope).await?;
    let with_deps = parents(&all);
    let list = filters::apply(all, &fs, false, attr)?;
    let total = count.then_some(list.len());
    let (page, more) = paginate(list, &opts, |b| b.id.as_str(), sort_value, "backups")?;
    let path = if is_detail {
        "backups/detail"
    } else {
        "backups"
    };
    Ok(counted(
        &ctx,
        "backups",
        path,
        &page,
        more,
        total,
        |b| &b.id,
        |b| {
            if is_detail {
                detail(&ctx, b, with_deps.contains(&b.id))
            } else {
                summary(&ctx, b)
            }
        },
    ))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
    let deps = store::dependents(svc.db(), &b.id).await? > 0;
    Ok(ok(json!({"backup": detail(&ctx, &b, deps)})))
}

fn create_keys(ctx: &Ctx) -> Vec<&'static str> {
    let mut k = vec![
        "volume_id",
        "container",
        "description",
        "incremental",
        "force",
        "name",
        "snapshot_id",
    ];
    if ctx.at(43) {
        k.push("metadata");
    }
    if ctx.at(51) {
        k.push("availability_zone");
    }
    k
}

/// The source volume's metadata, bootable flag and image metadata, kept
/// with the backup for restore.
fn volume_meta(vol: &Volume) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("metadata".into(), Value::Object(vol.metadata.clone()));
    m.insert("bootable".into(), Value::Bool(vol.bootable));
    if let Some(im) = &vol.image_metadata {
        m.insert("image_metadata".into(), Value::Object(im.clone()));
    }
    m
}

/// Backups and backup_gigabytes quotas (inside the writing transaction).
async fn check_backup_quota(
    svc: &VolumeService,
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    size: i64,
) -> Result<()> {
    db_store::lock_project(svc.db(), conn, project_id).await?;
    let limits = quotas::limits(conn, project_id).await?;
    let (n, gb) = store::usage(conn, project_id).await?;
    let lim = |k: &str| limits.get(k).copied().unwrap_or(-1);
    if lim("backups") >= 0 && n + 1 > lim("backups") {
        return Err(Error::OverLimit(format!(
            "BackupLimitExceeded: Maximum number of backups allowed ({}) exceeded.",
            lim("backups")
        )));
    }
    if lim("backup_gigabytes") >= 0 && gb + size > lim("backup_gigabytes") {
        return Err(Error::OverLimit(format!(
            "VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup \
             gigabytes quota. Requested {size}G, quota is {}G and {gb}G has been consumed.",
            lim("backup_gigabytes")
        )));
    }
    Ok(())
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "backup", &[])?;
    validate::no_extra(&obj, &create_keys(&ctx), "backup")?;
    let vid = validate::opt_uuid(&obj, "volume_id")?.ok_or_else(|| {
        Error::bad_request(
            "Invalid input for field/attribute backup: 'volume_id' is a required property.",
        )
    })?;
    let name = validate::name(&obj, "name")?;
    let description = validate::name(&obj, "description")?;
    let container = opt_string(&obj, "container", 255)?;
    let mut force = false;
    let mut incremental = false;
    for flag in ["incremental", "force"] {
        validate::not_null(&obj, flag)?;
        if let Some(v) = obj.get(flag) {
            let on = bool_value(v, flag)?;
            if flag == "force" {
                force = on;
            } else {
                incremental = on;
            }
        }
    }
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => metadata_value(v, "metadata")?,
    };
    if let Some(z) = opt_string(&obj, "availability_zone", 255)? {
        if z != "nova" {
            return Err(Error::bad_request(format!(
                "Invalid input received: Availability zone '{z}' is invalid."
            )));
        }
    }
    let snapshot_id = validate::opt_uuid(&obj, "snapshot_id")?;
    let vol = visible(&svc, &ctx, &vid).await?;
    let snap = match &snapshot_id {
        Some(s) => Some(super::snapshots::visible(&svc, &ctx, s).await?),
        None => None,
    };
    if let Some(s) = &snap {
        if s.volume_id != vol.id {
            return Err(Error::bad_request(format!(
                "Invalid volume: Volume {} does not match with snapshot.volume_id {}.",
                vol.id, s.volume_id
            )));
        }
        if s.status != "available" {
            return Err(Error::bad_request(format!(
                "Invalid snapshot: Snapshot to be backed up must be available, but the current \
                 status is \"{}\".",
                s.status
            )));
        }
    }
    let in_use_ok = vol.status == "in-use" && (force || snap.is_some());
    if vol.status != "available" && !in_use_ok {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume to be backed up must be available or in-use, but the \
             current status is \"{}\".",
            vol.status
        )));
    }
    let parent = if incremental {
        let mut mine: Vec<Backup> = store::of_volume(svc.db(), &vol.id)
            .await?
            .into_iter()
            .filter(|b| b.status == "available" && b.project_id == vol.project_id)
            .collect();
        mine.sort_by_key(|b| (b.data_timestamp.unwrap_or(b.created_at), b.created_at));
        match mine.pop() {
            Some(p) => Some(p.id),
            None => {
                return Err(Error::bad_request(
                    "Invalid backup: No backups available to do an incremental backup.",
                ))
            }
        }
    } else {
        None
    };
    let now = now_micros();
    let id = uuid::Uuid::new_v4().to_string();
    let backup = Backup {
        id: id.clone(),
        project_id: vol.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        volume_id: vol.id.clone(),
        snapshot_id: snapshot_id.clone(),
        name,
        description,
        container,
        availability_zone: Some("nova".into()),
        size: vol.size,
        status: "creating".into(),
        fail_reason: None,
        is_incremental: parent.is_some(),
        parent_id: parent,
        data_id: id.clone(),
        metadata,
        volume_meta: volume_meta(&vol),
        data_timestamp: Some(snap.as_ref().map(|s| s.created_at).unwrap_or(now)),
        created_at: now,
        updated_at: None,
    };
    let mut args = Map::new();
    let db = svc.db();
    let mut tx = db.write().begin().await?;
    check_backup_quota(&svc, &mut tx, &backup.project_id, backup.size).await?;
    if let Some(s) = &snap {
        if !snapshots::transition(&mut tx, &s.id, &["available"], "backing-up", now).await? {
            return Err(Error::bad_request(
                "Invalid snapshot: Snapshot to be backed up must be available.",
            ));
        }
        args.insert("snapshot_id".into(), json!(s.id));
    } else {
        let from = vol.status.as_str();
        if !vstore::transition(&mut tx, &vol.id, &[from], "backing-up", now).await? {
            return Err(Error::bad_request(
                "Invalid volume: Volume to be backed up must be available or in-use.",
            ));
        }
        args.insert("back_to".into(), json!(from));
    }
    store::insert(&mut tx, &backup).await?;
    tasks::insert(&mut tx, worker::CREATE_BACKUP, &backup.id, &args, now).await?;
    tx.commit().await?;
    svc.wake();
    Ok(accepted(json!({"backup": summary(&ctx, &backup)})))
}

/// 3.9: name, description (3.43 metadata).
pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(9)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "backup", &[])?;
    let mut keys = vec!["name", "description"];
    if ctx.at(43) {
        keys.push("metadata");
    }
    validate::no_extra(&obj, &keys, "backup")?;
    let mut b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
    if obj.contains_key("name") {
        b.name = validate::name(&obj, "name")?;
    }
    if obj.contains_key("description") {
        b.description = validate::name(&obj, "description")?;
    }
    if let Some(v) = obj.get("metadata") {
        b.metadata = metadata_value(v, "metadata")?;
    }
    let now = now_micros();
    store::update_fields(svc.db(), &b, now).await?;
    Ok(ok(json!({"backup": summary(&ctx, &b)})))
}

/// Remove a backup row, then its data file once no row uses it.
async fn remove(svc: &VolumeService, b: &Backup, force: bool) -> Result<()> {
    if !force && b.status != "available" && b.status != "error" {
        return Err(Error::bad_request(format!(
            "Invalid backup: Backup status must be available or error (backup {} is {}).",
            b.id, b.status
        )));
    }
    if store::dependents(svc.db(), &b.id).await? > 0 {
        return Err(Error::bad_request(
            "Invalid backup: Incremental backups exist for this backup.",
        ));
    }
    let mut tx = svc.db().write().begin().await?;
    if !store::delete(&mut tx, &b.id).await? {
        return Err(not_found(&b.id));
    }
    let left = store::data_users(&mut tx, &b.data_id).await?;
    tx.commit().await?;
    if left == 0 {
        let be = svc.backend();
        be.remove(&be.backup_path(&b.data_id)).await;
    }
    Ok(())
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_write()?;
    let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
    remove(&svc, &b, false).await?;
    Ok(accepted_empty())
}

/// `os-reset_status` (admin: `available` or `error`), `os-force_delete`
/// (admin).
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    let obj = body.object()?;
    let Some((name, raw)) = obj.into_iter().next() else {
        return Err(Error::bad_request("Invalid request body: no action given."));
    };
    let args = match raw {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => return Err(Error::bad_request(format!("'{name}' must be an object."))),
    };
    match name.as_str() {
        "os-reset_status" => {
            ctx.require_admin()?;
            validate::no_extra(&args, &["status"], "os-reset_status")?;
            let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
            let status = opt_string(&args, "status", 255)?.ok_or_else(|| {
                Error::bad_request(
                    "Invalid input for field/attribute os-reset_status: 'status' is a required \
                     property.",
                )
            })?;
            let status = status.to_ascii_lowercase();
            if status != "available" && status != "error" {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute status. Value: {status}. '{status}' is \
                     not one of ['available', 'error']."
                )));
            }
            let mut conn = svc.db().write().acquire().await?;
            store::set_status(&mut conn, &b.id, &status, None, now_micros()).await?;
            Ok(accepted_empty())
        }
        "os-force_delete" => {
            ctx.require_admin()?;
            let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
            remove(&svc, &b, true).await?;
            Ok(accepted_empty())
        }
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

/// `POST /backups/{id}/restore` `{"restore": {"volume_id"?, "name"?}}`:
/// into an existing available volume at least as large, or a new one.
pub async fn restore(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "restore", &[])?;
    validate::no_extra(&obj, &["volume_id", "name"], "restore")?;
    let target = validate::opt_uuid(&obj, "volume_id")?;
    let name = validate::name(&obj, "name")?;
    let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
    if b.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid backup: Backup status must be available (backup {} is {}).",
            b.id, b.status
        )));
    }
    let now = now_micros();
    let db = svc.db();
    let (vol_id, vol_name) = match target {
        Some(vid) => {
            let vol = visible(&svc, &ctx, &vid).await?;
            if vol.status != "available" {
                return Err(Error::bad_request(format!(
                    "Invalid volume: Volume to be restored to must be available, but the \
                     current status is \"{}\".",
                    vol.status
                )));
            }
            if vol.size < b.size {
                return Err(Error::bad_request(format!(
                    "Invalid volume: volume size {} is too small to restore backup of size {}.",
                    vol.size, b.size
                )));
            }
            let mut tx = db.write().begin().await?;
            if !vstore::transition(&mut tx, &vol.id, &["available"], "restoring-backup", now)
                .await?
            {
                return Err(Error::bad_request(
                    "Invalid volume: Volume to be restored to must be available.",
                ));
            }
            if !store::transition(&mut tx, &b.id, &["available"], "restoring", now).await? {
                return Err(Error::bad_request(
                    "Invalid backup: Backup status must be available.",
                ));
            }
            let args = json!({"backup_id": b.id});
            let args = args.as_object().cloned().unwrap_or_default();
            tasks::insert(&mut tx, worker::RESTORE_BACKUP, &vol.id, &args, now).await?;
            tx.commit().await?;
            (vol.id, vol.name.unwrap_or_default())
        }
        None => {
            let vtype = super::types::default_type(&svc, &ctx).await?;
            let vol_name = name.unwrap_or_else(|| format!("restore_backup_{}", b.id));
            let vol = Volume {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: ctx.project_id.clone(),
                user_id: ctx.auth.user_id.clone(),
                name: Some(vol_name.clone()),
                description: Some("auto-created_from_restore_from_backup".into()),
                size: b.size,
                status: "restoring-backup".into(),
                availability_zone: "nova".into(),
                volume_type_id: vtype.id,
                snapshot_id: None,
                source_volid: None,
                image_id: None,
                bootable: false,
                readonly: false,
                metadata: Map::new(),
                image_metadata: None,
                error_message: None,
                multiattach: false,
                group_id: None,
                created_at: now,
                updated_at: None,
            };
            let mut tx = db.write().begin().await?;
            let delta = Delta {
                volumes: 1,
                gigabytes: vol.size,
                ..Delta::default()
            };
            check_quota(db, &mut tx, &vol.project_id, &delta, Some(vol.size)).await?;
            if !store::transition(&mut tx, &b.id, &["available"], "restoring", now).await? {
                return Err(Error::bad_request(
                    "Invalid backup: Backup status must be available.",
                ));
            }
            vstore::insert(&mut tx, &vol).await?;
            let args = json!({"backup_id": b.id, "new_volume": true});
            let args = args.as_object().cloned().unwrap_or_default();
            tasks::insert(&mut tx, worker::RESTORE_BACKUP, &vol.id, &args, now).await?;
            tx.commit().await?;
            (vol.id, vol_name)
        }
    };
    svc.wake();
    Ok(accepted(json!({"restore": {
        "backup_id": b.id, "volume_id": vol_id, "volume_name": vol_name,
    }})))
}

/// The record `export_record` hands out (and `import_record` reads).
fn record(b: &Backup) -> Value {
    json!({
        "id": b.id,
        "project_id": b.project_id,
        "user_id": b.user_id,
        "volume_id": b.volume_id,
        "snapshot_id": b.snapshot_id,
        "display_name": b.name,
        "display_description": b.description,
        "container": b.container,
        "availability_zone": b.availability_zone,
        "size": b.size,
        "status": b.status,
        "is_incremental": b.is_incremental,
        "parent_id": b.parent_id,
        "data_id": b.data_id,
        "metadata": b.metadata,
        "volume_meta": b.volume_meta,
        "data_timestamp": b.data_timestamp,
        "service": BACKUP_SERVICE,
    })
}

/// `GET /backups/{id}/export_record` (admin).
pub async fn export_record(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let b = visible_backup(&svc, &ctx, ctx.param("backup_id")).await?;
    if b.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid backup: Backup status must be available and not restoring (backup {} \
             is {}).",
            b.id, b.status
        )));
    }
    let url = base64::engine::general_purpose::STANDARD.encode(record(&b).to_string());
    Ok(ok(json!({"backup-record": {
        "backup_service": BACKUP_SERVICE, "backup_url": url,
    }})))
}

fn invalid_record(why: &str) -> Error {
    Error::bad_request(format!(
        "Invalid backup: Can't parse backup record ({why})."
    ))
}

/// `POST /backups/import_record` (admin) `{"backup-record": {
/// "backup_service", "backup_url"}}` → 201: a row for the caller's project
/// over the exported backup's data.
pub async fn import_record(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    ctx.require_admin()?;
    let obj = validate::wrapped_only(&body, "backup-record", &[])?;
    validate::no_extra(&obj, &["backup_service", "backup_url"], "backup-record")?;
    let mut fields = Vec::new();
    for key in ["backup_service", "backup_url"] {
        match opt_string(&obj, key, usize::MAX)? {
            Some(s) if !s.is_empty() => fields.push(s),
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute backup-record: '{key}' is a required \
                     property."
                )))
            }
        }
    }
    let (service, url) = (&fields[0], &fields[1]);
    if service != BACKUP_SERVICE {
        return Err(Error::bad_request(format!(
            "Invalid backup: backup service {service} is not offered here (only \
             {BACKUP_SERVICE})."
        )));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(url.trim())
        .map_err(|_| invalid_record("not base64"))?;
    let rec: Map<String, Value> = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(m)) => m,
        _ => return Err(invalid_record("not a JSON object")),
    };
    let s = |k: &str| rec.get(k).and_then(Value::as_str).map(str::to_owned);
    let id = s("id")
        .filter(|i| validate::is_uuid(i))
        .ok_or_else(|| invalid_record("no backup id"))?;
    let data_id = s("data_id")
        .filter(|i| validate::is_uuid(i))
        .ok_or_else(|| invalid_record("no data id"))?;
    let volume_id = s("volume_id").ok_or_else(|| invalid_record("no volume id"))?;
    let size = rec
        .get("size")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid_record("no size"))?;
    if store::get(svc.db(), &id).await?.is_some() {
        return Err(Error::bad_request(
            "Invalid backup: Backup already exists in database.",
        ));
    }
    let be = svc.backend();
    if tokio::fs::metadata(be.backup_path(&data_id)).await.is_err() {
        return Err(Error::bad_request(format!(
            "Invalid backup: the data of backup record {id} is not in this backup store."
        )));
    }
    let obj_of = |k: &str| match rec.get(k) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let now = now_micros();
    let b = Backup {
        id,
        project_id: ctx.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        volume_id,
        snapshot_id: s("snapshot_id"),
        name: s("display_name"),
        description: s("display_description"),
        container: s("container"),
        availability_zone: s("availability_zone"),
        size,
        status: "available".into(),
        fail_reason: None,
        // the parent is not imported with it: the record stands alone
        is_incremental: false,
        parent_id: None,
        data_id,
        metadata: obj_of("metadata"),
        volume_meta: obj_of("volume_meta"),
        data_timestamp: rec.get("data_timestamp").and_then(Value::as_i64),
        created_at: now,
        updated_at: None,
    };
    let mut tx = svc.db().write().begin().await?;
    check_backup_quota(&svc, &mut tx, &b.project_id, b.size).await?;
    if let Err(e) = store::insert(&mut tx, &b).await {
        // the same id imported at the same moment by another request
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            return Err(Error::bad_request(
                "Invalid backup: Backup already exists in database.",
            ));
        }
        return Err(e.into());
    }
    tx.commit().await?;
    Ok(ferro_api::error::json_response(
        StatusCode::CREATED,
        &json!({"backup": summary(&ctx, &b)}),
    ))
}
