//! `/v3/{project_id}/volumes`: list, detail, create, show, update, delete.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted, accepted_empty, bool_value, collection, list_opts, metadata_filter, metadata_value,
    ok, opt_string, opt_ts, paginate, parse_bool, size_value, ts, valid_id, wrapped, Body, Ctx,
};
use super::types::resolve_type;
use crate::error::{Error, Result};
use crate::ops::{self, Source};
use crate::store::{
    attachments, snapshots, types,
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

    fn attachments(&self, v: &Volume) -> Value {
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
                            "host_name": a.host_name,
                            "volume_id": v.id,
                            "device": a.device,
                            "id": v.id,
                        })
                    })
                    .collect()
            })
            .unwrap_or_else(|| json!([]))
    }

    /// The 3.0 volume body; `full` adds the extended attributes that show
    /// and detail carry (create and update responses do not).
    pub fn render(&self, ctx: &Ctx, v: &Volume, full: bool) -> Value {
        let mut m = json!({
            "id": v.id,
            "name": v.name,
            "description": v.description,
            "status": v.status,
            "size": v.size,
            "availability_zone": v.availability_zone,
            "created_at": ts(v.created_at),
            "updated_at": opt_ts(v.updated_at),
            "attachments": self.attachments(v),
            "links": ctx.links("volumes", &v.id),
            "bootable": if v.bootable { "true" } else { "false" },
            "encrypted": false,
            "multiattach": false,
            "metadata": v.metadata,
            "user_id": v.user_id,
            "snapshot_id": v.snapshot_id,
            "source_volid": v.source_volid,
            "volume_type": self.types.get(&v.volume_type_id),
            "consistencygroup_id": null,
            "replication_status": null,
            "migration_status": null,
        });
        if full {
            m["os-vol-tenant-attr:tenant_id"] = json!(v.project_id);
            if ctx.is_admin() {
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

async fn filtered(svc: &VolumeService, ctx: &Ctx) -> Result<Vec<Volume>> {
    let all = ctx.all_tenants()?;
    let scope = if all {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let mut list = volumes::list(svc.db(), scope).await?;
    let name = ctx.q("name").or(ctx.q("display_name"));
    if let Some(n) = name {
        list.retain(|v| v.name.as_deref() == Some(n));
    }
    if let Some(s) = ctx.q("status") {
        list.retain(|v| v.status == s);
    }
    if let Some(z) = ctx.q("availability_zone") {
        list.retain(|v| v.availability_zone == z);
    }
    if let Some(b) = ctx.q("bootable") {
        let want = parse_bool(b)
            .ok_or_else(|| Error::bad_request(format!("Invalid filter 'bootable': {b}.")))?;
        list.retain(|v| v.bootable == want);
    }
    if let Some(m) = ctx.q("metadata") {
        let want = metadata_filter(m)?;
        list.retain(|v| want.iter().all(|(k, x)| v.metadata.get(k) == Some(x)));
    }
    if all {
        if let Some(p) = ctx.q("project_id").or(ctx.q("tenant_id")) {
            list.retain(|v| v.project_id == p);
        }
    }
    Ok(list)
}

async fn listing(svc: &VolumeService, ctx: Ctx, detail: bool) -> Result<Response> {
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let list = filtered(svc, &ctx).await?;
    let (page, more) = paginate(list, &opts, |v| v.id.as_str(), sort_value, "volumes")?;
    let path = if detail { "volumes/detail" } else { "volumes" };
    if detail {
        let view = View::load(svc, None).await?;
        Ok(collection(
            &ctx,
            "volumes",
            path,
            &page,
            more,
            |v| &v.id,
            |v| view.render(&ctx, v, true),
        ))
    } else {
        Ok(collection(
            &ctx,
            "volumes",
            path,
            &page,
            more,
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

/// A volume the caller may create: fields parsed and sources checked.
pub struct NewVolume {
    pub size: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub volume_type: Option<String>,
    pub metadata: Map<String, Value>,
    pub availability_zone: Option<String>,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    pub image_id: Option<String>,
}

fn parse_new(obj: &Map<String, Value>) -> Result<NewVolume> {
    let id_field = |k: &str| -> Result<Option<String>> { opt_string(obj, k, 255) };
    let size = match obj.get("size") {
        None | Some(Value::Null) => None,
        Some(v) => Some(size_value(v, "size")?),
    };
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => metadata_value(v, "metadata")?,
    };
    if let Some(v) = obj.get("multiattach") {
        if !v.is_null() && bool_value(v, "multiattach")? {
            return Err(Error::bad_request(
                "Invalid input: multiattach volumes are not supported by this backend.",
            ));
        }
    }
    for unsupported in [
        "backup_id",
        "source_replica",
        "consistencygroup_id",
        "group_id",
    ] {
        if obj.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(Error::bad_request(format!(
                "Invalid input: '{unsupported}' is not supported by this deployment."
            )));
        }
    }
    Ok(NewVolume {
        size,
        name: opt_string(obj, "name", 255)?.or(opt_string(obj, "display_name", 255)?),
        description: opt_string(obj, "description", 255)?.or(opt_string(
            obj,
            "display_description",
            255,
        )?),
        volume_type: id_field("volume_type")?,
        metadata,
        availability_zone: id_field("availability_zone")?,
        snapshot_id: id_field("snapshot_id")?,
        source_volid: id_field("source_volid")?,
        image_id: id_field("imageRef")?.or(id_field("image_id")?),
    })
}

const GIB: i64 = 1024 * 1024 * 1024;

/// Validate sources and create the volume row plus its creation task.
pub async fn create_new(svc: &VolumeService, ctx: &Ctx, req: NewVolume) -> Result<Volume> {
    if let Some(z) = &req.availability_zone {
        if z != "nova" {
            return Err(Error::bad_request(format!(
                "Availability zone '{z}' is invalid."
            )));
        }
    }
    let db = svc.db();
    let mut size = req.size;
    let mut type_id = None;
    let mut source = Source::Blank;
    let mut image_metadata = None;
    let mut bootable = false;
    if let Some(sid) = &req.snapshot_id {
        let snap = match snapshots::get(db, sid).await? {
            Some(s) if valid_id(sid) && ctx.sees(&s.project_id) => s,
            _ => return Err(Error::snapshot_not_found(sid)),
        };
        if snap.status != "available" {
            return Err(Error::bad_request(format!(
                "Invalid snapshot: Originating snapshot status must be one of 'available' values \
                 (snapshot {sid} is {}).",
                snap.status
            )));
        }
        let s = size.unwrap_or(snap.size);
        if s < snap.size {
            return Err(Error::bad_request(format!(
                "Invalid input received: Volume size '{s}'GB cannot be smaller than the snapshot \
                 size {}GB. They must be >= original snapshot size.",
                snap.size
            )));
        }
        size = Some(s);
        if let Some(parent) = volumes::get(db, &snap.volume_id).await? {
            type_id = Some(parent.volume_type_id);
            bootable = parent.bootable;
            image_metadata = parent.image_metadata;
        }
        source = Source::Snapshot(snap.id);
    } else if let Some(vid) = &req.source_volid {
        let src = visible(svc, ctx, vid).await?;
        if src.status != "available" && src.status != "in-use" {
            return Err(Error::bad_request(format!(
                "Invalid volume: Source volume {vid} status must be available or in-use, but \
                 it is {}.",
                src.status
            )));
        }
        let s = size.unwrap_or(src.size);
        if s < src.size {
            return Err(Error::bad_request(format!(
                "Invalid input received: Clones currently must be >= original volume size \
                 ({s} < {}).",
                src.size
            )));
        }
        size = Some(s);
        type_id = Some(src.volume_type_id.clone());
        bootable = src.bootable;
        image_metadata = src.image_metadata.clone();
        source = Source::Volume(src.id);
    } else if let Some(iid) = &req.image_id {
        let Some(images) = svc.image_api() else {
            return Err(Error::bad_request(format!(
                "Invalid input: cannot create a volume from image {iid}: no image service is \
                 available."
            )));
        };
        let img = images
            .get_image(&ctx.auth, iid)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::not_found(format!("Image {iid} could not be found.")))?;
        if img.status != "active" {
            return Err(Error::bad_request(format!(
                "Invalid image: Image {iid} is not active (status {}).",
                img.status
            )));
        }
        let Some(path) = img.data_path.as_ref().and_then(|p| p.to_str()) else {
            return Err(Error::bad_request(format!(
                "Invalid image: Image {iid} has no data."
            )));
        };
        let needed = img.size.unwrap_or(0).div_euclid(GIB)
            + i64::from(img.size.unwrap_or(0).rem_euclid(GIB) != 0);
        let needed = needed.max(img.min_disk).max(1);
        let s = size.ok_or_else(|| Error::bad_request("Missing required element 'size'."))?;
        if s < needed {
            return Err(Error::bad_request(format!(
                "Invalid input received: Size of specified image {needed}GB is larger than \
                 volume size {s}GB."
            )));
        }
        let mut im = Map::new();
        let mut put = |k: &str, v: String| {
            im.insert(k.to_owned(), Value::String(v));
        };
        put("image_id", img.id.clone());
        if let Some(n) = &img.name {
            put("image_name", n.clone());
        }
        if let Some(f) = &img.disk_format {
            put("disk_format", f.clone());
        }
        if let Some(f) = &img.container_format {
            put("container_format", f.clone());
        }
        put("min_disk", img.min_disk.to_string());
        put("min_ram", img.min_ram.to_string());
        if let Some(sz) = img.size {
            put("size", sz.to_string());
        }
        for (k, v) in &img.properties {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            put(k, s);
        }
        image_metadata = Some(im);
        bootable = true;
        source = Source::Image {
            path: path.to_owned(),
            format: img.disk_format.clone().unwrap_or_else(|| "raw".into()),
        };
    }
    let Some(size) = size else {
        return Err(Error::bad_request(
            "Invalid input received: 'size' is required when neither a snapshot, a source \
             volume nor an image is given.",
        ));
    };
    let type_id = match &req.volume_type {
        Some(t) => resolve_type(svc, ctx, t).await?.id,
        None => type_id.unwrap_or_else(|| crate::store::DEFAULT_TYPE_ID.to_owned()),
    };
    let vol = Volume {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: ctx.project_id.clone(),
        user_id: ctx.auth.user_id.clone(),
        name: req.name,
        description: req.description,
        size,
        status: "creating".into(),
        availability_zone: "nova".into(),
        volume_type_id: type_id,
        snapshot_id: req.snapshot_id,
        source_volid: req.source_volid,
        image_id: req.image_id,
        bootable,
        readonly: false,
        metadata: req.metadata,
        image_metadata,
        error_message: None,
        created_at: now_micros(),
        updated_at: None,
    };
    ops::create_volume(svc, &vol, &source).await?;
    Ok(vol)
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = wrapped(&body, "volume")?;
    let req = parse_new(&obj)?;
    let vol = create_new(&svc, &ctx, req).await?;
    let view = View::load(&svc, Some(&vol.id)).await?;
    Ok(accepted(json!({"volume": view.render(&ctx, &vol, false)})))
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let mut v = visible(&svc, &ctx, ctx.param("volume_id")).await?;
    let obj = wrapped(&body, "volume")?;
    for (key, alias) in [
        ("name", "display_name"),
        ("description", "display_description"),
    ] {
        let val = if obj.contains_key(key) {
            Some(opt_string(&obj, key, 255)?)
        } else if obj.contains_key(alias) {
            Some(opt_string(&obj, alias, 255)?)
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
    let cascade = match ctx.q("cascade") {
        None => false,
        Some(c) => parse_bool(c)
            .ok_or_else(|| Error::bad_request(format!("Invalid value '{c}' for cascade.")))?,
    };
    ops::delete_volume(&svc, &v, cascade, false).await?;
    Ok(accepted_empty())
}
