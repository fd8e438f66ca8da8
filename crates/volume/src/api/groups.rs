//! Generic volume groups (`/v3/{project_id}/groups`, 3.13): create, list,
//! show, update (name, description, add/remove volumes), the `delete` and
//! `reset_status` (3.20) actions, `create-from-src` (3.14). Views add
//! `group_snapshot_id`/`source_group_id` (3.14), `volumes` with
//! `list_volume=true` (3.25), `replication_status` (3.38), `project_id`
//! (3.58, admins).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted, accepted_empty, bool_value, list_opts, ok, paginate, parse_bool};
use super::common::{ts, valid_id, Body, Ctx};
use super::filters::{self, Attr};
use super::group_types;
use super::types::resolve_type;
use super::validate;
use crate::error::{Error, Result};
use crate::ops;
use crate::store::groups::{self as store, Group};
use crate::store::{snapshots, volumes};
use crate::VolumeService;

pub fn group_not_found(id: &str) -> Error {
    Error::not_found(format!("Group {id} could not be found."))
}

/// A group the caller may see, or 404.
pub async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<Group> {
    if !valid_id(id) {
        return Err(group_not_found(id));
    }
    match store::get(svc.db(), id).await? {
        Some(g) if ctx.sees(&g.project_id) => Ok(g),
        _ => Err(group_not_found(id)),
    }
}

/// A volume created into group `id` must use one of the group's types.
pub async fn check_volume_type(
    svc: &VolumeService,
    ctx: &Ctx,
    id: &str,
    type_id: &str,
) -> Result<()> {
    let g = visible(svc, ctx, id).await?;
    if g.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid group: Group {id} status must be available, but current status is: {}.",
            g.status
        )));
    }
    if !g.volume_type_ids.iter().any(|t| t == type_id) {
        return Err(Error::bad_request(format!(
            "Invalid input received: Invalid volume_type provided: {type_id} (requested type is \
             not compatible; recommend omitting the type argument)."
        )));
    }
    Ok(())
}

async fn render(svc: &VolumeService, ctx: &Ctx, g: &Group) -> Result<Value> {
    let mut m = json!({
        "id": g.id,
        "status": g.status,
        "availability_zone": g.availability_zone,
        "created_at": ts(g.created_at),
        "name": g.name,
        "description": g.description,
        "group_type": g.group_type_id,
        "volume_types": g.volume_type_ids,
    });
    if ctx.at(14) {
        m["group_snapshot_id"] = json!(g.group_snapshot_id);
        m["source_group_id"] = json!(g.source_group_id);
    }
    if ctx.at(25) && ctx.q("list_volume").and_then(parse_bool) == Some(true) {
        let ids: Vec<String> = members(svc, g).await?.into_iter().map(|v| v.id).collect();
        m["volumes"] = json!(ids);
    }
    if ctx.at(38) {
        m["replication_status"] = json!("disabled");
    }
    if ctx.at(58) && ctx.is_admin() {
        m["project_id"] = json!(g.project_id);
    }
    Ok(m)
}

/// The volumes in a group.
pub async fn members(svc: &VolumeService, g: &Group) -> Result<Vec<volumes::Volume>> {
    Ok(volumes::list(svc.db(), Some(&g.project_id))
        .await?
        .into_iter()
        .filter(|v| v.group_id.as_deref() == Some(g.id.as_str()))
        .collect())
}

fn attr<'a>(g: &'a Group, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&g.id)),
        "name" => Attr::Str(g.name.as_deref()),
        "status" => Attr::Str(Some(&g.status)),
        "group_type" | "group_type_id" => Attr::Str(Some(&g.group_type_id)),
        "project_id" => Attr::Str(Some(&g.project_id)),
        "created_at" => Attr::Time(Some(g.created_at)),
        _ => Attr::Unknown,
    }
}

const SORT_KEYS: &[&str] = &["id", "name", "status", "created_at"];

fn sort_value(g: &Group, key: &str) -> Value {
    match key {
        "id" => json!(g.id),
        "name" => json!(g.name),
        "status" => json!(g.status),
        "created_at" => json!(g.created_at),
        _ => Value::Null,
    }
}

async fn listing(svc: &VolumeService, ctx: Ctx, full: bool) -> Result<Response> {
    ctx.require_version(13)?;
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let scope = if ctx.all_tenants()? {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let mut fs = filters::parse(&ctx, "group", &["name"], &[])?;
    fs.retain(|f| f.key != "list_volume");
    let list = filters::apply(store::list(svc.db(), scope).await?, &fs, false, attr)?;
    let (page, _more) = paginate(list, &opts, |g| g.id.as_str(), sort_value, "groups")?;
    let mut items = Vec::with_capacity(page.len());
    for g in &page {
        items.push(if full {
            render(svc, &ctx, g).await?
        } else {
            json!({"id": g.id, "name": g.name})
        });
    }
    Ok(ok(json!({ "groups": items })))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(13)?;
    let g = visible(&svc, &ctx, ctx.param("group_id")).await?;
    Ok(ok(json!({"group": render(&svc, &ctx, &g).await?})))
}

fn new_group(
    ctx: &Ctx,
    obj: &Map<String, Value>,
    type_id: String,
    vt: Vec<String>,
) -> Result<Group> {
    Ok(Group {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: ctx.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        name: validate::name(obj, "name")?,
        description: validate::name(obj, "description")?,
        status: "available".into(),
        availability_zone: "nova".into(),
        group_type_id: type_id,
        volume_type_ids: vt,
        group_snapshot_id: None,
        source_group_id: None,
        created_at: now_micros(),
        updated_at: None,
    })
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(13)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "group", &[])?;
    let keys = [
        "description",
        "group_type",
        "name",
        "volume_types",
        "availability_zone",
    ];
    validate::no_extra(&obj, &keys, "group")?;
    let gt = match obj.get("group_type") {
        Some(Value::String(s)) => group_types::find(&svc, &ctx, s).await?,
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute group_type: a group type is required.",
            ))
        }
    };
    let names = match obj.get("volume_types") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute volume_types: a non-empty list of volume \
                 types is required.",
            ))
        }
    };
    let mut ids = Vec::new();
    for n in &names {
        let Value::String(n) = n else {
            return Err(Error::bad_request(
                "Invalid input for field/attribute volume_types: items must be strings.",
            ));
        };
        let id = resolve_type(&svc, &ctx, n).await?.id;
        if ids.contains(&id) {
            return Err(Error::bad_request(
                "Invalid input for field/attribute volume_types: items must be unique.",
            ));
        }
        ids.push(id);
    }
    if let Some(z) = validate::name(&obj, "availability_zone")? {
        if z != "nova" {
            return Err(Error::bad_request(format!(
                "Availability zone '{z}' is invalid."
            )));
        }
    }
    let g = new_group(&ctx, &obj, gt.id, ids)?;
    store::insert(svc.db(), &g).await?;
    Ok(accepted(json!({"group": {"id": g.id, "name": g.name}})))
}

/// Comma-separated volume ids of an update (`add_volumes`/`remove_volumes`).
fn id_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>> {
    Ok(validate::name(obj, key)?
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(13)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "group", &[])?;
    let keys = ["description", "name", "add_volumes", "remove_volumes"];
    validate::no_extra(&obj, &keys, "group")?;
    if obj.is_empty() {
        return Err(Error::bad_request(
            "Name, description, add_volumes, and remove_volumes can not be all empty in the \
             request body.",
        ));
    }
    let mut g = visible(&svc, &ctx, ctx.param("group_id")).await?;
    if obj.contains_key("name") {
        g.name = validate::name(&obj, "name")?;
    }
    if obj.contains_key("description") {
        g.description = validate::name(&obj, "description")?;
    }
    let add = id_list(&obj, "add_volumes")?;
    let remove = id_list(&obj, "remove_volumes")?;
    let mut moves = Vec::new();
    for id in &add {
        let v = super::volumes::visible(&svc, &ctx, id).await.map_err(|_| {
            Error::bad_request(format!(
                "Invalid volume: Cannot add volume {id} to group {}: it could not be found.",
                g.id
            ))
        })?;
        let ok_type = g.volume_type_ids.contains(&v.volume_type_id);
        let ok_status = matches!(v.status.as_str(), "available" | "in-use");
        if !ok_type || !ok_status || v.group_id.is_some() {
            return Err(Error::bad_request(format!(
                "Invalid volume: Cannot add volume {id} to group {}: its type must be one of \
                 the group's, it must be available or in-use and in no other group.",
                g.id
            )));
        }
        moves.push((v.id, Some(g.id.clone())));
    }
    let current = members(&svc, &g).await?;
    for id in &remove {
        if !current.iter().any(|v| &v.id == id) {
            return Err(Error::bad_request(format!(
                "Invalid volume: Cannot remove volume {id} from group {}: it is not in the \
                 group.",
                g.id
            )));
        }
        moves.push((id.clone(), None));
    }
    let now = now_micros();
    let mut tx = svc.db().write().begin().await?;
    for (vid, gid) in &moves {
        volumes::set_group(&mut tx, vid, gid.as_deref()).await?;
    }
    tx.commit().await?;
    store::update(svc.db(), &g, now).await?;
    Ok(accepted_empty())
}

/// `POST /groups/action`: `create-from-src` (3.14).
pub async fn collection_action(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    ctx.require_version(14)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "create-from-src", &[])?;
    let keys = [
        "description",
        "name",
        "source_group_id",
        "group_snapshot_id",
    ];
    validate::no_extra(&obj, &keys, "create-from-src")?;
    let gs = validate::opt_uuid(&obj, "group_snapshot_id")?;
    let src = validate::opt_uuid(&obj, "source_group_id")?;
    let g = match (gs, src) {
        (Some(gs), None) => super::group_snapshots::clone_group(&svc, &ctx, &obj, &gs).await?,
        (None, Some(src)) => {
            let source = visible(&svc, &ctx, &src).await?;
            let mut g = new_group(
                &ctx,
                &obj,
                source.group_type_id.clone(),
                source.volume_type_ids.clone(),
            )?;
            g.source_group_id = Some(source.id.clone());
            store::insert(svc.db(), &g).await?;
            for v in members(&svc, &source).await? {
                let req = super::volumes::NewVolume::clone_of(&v.id, &g.id);
                super::volumes::create_new(&svc, &ctx, req).await?;
            }
            g
        }
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute create-from-src: give exactly one of \
                 group_snapshot_id and source_group_id.",
            ))
        }
    };
    Ok(accepted(json!({"group": {"id": g.id, "name": g.name}})))
}

const GROUP_STATUSES: &[&str] = &[
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "updating",
    "in-use",
];

/// `POST /groups/{id}/action`: `delete`, `reset_status` (3.20).
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(13)?;
    let obj = body.object()?;
    let Some((name, raw)) = obj.into_iter().next() else {
        return Err(Error::bad_request("Invalid request body: no action given."));
    };
    let args = match raw {
        Value::Object(m) => m,
        _ => return Err(Error::bad_request(format!("'{name}' must be an object."))),
    };
    let mut g = visible(&svc, &ctx, ctx.param("group_id")).await?;
    match name.as_str() {
        "delete" => {
            ctx.require_write()?;
            validate::no_extra(&args, &["delete-volumes"], "delete")?;
            let with_volumes = match args.get("delete-volumes") {
                None => false,
                Some(v) => bool_value(v, "delete-volumes")?,
            };
            delete(&svc, &g, with_volumes).await?;
            Ok(accepted_empty())
        }
        "reset_status" if ctx.at(20) => {
            ctx.require_admin()?;
            validate::no_extra(&args, &["status"], "reset_status")?;
            let status = validate::name(&args, "status")?.unwrap_or_default();
            if !GROUP_STATUSES.contains(&status.as_str()) {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute status. Value: {status}."
                )));
            }
            g.status = status;
            store::update(svc.db(), &g, now_micros()).await?;
            Ok(accepted_empty())
        }
        "enable_replication" | "disable_replication" | "failover_replication" if ctx.at(38) => {
            ctx.require_write()?;
            Err(Error::bad_request(format!(
                "Invalid group type: Group type {} does not support replication (this backend \
                 has no replication targets).",
                g.group_type_id
            )))
        }
        "list_replication_targets" if ctx.at(38) => Ok(ok(json!({"replication_targets": []}))),
        "reset_status"
        | "enable_replication"
        | "disable_replication"
        | "failover_replication"
        | "list_replication_targets" => Err(Error::not_found("The resource could not be found.")),
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

async fn delete(svc: &VolumeService, g: &Group, with_volumes: bool) -> Result<()> {
    let vols = members(svc, g).await?;
    if !vols.is_empty() && !with_volumes {
        return Err(Error::bad_request(format!(
            "Invalid group: Group {} still contains volumes. The delete-volumes flag is required \
             to delete it.",
            g.id
        )));
    }
    if !store::snapshots_of(svc.db(), &g.id).await?.is_empty() {
        return Err(Error::bad_request(format!(
            "Invalid group: Group {} has existing snapshots.",
            g.id
        )));
    }
    for v in &vols {
        if !snapshots::of_volume(svc.db(), &v.id).await?.is_empty() {
            return Err(Error::bad_request(format!(
                "Invalid volume: Volume {} in group {} has snapshots.",
                v.id, g.id
            )));
        }
    }
    for v in &vols {
        ops::delete_volume(svc, v, false, false).await?;
    }
    store::delete(svc.db(), &g.id).await?;
    Ok(())
}
