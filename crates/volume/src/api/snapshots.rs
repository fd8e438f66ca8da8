//! `/v3/{project_id}/snapshots`: qcow2 copies of a volume made by the worker.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted, accepted_empty, bool_value, counted, list_opts, metadata_value, ok, opt_string,
    opt_ts, paginate, ts, valid_id, Body, Ctx,
};
use super::filters::{self, Attr};
use super::validate;
use super::volumes;
use crate::error::{Error, Result};
use crate::ops::{check_quota, Delta};
use crate::store::snapshots::{self as store, Snapshot};
use crate::store::tasks;
use crate::worker;
use crate::VolumeService;

fn render(ctx: &Ctx, s: &Snapshot, full: bool) -> Value {
    let mut m = json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "volume_id": s.volume_id,
        "status": s.status,
        "size": s.size,
        "metadata": s.metadata,
        "created_at": ts(s.created_at),
        "updated_at": opt_ts(s.updated_at),
    });
    if ctx.at(14) {
        m["group_snapshot_id"] = json!(s.group_snapshot_id);
    }
    if ctx.at(41) {
        m["user_id"] = json!(s.user_id);
    }
    if ctx.at(65) {
        m["consumes_quota"] = json!(true);
    }
    if full {
        let derived = if s.status == "available" {
            "100%"
        } else {
            "0%"
        };
        let progress = s.progress.as_deref().unwrap_or(derived);
        m["os-extended-snapshot-attributes:progress"] = json!(progress);
        m["os-extended-snapshot-attributes:project_id"] = json!(s.project_id);
    }
    m
}

pub async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<Snapshot> {
    if !valid_id(id) {
        return Err(Error::snapshot_not_found(id));
    }
    match store::get(svc.db(), id).await? {
        Some(s) if ctx.sees(&s.project_id) => Ok(s),
        _ => Err(Error::snapshot_not_found(id)),
    }
}

const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "volume_id",
];

fn sort_value(s: &Snapshot, key: &str) -> Value {
    match key {
        "id" => json!(s.id),
        "name" => json!(s.name),
        "status" => json!(s.status),
        "size" => json!(s.size),
        "created_at" => json!(s.created_at),
        "updated_at" => json!(s.updated_at),
        "volume_id" => json!(s.volume_id),
        _ => Value::Null,
    }
}

fn attr<'a>(s: &'a Snapshot, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&s.id)),
        "name" => Attr::Str(s.name.as_deref()),
        "description" | "display_description" => Attr::Str(s.description.as_deref()),
        "status" => Attr::Str(Some(&s.status)),
        "volume_id" => Attr::Str(Some(&s.volume_id)),
        "size" | "volume_size" => Attr::Int(s.size),
        "metadata" => Attr::Meta(&s.metadata),
        "availability_zone" => Attr::Str(Some("nova")),
        "consumes_quota" | "use_quota" => Attr::Bool(true),
        "project_id" | "tenant_id" => Attr::Str(Some(&s.project_id)),
        "user_id" => Attr::Str(Some(&s.user_id)),
        "created_at" => Attr::Time(Some(s.created_at)),
        "updated_at" => Attr::Time(s.updated_at),
        "group_snapshot_id" => Attr::Str(s.group_snapshot_id.as_deref()),
        _ => Attr::Unknown,
    }
}

async fn listing(svc: &VolumeService, ctx: Ctx, detail: bool) -> Result<Response> {
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let count = filters::with_count(&ctx)?;
    let all = ctx.all_tenants()?;
    let scope = if all {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let fs = filters::parse(
        &ctx,
        "snapshot",
        &["name", "status", "volume_id", "metadata"],
        &[(22, "metadata")],
    )?;
    let list = filters::apply(store::list(svc.db(), scope).await?, &fs, false, attr)?;
    let total = count.then_some(list.len());
    let (page, more) = paginate(list, &opts, |s| s.id.as_str(), sort_value, "snapshots")?;
    let path = if detail {
        "snapshots/detail"
    } else {
        "snapshots"
    };
    Ok(counted(
        &ctx,
        "snapshots",
        path,
        &page,
        more,
        total,
        |s| &s.id,
        |s| render(&ctx, s, detail),
    ))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let s = visible(&svc, &ctx, ctx.param("snapshot_id")).await?;
    Ok(ok(json!({"snapshot": render(&ctx, &s, true)})))
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "snapshot", &[])?;
    validate::no_extra(
        &obj,
        &[
            "name",
            "display_name",
            "description",
            "volume_id",
            "force",
            "metadata",
        ],
        "snapshot",
    )?;
    let volume_id = match obj.get("volume_id") {
        Some(Value::String(s)) if validate::is_uuid(s) => s.clone(),
        None | Some(Value::Null) => {
            // Cinder looks up the volume `None`: 404.
            return Err(Error::not_found(
                "Volume could not be found: 'volume_id' is required.",
            ));
        }
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute volume_id. Value: {v}. {v} is not a 'uuid'."
            )))
        }
    };
    validate::not_null(&obj, "force")?;
    let mut force = match obj.get("force") {
        None => false,
        Some(v) => bool_value(v, "force")?,
    };
    if ctx.at(66) {
        if obj.contains_key("force") && !force {
            return Err(Error::bad_request(
                "Since microversion 3.66 the 'force' flag is invalid for this request. For                  backward compatibility, however, when the 'force' flag is passed with a value                  evaluating to True, it is silently ignored.",
            ));
        }
        // 3.66: in-use volumes are snapshotted without the flag.
        force = true;
    }
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => metadata_value(v, "metadata")?,
    };
    let name = validate::name(&obj, "name")?.or(validate::name(&obj, "display_name")?);
    let description = validate::name(&obj, "description")?;
    let vol = volumes::visible(&svc, &ctx, &volume_id).await?;
    let ok_status = vol.status == "available" || (force && vol.status == "in-use");
    if !ok_status {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be available{}, but current status is: {}.",
            vol.id,
            if force { " or in-use" } else { "" },
            vol.status
        )));
    }
    let snap = new_snapshot(
        ctx.project_id.clone(),
        &ctx,
        &vol,
        name,
        description,
        metadata,
    );
    make(&svc, std::slice::from_ref(&snap)).await?;
    Ok(accepted(json!({"snapshot": render(&ctx, &snap, false)})))
}

/// A `creating` snapshot row of `vol` (not yet stored).
pub fn new_snapshot(
    project_id: String,
    ctx: &Ctx,
    vol: &crate::store::volumes::Volume,
    name: Option<String>,
    description: Option<String>,
    metadata: Map<String, Value>,
) -> Snapshot {
    Snapshot {
        id: uuid::Uuid::new_v4().to_string(),
        project_id,
        user_id: ctx.auth.user_id.clone(),
        volume_id: vol.id.clone(),
        name,
        description,
        size: vol.size,
        status: "creating".into(),
        metadata,
        error_message: None,
        group_snapshot_id: None,
        progress: None,
        created_at: now_micros(),
        updated_at: None,
    }
}

/// Store snapshots and their copy tasks in one transaction, within quota.
pub async fn make(svc: &VolumeService, snaps: &[Snapshot]) -> Result<()> {
    let Some(first) = snaps.first() else {
        return Ok(());
    };
    let db = svc.db();
    let mut tx = db.write().begin().await?;
    let delta = Delta {
        snapshots: snaps.len() as i64,
        gigabytes: snaps.iter().map(|s| s.size).sum(),
        ..Delta::default()
    };
    check_quota(db, &mut tx, &first.project_id, &delta, None).await?;
    for snap in snaps {
        store::insert(&mut tx, snap).await?;
        let now = snap.created_at;
        tasks::insert(&mut tx, worker::CREATE_SNAPSHOT, &snap.id, &Map::new(), now).await?;
    }
    tx.commit().await?;
    svc.wake();
    Ok(())
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "snapshot", &[])?;
    let keys = ["name", "description", "display_name", "display_description"];
    validate::no_extra(&obj, &keys, "snapshot")?;
    if obj.is_empty() {
        return Err(Error::bad_request(
            "Invalid input for field/attribute snapshot. Value: {}. {} is not valid under any              of the given schemas (give name or description).",
        ));
    }
    let mut s = visible(&svc, &ctx, ctx.param("snapshot_id")).await?;
    if obj.contains_key("name") {
        s.name = validate::name(&obj, "name")?;
    } else if obj.contains_key("display_name") {
        s.name = validate::name(&obj, "display_name")?;
    }
    if obj.contains_key("description") {
        s.description = validate::name(&obj, "description")?;
    } else if obj.contains_key("display_description") {
        s.description = validate::name(&obj, "display_description")?;
    }
    let now = now_micros();
    store::update_fields(svc.db(), &s, now).await?;
    s.updated_at = Some(now);
    Ok(ok(json!({"snapshot": render(&ctx, &s, false)})))
}

async fn remove(svc: &VolumeService, s: &Snapshot, force: bool) -> Result<()> {
    if !force && !matches!(s.status.as_str(), "available" | "error" | "error_deleting") {
        return Err(Error::bad_request(format!(
            "Invalid snapshot: Snapshot {} status must be available or error, but it is {}.",
            s.id, s.status
        )));
    }
    let mut conn = svc.db().write().acquire().await?;
    if !store::delete(&mut conn, &s.id).await? {
        return Err(Error::snapshot_not_found(&s.id));
    }
    drop(conn);
    let b = svc.backend();
    b.remove(&b.snapshot_path(&s.id)).await;
    Ok(())
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_write()?;
    let s = visible(&svc, &ctx, ctx.param("snapshot_id")).await?;
    remove(&svc, &s, false).await?;
    Ok(accepted_empty())
}

const SNAPSHOT_STATUSES: &[&str] = &[
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "backing-up",
    "restoring",
    "unmanaging",
];

/// `os-reset_status` (admin), `os-force_delete` (admin),
/// `os-update_snapshot_status`.
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    let obj = body.object()?;
    let Some((name, raw)) = obj.into_iter().next() else {
        return Err(Error::bad_request("Invalid request body: no action given."));
    };
    let s = visible(&svc, &ctx, ctx.param("snapshot_id")).await?;
    let args = match raw {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => return Err(Error::bad_request(format!("'{name}' must be an object."))),
    };
    match name.as_str() {
        "os-update_snapshot_status" => {
            ctx.require_write()?;
            update_status(&svc, &s, &args).await?;
            Ok(accepted_empty())
        }
        "os-reset_status" => {
            ctx.require_admin()?;
            let status = opt_string(&args, "status", 255)?
                .ok_or_else(|| Error::bad_request("Invalid input: 'status' is required."))?;
            if !SNAPSHOT_STATUSES.contains(&status.as_str()) {
                return Err(Error::bad_request(format!("Invalid status '{status}'.")));
            }
            let mut conn = svc.db().write().acquire().await?;
            store::set_status(&mut conn, &s.id, &status, None, now_micros()).await?;
            Ok(accepted_empty())
        }
        "os-force_delete" => {
            ctx.require_admin()?;
            remove(&svc, &s, true).await?;
            Ok(accepted_empty())
        }
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

/// `os-update_snapshot_status` (what a driver reports while creating or
/// deleting): `creating` may go to creating/available/error, `deleting` to
/// deleting/error_deleting; `progress` is stored as given.
async fn update_status(svc: &VolumeService, s: &Snapshot, args: &Map<String, Value>) -> Result<()> {
    let status = opt_string(args, "status", 255)?
        .ok_or_else(|| Error::bad_request("Invalid input: 'status' is required."))?;
    let allowed: &[&str] = match s.status.as_str() {
        "creating" => &["creating", "available", "error"],
        "deleting" => &["deleting", "error_deleting"],
        other => {
            return Err(Error::bad_request(format!(
                "Snapshot status {other} not allowed for update_snapshot_status"
            )))
        }
    };
    if !allowed.contains(&status.as_str()) {
        return Err(Error::bad_request(format!(
            "Provided snapshot status {status} not allowed for snapshot with status {}.",
            s.status
        )));
    }
    let progress = opt_string(args, "progress", 255)?.filter(|p| !p.is_empty());
    let mut conn = svc.db().write().acquire().await?;
    store::set_status_progress(&mut conn, &s.id, &status, progress.as_deref(), now_micros())
        .await?;
    Ok(())
}
