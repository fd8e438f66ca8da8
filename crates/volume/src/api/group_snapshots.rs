//! Group snapshots (`/v3/{project_id}/group_snapshots`, 3.14): a snapshot of
//! every volume of a group at once (each an ordinary snapshot carrying
//! `group_snapshot_id`). Its status follows its snapshots: `creating` while
//! one is, `error` if one failed, else the stored status. `reset_status`
//! (3.19, admin); `project_id` in the view from 3.58 (admins).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted, accepted_empty, list_opts, ok, paginate, ts, valid_id, Body, Ctx};
use super::filters::{self, Attr};
use super::groups::{self, members};
use super::snapshots::{make, new_snapshot};
use super::validate;
use crate::error::{Error, Result};
use crate::store::groups::{self as store, Group, GroupSnapshot};
use crate::store::snapshots::{self, Snapshot};
use crate::VolumeService;

fn not_found(id: &str) -> Error {
    Error::not_found(format!("GroupSnapshot {id} could not be found."))
}

async fn parts(svc: &VolumeService, gs: &GroupSnapshot) -> Result<Vec<Snapshot>> {
    Ok(snapshots::list(svc.db(), Some(&gs.project_id))
        .await?
        .into_iter()
        .filter(|s| s.group_snapshot_id.as_deref() == Some(gs.id.as_str()))
        .collect())
}

/// The status shown: derived from the member snapshots while they work.
async fn status(svc: &VolumeService, gs: &GroupSnapshot) -> Result<String> {
    let snaps = parts(svc, gs).await?;
    Ok(if snaps.iter().any(|s| s.status == "creating") {
        "creating".into()
    } else if snaps.iter().any(|s| s.status == "error") && gs.status == "available" {
        "error".into()
    } else {
        gs.status.clone()
    })
}

async fn render(svc: &VolumeService, ctx: &Ctx, gs: &GroupSnapshot) -> Result<Value> {
    let mut m = json!({
        "id": gs.id,
        "group_id": gs.group_id,
        "group_type_id": gs.group_type_id,
        "status": status(svc, gs).await?,
        "created_at": ts(gs.created_at),
        "name": gs.name,
        "description": gs.description,
    });
    if ctx.at(58) && ctx.is_admin() {
        m["project_id"] = json!(gs.project_id);
    }
    Ok(m)
}

async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<GroupSnapshot> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    match store::get_snapshot(svc.db(), id).await? {
        Some(g) if ctx.sees(&g.project_id) => Ok(g),
        _ => Err(not_found(id)),
    }
}

fn attr<'a>(g: &'a GroupSnapshot, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&g.id)),
        "name" => Attr::Str(g.name.as_deref()),
        "status" => Attr::Str(Some(&g.status)),
        "group_id" => Attr::Str(Some(&g.group_id)),
        "project_id" => Attr::Str(Some(&g.project_id)),
        "created_at" => Attr::Time(Some(g.created_at)),
        _ => Attr::Unknown,
    }
}

const SORT_KEYS: &[&str] = &["id", "name", "status", "created_at", "group_id"];

fn sort_value(g: &GroupSnapshot, key: &str) -> Value {
    match key {
        "id" => json!(g.id),
        "name" => json!(g.name),
        "status" => json!(g.status),
        "group_id" => json!(g.group_id),
        "created_at" => json!(g.created_at),
        _ => Value::Null,
    }
}

async fn listing(svc: &VolumeService, ctx: Ctx, full: bool) -> Result<Response> {
    ctx.require_version(14)?;
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let scope = if ctx.all_tenants()? {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let fs = filters::parse(&ctx, "group_snapshot", &["name", "status", "group_id"], &[])?;
    let list = filters::apply(
        store::list_snapshots(svc.db(), scope).await?,
        &fs,
        false,
        attr,
    )?;
    let (page, _more) = paginate(
        list,
        &opts,
        |g| g.id.as_str(),
        sort_value,
        "group_snapshots",
    )?;
    let mut items = Vec::with_capacity(page.len());
    for g in &page {
        items.push(if full {
            render(svc, &ctx, g).await?
        } else {
            json!({"id": g.id, "name": g.name, "group_type_id": g.group_type_id})
        });
    }
    Ok(ok(json!({ "group_snapshots": items })))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(14)?;
    let g = visible(&svc, &ctx, ctx.param("group_snapshot_id")).await?;
    Ok(ok(json!({"group_snapshot": render(&svc, &ctx, &g).await?})))
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(14)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "group_snapshot", &[])?;
    validate::no_extra(&obj, &["group_id", "name", "description"], "group_snapshot")?;
    let gid = validate::opt_uuid(&obj, "group_id")?.ok_or_else(|| {
        Error::bad_request(
            "Invalid input for field/attribute group_snapshot: 'group_id' is a required property.",
        )
    })?;
    let g = groups::visible(&svc, &ctx, &gid).await?;
    let vols = members(&svc, &g).await?;
    if g.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid group: Group {} status must be available, but current status is: {}.",
            g.id, g.status
        )));
    }
    if let Some(v) = vols
        .iter()
        .find(|v| !matches!(v.status.as_str(), "available" | "in-use"))
    {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} status must be available or in-use.",
            v.id
        )));
    }
    let gs = GroupSnapshot {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: g.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        group_id: g.id.clone(),
        group_type_id: g.group_type_id.clone(),
        name: validate::name(&obj, "name")?,
        description: validate::name(&obj, "description")?,
        status: "available".into(),
        created_at: now_micros(),
    };
    let snaps: Vec<Snapshot> = vols
        .iter()
        .map(|v| {
            let mut s = new_snapshot(g.project_id.clone(), &ctx, v, None, None, Map::new());
            s.name = Some(format!("snapshot-{}", s.id));
            s.group_snapshot_id = Some(gs.id.clone());
            s
        })
        .collect();
    make(&svc, &snaps).await?;
    let mut conn = svc.db().write().acquire().await?;
    store::insert_snapshot(&mut conn, &gs).await?;
    drop(conn);
    Ok(accepted(json!({"group_snapshot": {
        "id": gs.id, "name": gs.name, "group_type_id": gs.group_type_id,
    }})))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(14)?;
    ctx.require_write()?;
    let gs = visible(&svc, &ctx, ctx.param("group_snapshot_id")).await?;
    let snaps = parts(&svc, &gs).await?;
    if snaps.iter().any(|s| s.status == "creating") {
        return Err(Error::bad_request(format!(
            "Invalid group snapshot: Group snapshot {} is still being created.",
            gs.id
        )));
    }
    let mut tx = svc.db().write().begin().await?;
    for s in &snaps {
        snapshots::delete(&mut tx, &s.id).await?;
    }
    store::delete_snapshot(&mut tx, &gs.id).await?;
    tx.commit().await?;
    let b = svc.backend();
    for s in &snaps {
        b.remove(&b.snapshot_path(&s.id)).await;
    }
    Ok(accepted_empty())
}

/// `POST /group_snapshots/{id}/action` `reset_status` (3.19, admin).
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(19)?;
    ctx.require_admin()?;
    let obj = validate::wrapped_only(&body, "reset_status", &[])?;
    validate::no_extra(&obj, &["status"], "reset_status")?;
    let status = validate::name(&obj, "status")?.unwrap_or_default();
    let allowed = [
        "creating",
        "available",
        "deleting",
        "error",
        "error_deleting",
    ];
    if !allowed.contains(&status.as_str()) {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute status. Value: {status}."
        )));
    }
    let gs = visible(&svc, &ctx, ctx.param("group_snapshot_id")).await?;
    store::set_snapshot_status(svc.db(), &gs.id, &status).await?;
    Ok(accepted_empty())
}

/// `create-from-src` with a group snapshot: a new group of the same types
/// with a volume made from each of its snapshots.
pub async fn clone_group(
    svc: &VolumeService,
    ctx: &Ctx,
    obj: &Map<String, Value>,
    id: &str,
) -> Result<Group> {
    let gs = visible(svc, ctx, id).await?;
    if status(svc, &gs).await? != "available" {
        return Err(Error::bad_request(format!(
            "Invalid group snapshot: Group snapshot {id} status must be available."
        )));
    }
    let source = groups::visible(svc, ctx, &gs.group_id).await?;
    let g = Group {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: ctx.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        name: validate::name(obj, "name")?,
        description: validate::name(obj, "description")?,
        status: "available".into(),
        availability_zone: "nova".into(),
        group_type_id: source.group_type_id.clone(),
        volume_type_ids: source.volume_type_ids.clone(),
        group_snapshot_id: Some(gs.id.clone()),
        source_group_id: None,
        created_at: now_micros(),
        updated_at: None,
    };
    store::insert(svc.db(), &g).await?;
    for s in parts(svc, &gs).await? {
        let req = super::volumes::NewVolume::from_snapshot(&s.id, &g.id);
        super::volumes::create_new(svc, ctx, req).await?;
    }
    Ok(g)
}
