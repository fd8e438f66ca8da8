//! `POST /v3/{project_id}/volumes`: the create schema per version and the
//! sources a volume is made from (blank, snapshot, volume, image), the type
//! (asked, inherited, the project's default), the group, the scheduler's
//! verdict.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted, bool_value, metadata_value, opt_string, size_value, valid_id};
use super::common::{Body, Ctx};
use super::groups;
use super::types::{default_type, resolve_type};
use super::validate;
use super::volumes::{visible, View};
use crate::error::{Error, Result};
use crate::ops::{self, Source};
use crate::store::volumes::{self, Volume};
use crate::store::{snapshots, types};
use crate::VolumeService;

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
    /// 3.47: the backup whose data the volume gets.
    pub backup_id: Option<String>,
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
            backup_id: None,
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
    let backup_id = if ctx.at(47) {
        validate::opt_uuid(obj, "backup_id")?
    } else {
        None
    };
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
        backup_id,
    })
}

const GIB: i64 = 1024 * 1024 * 1024;

/// What a volume's source gives it: size, type, bootable, image metadata.
struct Origin {
    size: Option<i64>,
    type_id: Option<String>,
    bootable: bool,
    image_metadata: Option<Map<String, Value>>,
    source: Source,
}

impl Origin {
    fn blank(size: Option<i64>) -> Origin {
        Origin {
            size,
            type_id: None,
            bootable: false,
            image_metadata: None,
            source: Source::Blank,
        }
    }
}

async fn from_snapshot(
    svc: &VolumeService,
    ctx: &Ctx,
    sid: &str,
    size: Option<i64>,
) -> Result<Origin> {
    let db = svc.db();
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
    let mut o = Origin::blank(Some(s));
    if let Some(parent) = volumes::get(db, &snap.volume_id).await? {
        o.type_id = Some(parent.volume_type_id);
        o.bootable = parent.bootable;
        o.image_metadata = parent.image_metadata;
    }
    o.source = Source::Snapshot(snap.id);
    Ok(o)
}

async fn from_volume(
    svc: &VolumeService,
    ctx: &Ctx,
    vid: &str,
    size: Option<i64>,
) -> Result<Origin> {
    let src = visible(svc, ctx, vid).await?;
    if src.status != "available" && src.status != "in-use" {
        return Err(Error::bad_request(format!(
            "Invalid volume: Source volume {vid} status must be available or in-use, but it \
             is {}.",
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
    Ok(Origin {
        size: Some(s),
        type_id: Some(src.volume_type_id.clone()),
        bootable: src.bootable,
        image_metadata: src.image_metadata.clone(),
        source: Source::Volume(src.id),
    })
}

/// 3.47: a volume with a backup's data, its bootable flag and image
/// metadata.
async fn from_backup(
    svc: &VolumeService,
    ctx: &Ctx,
    bid: &str,
    size: Option<i64>,
) -> Result<Origin> {
    let b = super::backups::visible_backup(svc, ctx, bid).await?;
    if b.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid backup: Backup status must be available (backup {bid} is {}).",
            b.status
        )));
    }
    let s = size.unwrap_or(b.size);
    if s < b.size {
        return Err(Error::bad_request(format!(
            "Invalid input received: Volume size '{s}'GB cannot be smaller than the backup \
             size {}GB.",
            b.size
        )));
    }
    let image_metadata = match b.volume_meta.get("image_metadata") {
        Some(Value::Object(m)) => Some(m.clone()),
        _ => None,
    };
    Ok(Origin {
        size: Some(s),
        type_id: None,
        bootable: b.volume_meta.get("bootable") == Some(&Value::Bool(true)),
        image_metadata,
        source: Source::Backup(b.data_id),
    })
}

/// Cinder's `volume_image_metadata` of a volume made from `img`.
pub(crate) fn image_metadata(img: &ferro_api::services::ImageInfo) -> Map<String, Value> {
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
    im
}

/// The volume snapshot a Nova volume-backed snapshot image stands for: an
/// image of size 0 whose `block_device_mapping` (JSON text) names a
/// snapshot for the boot device (or, lacking one, the first).
fn nova_snapshot_of(img: &ferro_api::services::ImageInfo) -> Option<String> {
    if img.size.unwrap_or(0) != 0 {
        return None;
    }
    let list: Vec<Value> = match img.properties.get("block_device_mapping")? {
        Value::String(s) => serde_json::from_str(s).ok()?,
        Value::Array(l) => l.clone(),
        _ => return None,
    };
    let boots = |b: &&Value| b["boot_index"].as_i64() == Some(0) || b["boot_index"] == "0";
    let with_snapshot = |b: &&Value| b["snapshot_id"].is_string();
    list.iter()
        .filter(with_snapshot)
        .find(boots)
        .or_else(|| list.iter().find(with_snapshot))
        .and_then(|b| b["snapshot_id"].as_str().map(str::to_owned))
}

async fn from_image(
    svc: &VolumeService,
    ctx: &Ctx,
    iid: &str,
    size: Option<i64>,
) -> Result<Origin> {
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
    // A snapshot of a volume-backed server (Nova's: no data, the volume
    // snapshot named in its block device mapping): from 3.46 the volume
    // is made from that snapshot.
    if let Some(sid) = nova_snapshot_of(&img) {
        if ctx.at(46) {
            return from_snapshot(svc, ctx, &sid, size).await;
        }
        return Err(Error::bad_request(format!(
            "Invalid image: Image {iid} is a snapshot of a volume-backed server (no data); \
             volumes are made from such images from microversion 3.46."
        )));
    }
    let Some(path) = img.data_path.as_ref().and_then(|p| p.to_str()) else {
        return Err(Error::bad_request(format!(
            "Invalid image: Image {iid} has no data."
        )));
    };
    let bytes = img.size.unwrap_or(0);
    let needed = bytes.div_euclid(GIB) + i64::from(bytes.rem_euclid(GIB) != 0);
    let needed = needed.max(img.min_disk).max(1);
    let s = size.ok_or_else(|| Error::bad_request("Missing required element 'size'."))?;
    if s < needed {
        return Err(Error::bad_request(format!(
            "Invalid input received: Size of specified image {needed}GB is larger than volume \
             size {s}GB."
        )));
    }
    Ok(Origin {
        size: Some(s),
        type_id: None,
        bootable: true,
        image_metadata: Some(image_metadata(&img)),
        source: Source::Image {
            path: path.to_owned(),
            format: img.disk_format.clone().unwrap_or_else(|| "raw".into()),
        },
    })
}

/// The type: asked, else the source's, else the project's default.
async fn volume_type(
    svc: &VolumeService,
    ctx: &Ctx,
    asked: Option<&str>,
    inherited: Option<String>,
) -> Result<types::VolumeType> {
    match (asked, inherited) {
        (Some(t), _) => resolve_type(svc, ctx, t).await,
        (None, Some(id)) => match types::get(svc.db(), &id).await? {
            Some(t) => Ok(t),
            None => default_type(svc, ctx).await,
        },
        (None, None) => default_type(svc, ctx).await,
    }
}

/// Validate sources and create the volume row plus its creation task.
pub async fn create_new(svc: &VolumeService, ctx: &Ctx, req: NewVolume) -> Result<Volume> {
    if let Some(z) = &req.availability_zone {
        if z != "nova" {
            return Err(Error::bad_request(format!(
                "Availability zone '{z}' is invalid."
            )));
        }
    }
    let mut origin = if let Some(sid) = &req.snapshot_id {
        from_snapshot(svc, ctx, sid, req.size).await?
    } else if let Some(vid) = &req.source_volid {
        from_volume(svc, ctx, vid, req.size).await?
    } else if let Some(iid) = &req.image_id {
        from_image(svc, ctx, iid, req.size).await?
    } else if let Some(bid) = &req.backup_id {
        from_backup(svc, ctx, bid, req.size).await?
    } else {
        Origin::blank(req.size)
    };
    let Some(size) = origin.size else {
        return Err(Error::bad_request(
            "Invalid input received: 'size' is required when neither a snapshot, a source \
             volume nor an image is given.",
        ));
    };
    let vtype = volume_type(svc, ctx, req.volume_type.as_deref(), origin.type_id).await?;
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
        origin.source = Source::NoValidHost {
            request_id: ctx.request_id.clone(),
        };
    }
    // A volume made from a snapshot says so, also when the request named
    // an image standing for one (3.46).
    let snapshot_id = match &origin.source {
        Source::Snapshot(id) => Some(id.clone()),
        _ => req.snapshot_id,
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
        volume_type_id: vtype.id,
        snapshot_id,
        source_volid: req.source_volid,
        image_id: req.image_id,
        bootable: origin.bootable,
        readonly: false,
        metadata: req.metadata,
        image_metadata: origin.image_metadata,
        error_message: None,
        multiattach,
        group_id: req.group_id,
        created_at: now_micros(),
        updated_at: None,
    };
    ops::create_volume(svc, &vol, &origin.source).await?;
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
