//! `/v3/{project_id}/volumes`: list, detail, create, show, update, delete.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted_empty, counted, list_opts, metadata_value, ok, opt_ts, paginate, parse_bool, ts,
    valid_id, Body, Ctx,
};
use super::filters::{self, Attr};
use super::validate;
pub use super::volume_create::{create, create_new, NewVolume};
use crate::error::{Error, Result};
use crate::ops;
use crate::store::{
    attachments, types,
    volumes::{self, Volume},
};
use crate::VolumeService;

pub const HOST: &str = "ferrostack@qcow2#qcow2";

/// Names of the volume types and attachments of the volumes shown.
pub struct View {
    types: HashMap<String, String>,
    atts: HashMap<String, Vec<attachments::Attachment>>,
}

impl View {
    pub async fn load(svc: &VolumeService, only: Option<&str>) -> Result<View> {
        let db = svc.db();
        let types = types::list(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let list = match only {
            Some(id) => attachments::of_volume(db, id).await?,
            None => attachments::all(db).await?,
        };
        let mut atts: HashMap<String, Vec<_>> = HashMap::new();
        for a in list {
            atts.entry(a.volume_id.clone()).or_default().push(a);
        }
        Ok(View { types, atts })
    }

    fn attachments(&self, ctx: &Ctx, v: &Volume) -> Value {
        let show_host = ctx.is_admin() || ctx.auth.has_role("service");
        self.atts
            .get(&v.id)
            .map(|l| {
                l.iter()
                    .filter(|a| a.attach_status == "attached")
                    .map(|a| {
                        json!({
                            "server_id": a.server_id,
                            "attachment_id": a.id,
                            "attached_at": opt_ts(a.attached_at),
                            "host_name": if show_host { json!(a.host_name) } else { Value::Null },
                            "volume_id": v.id,
                            "device": a.device,
                            "id": v.id,
                        })
                    })
                    .collect()
            })
            .unwrap_or_else(|| json!([]))
    }

    /// The volume body at the request's microversion (Cinder's v3 detail
    /// view, used by create, update, show and detail); `full` adds the
    /// extension attributes that only show and detail carry.
    pub fn render(&self, ctx: &Ctx, v: &Volume, full: bool) -> Value {
        let type_name = self.types.get(&v.volume_type_id);
        let volume_type = match type_name {
            Some(n) => json!(n),
            None if ctx.at(63) => Value::Null,
            None => json!(v.volume_type_id),
        };
        let mut m = json!({
            "id": v.id,
            "name": v.name,
            "description": v.description,
            "status": v.status,
            "size": v.size,
            "availability_zone": v.availability_zone,
            "created_at": ts(v.created_at),
            "updated_at": opt_ts(v.updated_at),
            "attachments": self.attachments(ctx, v),
            "links": ctx.links("volumes", &v.id),
            "bootable": if v.bootable { "true" } else { "false" },
            "encrypted": false,
            "multiattach": v.multiattach,
            "metadata": v.metadata,
            "user_id": v.user_id,
            "snapshot_id": v.snapshot_id,
            "source_volid": v.source_volid,
            "volume_type": volume_type,
            "consistencygroup_id": null,
            "replication_status": null,
        });
        let admin = ctx.is_admin();
        if admin {
            m["migration_status"] = Value::Null;
        }
        versioned_fields(&mut m, ctx, v);
        if full {
            m["os-vol-tenant-attr:tenant_id"] = json!(v.project_id);
            if admin {
                m["os-vol-host-attr:host"] = json!(HOST);
                m["os-vol-mig-status-attr:migstat"] = Value::Null;
                m["os-vol-mig-status-attr:name_id"] = Value::Null;
            }
            if let Some(im) = &v.image_metadata {
                m["volume_image_metadata"] = Value::Object(im.clone());
            }
        }
        m
    }
}

/// The id of the one volume service (`service_uuid`, 3.48).
pub const SERVICE_UUID: &str = "6c1f3d1e-8a57-4f0b-9d3e-2b6a4c9e7f10";

/// Fields added by later microversions (3.13 … 3.65).
fn versioned_fields(m: &mut Value, ctx: &Ctx, v: &Volume) {
    let admin = ctx.is_admin();
    if ctx.at(13) {
        m["group_id"] = json!(v.group_id);
    }
    if ctx.at(21) && admin {
        m["provider_id"] = Value::Null;
    }
    if ctx.at(48) {
        // A local file backend needs no os-brick locking: false at every
        // version (3.69 only allows null besides).
        m["shared_targets"] = json!(false);
        m["service_uuid"] = json!(SERVICE_UUID);
    }
    if ctx.at(61) && admin {
        m["cluster_name"] = Value::Null;
    }
    if ctx.at(63) {
        m["volume_type_id"] = json!(v.volume_type_id);
    }
    // 3.64 `encryption_key_id` appears only for encrypted volumes: never here.
    if ctx.at(65) {
        m["consumes_quota"] = json!(true);
    }
}

/// A volume the caller may see, or 404.
pub async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<Volume> {
    if !valid_id(id) {
        return Err(Error::volume_not_found(id));
    }
    match volumes::get(svc.db(), id).await? {
        Some(v) if ctx.sees(&v.project_id) => Ok(v),
        _ => Err(Error::volume_not_found(id)),
    }
}

const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "availability_zone",
    "bootable",
    "project_id",
    "user_id",
];

fn sort_value(v: &Volume, key: &str) -> Value {
    match key {
        "id" => json!(v.id),
        "name" => json!(v.name),
        "status" => json!(v.status),
        "size" => json!(v.size),
        "created_at" => json!(v.created_at),
        "updated_at" => json!(v.updated_at),
        "availability_zone" => json!(v.availability_zone),
        "bootable" => json!(v.bootable),
        "project_id" => json!(v.project_id),
        "user_id" => json!(v.user_id),
        _ => Value::Null,
    }
}

/// A volume attribute as the list filters see it.
fn attr<'a>(v: &'a Volume, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&v.id)),
        "name" => Attr::Str(v.name.as_deref()),
        "description" | "display_description" => Attr::Str(v.description.as_deref()),
        "status" => Attr::Str(Some(&v.status)),
        "availability_zone" => Attr::Str(Some(&v.availability_zone)),
        "size" => Attr::Int(v.size),
        "bootable" => Attr::Bool(v.bootable),
        "multiattach" => Attr::Bool(v.multiattach),
        "consumes_quota" | "use_quota" => Attr::Bool(true),
        "metadata" => Attr::Meta(&v.metadata),
        "glance_metadata" => Attr::Meta(
            v.image_metadata
                .as_ref()
                .unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
        ),
        "migration_status" | "replication_status" => Attr::Str(None),
        "group_id" => Attr::Str(v.group_id.as_deref()),
        "project_id" | "tenant_id" => Attr::Str(Some(&v.project_id)),
        "user_id" => Attr::Str(Some(&v.user_id)),
        "snapshot_id" => Attr::Str(v.snapshot_id.as_deref()),
        "source_volid" => Attr::Str(v.source_volid.as_deref()),
        "volume_type_id" => Attr::Str(Some(&v.volume_type_id)),
        "created_at" => Attr::Time(Some(v.created_at)),
        "updated_at" => Attr::Time(v.updated_at),
        _ => Attr::Unknown,
    }
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

/// What a non-admin may filter on before 3.31.
const LEGACY_FILTERS: &[&str] = &[
    "name",
    "status",
    "metadata",
    "availability_zone",
    "bootable",
    "group_id",
    "glance_metadata",
];

async fn filtered(svc: &VolumeService, ctx: &Ctx) -> Result<Vec<Volume>> {
    let all = ctx.all_tenants()?;
    let scope = if all {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let fs = filters::parse(
        ctx,
        "volume",
        LEGACY_FILTERS,
        &[(4, "glance_metadata"), (10, "group_id")],
    )?;
    let (by_type, fs): (Vec<_>, Vec<_>) = fs.into_iter().partition(|f| f.key == "volume_type");
    let list = volumes::list(svc.db(), scope).await?;
    let mut list = filters::apply(list, &fs, ctx.at(2), attr)?;
    if let Some(f) = by_type.first() {
        // a type filter takes the type's name or id
        let names: HashMap<String, String> = types::list(svc.db())
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        list.retain(|v| {
            v.volume_type_id == f.value || names.get(&v.volume_type_id) == Some(&f.value)
        });
    }
    Ok(list)
}

async fn listing(svc: &VolumeService, ctx: Ctx, detail: bool) -> Result<Response> {
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let count = filters::with_count(&ctx)?;
    let list = filtered(svc, &ctx).await?;
    let total = count.then_some(list.len());
    let (page, more) = paginate(list, &opts, |v| v.id.as_str(), sort_value, "volumes")?;
    let path = if detail { "volumes/detail" } else { "volumes" };
    if detail {
        let view = View::load(svc, None).await?;
        Ok(counted(
            &ctx,
            "volumes",
            path,
            &page,
            more,
            total,
            |v| &v.id,
            |v| view.render(&ctx, v, true),
        ))
    } else {
        Ok(counted(
            &ctx,
            "volumes",
            path,
            &page,
            more,
            total,
            |v| &v.id,
            |v| json!({"id": v.id, "name": v.name, "links": ctx.links("volumes", &v.id)}),
        ))
    }
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let v = visible(&svc, &ctx, ctx.param("volume_id")).await?;
    let view = View::load(&svc, Some(&v.id)).await?;
    Ok(ok(json!({"volume": view.render(&ctx, &v, true)})))
}

const UPDATE_KEYS: &[&str] = &[
    "name",
    "description",
    "display_name",
    "display_description",
    "metadata",
];

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "volume", &[])?;
    validate::no_extra(&obj, UPDATE_KEYS, "volume")?;
    if ctx.at(53) && obj.is_empty() {
        return Err(Error::bad_request(
            "Invalid input for field/attribute volume. Value: {}. {} is not valid under any of              the given schemas (give name, description or metadata).",
        ));
    }
    validate::not_null(&obj, "metadata")?;
    let mut v = visible(&svc, &ctx, ctx.param("volume_id")).await?;
    for (key, alias) in [
        ("name", "display_name"),
        ("description", "display_description"),
    ] {
        let val = if obj.contains_key(key) {
            Some(validate::name(&obj, key)?)
        } else if obj.contains_key(alias) {
            Some(validate::name(&obj, alias)?)
        } else {
            None
        };
        if let Some(val) = val {
            if key == "name" {
                v.name = val;
            } else {
                v.description = val;
            }
        }
    }
    if let Some(m) = obj.get("metadata") {
        v.metadata = metadata_value(m, "metadata")?;
    }
    let now = now_micros();
    volumes::update_fields(svc.db(), &v, now).await?;
    v.updated_at = Some(now);
    let view = View::load(&svc, Some(&v.id)).await?;
    Ok(ok(json!({"volume": view.render(&ctx, &v, false)})))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_write()?;
    let v = visible(&svc, &ctx, ctx.param("volume_id")).await?;
    if let Some(g) = &v.group_id {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} belongs to group {g}; remove it from the group or delete              the group with its volumes.",
            v.id
        )));
    }
    let flag = |k: &str| -> Result<bool> {
        match ctx.q(k) {
            None => Ok(false),
            Some(c) => parse_bool(c)
                .ok_or_else(|| Error::bad_request(format!("Invalid value '{c}' for {k}."))),
        }
    };
    let cascade = flag("cascade")?;
    // 3.23: `force` (admin) deletes in any status.
    let force = ctx.at(23) && flag("force")?;
    if force {
        ctx.require_admin()?;
    }
    ops::delete_volume(&svc, &v, cascade, force).await?;
    Ok(accepted_empty())
}

/// `GET /volumes/summary` (3.12; `metadata` from 3.36).
pub async fn summary(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(12)?;
    let list = filtered(&svc, &ctx).await?;
    let size: i64 = list.iter().map(|v| v.size).sum();
    let mut body = json!({"total_count": list.len(), "total_size": size});
    if ctx.at(36) {
        let mut meta: Map<String, Value> = Map::new();
        for v in &list {
            for (k, x) in &v.metadata {
                let e = meta.entry(k.clone()).or_insert_with(|| json!([]));
                if let Value::Array(a) = e {
                    if !a.contains(x) {
                        a.push(x.clone());
                    }
                }
            }
        }
        body["metadata"] = Value::Object(meta);
    }
    Ok(ok(json!({ "volume-summary": body })))
}
