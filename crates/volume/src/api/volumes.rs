//! `/v3/{project_id}/volumes`: list, detail, create, show, update, delete.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted, accepted_empty, bool_value, counted, list_opts, metadata_value, ok, opt_string,
    opt_ts, paginate, parse_bool, size_value, ts, valid_id, Body, Ctx,
};
use super::filters::{self, Attr};
use super::groups;
use super::types::default_type;
use super::types::resolve_type;
use super::validate;
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
    /// 3.13: the group to create the volume in.
    pub group_id: Option<String>,
}

impl NewVolume {
    fn empty(group_id: &str) -> NewVolume {
        NewVolume {
            size: None,
            name: None,
            description: None,
            volume_type: None,
            metadata: Map::new(),
            availability_zone: None,
            snapshot_id: None,
            source_volid: None,
            image_id: None,
            group_id: Some(group_id.to_owned()),
        }
    }

    /// A clone of volume `source` into group `group_id` (create-from-src).
    pub fn clone_of(source: &str, group_id: &str) -> NewVolume {
        NewVolume {
            source_volid: Some(source.to_owned()),
            ..NewVolume::empty(group_id)
        }
    }

    /// A volume from snapshot `snap` into group `group_id`.
    pub fn from_snapshot(snap: &str, group_id: &str) -> NewVolume {
        NewVolume {
            snapshot_id: Some(snap.to_owned()),
            ..NewVolume::empty(group_id)
        }
    }
}

/// The keys of Cinder's volume-create schema at `ctx`'s version.
fn create_keys(ctx: &Ctx) -> Vec<&'static str> {
    let mut keys = vec![
        "name",
        "description",
        "display_name",
        "display_description",
        "volume_type",
        "metadata",
        "snapshot_id",
        "source_volid",
        "consistencygroup_id",
        "size",
        "availability_zone",
        "multiattach",
        "image_id",
        "imageRef",
    ];
    if ctx.at(13) {
        keys.push("group_id");
    }
    if ctx.at(47) {
        keys.push("backup_id");
    }
    keys
}

fn parse_new(ctx: &Ctx, obj: &Map<String, Value>) -> Result<NewVolume> {
    let keys = create_keys(ctx);
    if ctx.at(53) {
        validate::no_extra(obj, &keys, "volume")?;
    }
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
                "multiattach parameter has been removed. The default behavior is to use                  multiattach enabled volume types. Contact your administrator to create a                  multiattach enabled volume type and use it to create multiattach volumes.",
            ));
        }
    }
    if ctx.at(47) {
        if let Some(b) = validate::opt_uuid(obj, "backup_id")? {
            return Err(Error::not_found(format!("Backup {b} could not be found.")));
        }
    }
    if let Some(c) = validate::opt_uuid(obj, "consistencygroup_id")? {
        return Err(Error::not_found(format!(
            "ConsistencyGroup {c} could not be found."
        )));
    }
    let group_id = if ctx.at(13) {
        id_field("group_id")?
    } else {
        None
    };
    Ok(NewVolume {
        size,
        name: validate::name(obj, "name")?.or(validate::name(obj, "display_name")?),
        description: validate::name(obj, "description")?
            .or(validate::name(obj, "display_description")?),
        volume_type: id_field("volume_type")?,
        metadata,
        availability_zone: id_field("availability_zone")?,
        snapshot_id: validate::opt_uuid(obj, "snapshot_id")?,
        source_volid: validate::opt_uuid(obj, "source_volid")?,
        image_id: id_field("imageRef")?.or(id_field("image_id")?),
        group_id,
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
    let vtype = match (&req.volume_type, type_id) {
        (Some(t), _) => resolve_type(svc, ctx, t).await?,
        (None, Some(id)) => match types::get(db, &id).await? {
            Some(t) => t,
            None => default_type(svc, ctx).await?,
        },
        (None, None) => default_type(svc, ctx).await?,
    };
    super::encryption_types::refuse_encrypted(svc, &vtype.id).await?;
    if let Some(g) = &req.group_id {
        groups::check_volume_type(svc, ctx, g, &vtype.id).await?;
    }
    let multiattach = vtype
        .extra_specs
        .get("multiattach")
        .and_then(Value::as_str)
        .is_some_and(|s| s.trim() == "<is> True");
    if !crate::backend::accepts(&vtype.extra_specs)
        || !super::services::volume_service_up(svc).await?
    {
        source = Source::NoValidHost {
            request_id: ctx.request_id.clone(),
        };
    }
    let type_id = vtype.id;
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
        multiattach,
        group_id: req.group_id,
        created_at: now_micros(),
        updated_at: None,
    };
    ops::create_volume(svc, &vol, &source).await?;
    Ok(vol)
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "volume", &["OS-SCH-HNT:scheduler_hints"])?;
    let req = parse_new(&ctx, &obj)?;
    let vol = create_new(&svc, &ctx, req).await?;
    let view = View::load(&svc, Some(&vol.id)).await?;
    Ok(accepted(json!({"volume": view.render(&ctx, &vol, false)})))
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
