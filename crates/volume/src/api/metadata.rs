//! The `metadata` sub-resource of volumes and snapshots:
//! GET/POST/PUT `.../metadata`, GET/PUT/DELETE `.../metadata/{key}`.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{metadata_value, ok, ok_empty, Body, Ctx};
use super::{snapshots, volumes};
use crate::error::{Error, Result};
use crate::store;
use crate::VolumeService;

enum Target {
    Volume(store::volumes::Volume),
    Snapshot(store::snapshots::Snapshot),
}

impl Target {
    async fn load(svc: &VolumeService, ctx: &Ctx, snapshot: bool) -> Result<Target> {
        if snapshot {
            let s = snapshots::visible(svc, ctx, ctx.param("snapshot_id")).await?;
            Ok(Target::Snapshot(s))
        } else {
            let v = volumes::visible(svc, ctx, ctx.param("volume_id")).await?;
            Ok(Target::Volume(v))
        }
    }

    fn metadata(&mut self) -> &mut Map<String, Value> {
        match self {
            Target::Volume(v) => &mut v.metadata,
            Target::Snapshot(s) => &mut s.metadata,
        }
    }

    async fn save(&self, svc: &VolumeService) -> Result<()> {
        let now = now_micros();
        match self {
            Target::Volume(v) => store::volumes::update_fields(svc.db(), v, now).await?,
            Target::Snapshot(s) => store::snapshots::update_fields(svc.db(), s, now).await?,
        }
        Ok(())
    }
}

fn body_metadata(body: &Body, key: &str) -> Result<Map<String, Value>> {
    let obj = body.object()?;
    let v = obj
        .get(key)
        .ok_or_else(|| Error::bad_request(format!("Malformed request body: missing '{key}'.")))?;
    metadata_value(v, key)
}

async fn list(svc: VolumeService, ctx: Ctx, snap: bool) -> Result<Response> {
    let mut t = Target::load(&svc, &ctx, snap).await?;
    Ok(ok(json!({"metadata": t.metadata().clone()})))
}

async fn set(
    svc: VolumeService,
    ctx: Ctx,
    body: Body,
    snap: bool,
    replace: bool,
) -> Result<Response> {
    let mut t = Target::load(&svc, &ctx, snap).await?;
    ctx.require_write()?;
    let new = body_metadata(&body, "metadata")?;
    let md = t.metadata();
    if replace {
        md.clear();
    }
    md.extend(new);
    let out = md.clone();
    t.save(&svc).await?;
    Ok(ok(json!({ "metadata": out })))
}

async fn show(svc: VolumeService, ctx: Ctx, snap: bool) -> Result<Response> {
    let mut t = Target::load(&svc, &ctx, snap).await?;
    let key = ctx.param("key");
    match t.metadata().get(key) {
        Some(v) => Ok(ok(json!({"meta": {key: v}}))),
        None => Err(not_found(&t, key)),
    }
}

fn not_found(t: &Target, key: &str) -> Error {
    match t {
        Target::Volume(v) => {
            Error::not_found(format!("Volume {} has no metadata with key {key}.", v.id))
        }
        Target::Snapshot(s) => {
            Error::not_found(format!("Snapshot {} has no metadata with key {key}.", s.id))
        }
    }
}

async fn put(svc: VolumeService, ctx: Ctx, body: Body, snap: bool) -> Result<Response> {
    let mut t = Target::load(&svc, &ctx, snap).await?;
    ctx.require_write()?;
    let meta = body_metadata(&body, "meta")?;
    let key = ctx.param("key").to_owned();
    if meta.len() != 1 {
        return Err(Error::bad_request("Request body contains too many items."));
    }
    let Some(value) = meta.get(&key) else {
        return Err(Error::bad_request("Request body and URI mismatch."));
    };
    let value = value.clone();
    t.metadata().insert(key.clone(), value.clone());
    t.save(&svc).await?;
    Ok(ok(json!({"meta": {key: value}})))
}

async fn delete(svc: VolumeService, ctx: Ctx, snap: bool) -> Result<Response> {
    let mut t = Target::load(&svc, &ctx, snap).await?;
    ctx.require_write()?;
    let key = ctx.param("key").to_owned();
    if t.metadata().remove(&key).is_none() {
        return Err(not_found(&t, &key));
    }
    t.save(&svc).await?;
    Ok(ok_empty())
}

pub async fn vol_list(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    list(s, ctx, false).await
}
pub async fn vol_merge(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    set(s, ctx, b, false, false).await
}
pub async fn vol_replace(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    set(s, ctx, b, false, true).await
}
pub async fn vol_show(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    show(s, ctx, false).await
}
pub async fn vol_put(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    put(s, ctx, b, false).await
}
pub async fn vol_delete(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    delete(s, ctx, false).await
}
pub async fn snap_list(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    list(s, ctx, true).await
}
pub async fn snap_merge(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    set(s, ctx, b, true, false).await
}
pub async fn snap_replace(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    set(s, ctx, b, true, true).await
}
pub async fn snap_show(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    show(s, ctx, true).await
}
pub async fn snap_put(State(s): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    put(s, ctx, b, true).await
}
pub async fn snap_delete(State(s): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    delete(s, ctx, true).await
}
