//! `/v3/{project_id}/attachments` (3.27; `os-complete` 3.44, `mode` 3.54):
//! the new attach flow. A volume goes `reserved` (create without connector)
//! → `attaching` (update with a connector, or create with one) → `in-use`
//! (`os-complete`); deleting the last attachment makes it `available` again.
//! A multiattach volume takes new attachments while `in-use`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{list_opts, ok, paginate, ts, valid_id, Body, Ctx};
use super::filters::{self, Attr};
use super::validate;
use super::volumes::visible as visible_volume;
use crate::error::{Error, Result};
use crate::store::attachments::{self as store, Attachment};
use crate::store::volumes::{self, Volume};
use crate::VolumeService;

fn not_found(id: &str) -> Error {
    Error::not_found(format!(
        "Volume attachment could not be found with filter: attachment_id = {id}."
    ))
}

fn connection_info(svc: &VolumeService, a: &Attachment) -> Value {
    if a.connector.is_none() {
        return Value::Null;
    }
    let path = svc.backend().volume_path(&a.volume_id);
    json!({
        "driver_volume_type": "local",
        "data": {"device_path": path.to_string_lossy(), "format": "qcow2",
                 "volume_id": a.volume_id, "access_mode": a.mode},
        "attachment_id": a.id,
    })
}

fn summary(a: &Attachment) -> Value {
    json!({
        "id": a.id,
        "status": a.attach_status,
        "instance": a.server_id,
        "volume_id": a.volume_id,
    })
}

fn detail(svc: &VolumeService, a: &Attachment) -> Value {
    let mut m = summary(a);
    m["attached_at"] = a.attached_at.map(ts).unwrap_or_else(|| json!(""));
    m["detached_at"] = json!("");
    // no mode asked before 3.54: null (from 3.54 the literal "null" string)
    m["attach_mode"] = if a.mode.is_empty() {
        Value::Null
    } else {
        json!(a.mode)
    };
    m["connection_info"] = connection_info(svc, a);
    m
}

/// An attachment of a volume the caller may see (and the volume), or 404.
async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<(Attachment, Volume)> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    let Some(a) = store::get(svc.db(), id).await? else {
        return Err(not_found(id));
    };
    match volumes::get(svc.db(), &a.volume_id).await? {
        Some(v) if ctx.sees(&v.project_id) => Ok((a, v)),
        _ => Err(not_found(id)),
    }
}

fn attr<'a>(a: &'a Attachment, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&a.id)),
        "volume_id" => Attr::Str(Some(&a.volume_id)),
        "status" | "attach_status" => Attr::Str(Some(&a.attach_status)),
        "instance_id" | "instance_uuid" => Attr::Str(a.server_id.as_deref()),
        "attach_mode" => Attr::Str(Some(&a.mode)),
        "created_at" => Attr::Time(Some(a.created_at)),
        _ => Attr::Unknown,
    }
}

const SORT_KEYS: &[&str] = &["id", "created_at", "volume_id", "status", "instance_id"];

fn sort_value(a: &Attachment, key: &str) -> Value {
    match key {
        "id" => json!(a.id),
        "created_at" => json!(a.created_at),
        "volume_id" => json!(a.volume_id),
        "status" => json!(a.attach_status),
        "instance_id" => json!(a.server_id),
        _ => Value::Null,
    }
}

async fn listing(svc: &VolumeService, ctx: Ctx, full: bool) -> Result<Response> {
    ctx.require_version(27)?;
    let opts = list_opts(&ctx, SORT_KEYS)?;
    let all = ctx.all_tenants()?;
    let fs = filters::parse(
        &ctx,
        "attachment",
        &["volume_id", "status", "instance_id", "attach_status"],
        &[],
    )?;
    let scope = if all {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    let mine: std::collections::HashSet<String> = volumes::list(svc.db(), scope)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let list: Vec<Attachment> = store::all(svc.db())
        .await?
        .into_iter()
        .filter(|a| mine.contains(&a.volume_id))
        .collect();
    let list = filters::apply(list, &fs, false, attr)?;
    let (page, _more) = paginate(list, &opts, |a| a.id.as_str(), sort_value, "attachments")?;
    let items: Vec<Value> = page
        .iter()
        .map(|a| if full { detail(svc, a) } else { summary(a) })
        .collect();
    Ok(ok(json!({ "attachments": items })))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, false).await
}

pub async fn list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, ctx, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(27)?;
    let (a, _) = visible(&svc, &ctx, ctx.param("attachment_id")).await?;
    Ok(ok(json!({"attachment": detail(&svc, &a)})))
}

fn connector_field(obj: &Map<String, Value>, required: bool) -> Result<Option<Map<String, Value>>> {
    match obj.get("connector") {
        Some(Value::Object(m)) if !required || !m.is_empty() => Ok(Some(m.clone())),
        None | Some(Value::Null) if !required => Ok(None),
        Some(v) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute connector. Value: {v}. It must be a non-empty \
             object."
        ))),
        None => Err(Error::bad_request(
            "Invalid input for field/attribute attachment: 'connector' is a required property.",
        )),
    }
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(27)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "attachment", &[])?;
    let mut keys = vec!["instance_uuid", "connector", "volume_uuid"];
    if ctx.at(54) {
        keys.push("mode");
    }
    validate::no_extra(&obj, &keys, "attachment")?;
    let volume_id = validate::opt_uuid(&obj, "volume_uuid")?.ok_or_else(|| {
        Error::bad_request(
            "Invalid input for field/attribute attachment: 'volume_uuid' is a required property.",
        )
    })?;
    validate::not_null(&obj, "instance_uuid")?;
    let instance = validate::opt_uuid(&obj, "instance_uuid")?;
    let connector = connector_field(&obj, false)?;
    let mode = match obj.get("mode") {
        None if ctx.at(54) => Some("null".to_owned()),
        None => None,
        Some(Value::String(m)) if m == "rw" || m == "ro" => Some(m.clone()),
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute mode. Value: {v}. It is not one of ['rw', \
                 'ro']."
            )))
        }
    };
    let vol = visible_volume(&svc, &ctx, &volume_id).await?;
    let mut a = reserve(&svc, &vol, instance.as_deref(), mode).await?;
    if let Some(c) = connector {
        a = connect(&svc, &vol, a, c).await?;
    }
    Ok(ok(json!({"attachment": detail(&svc, &a)})))
}

/// Cinder's `_attachment_reserve`: the volume goes `reserved` (or stays as
/// it is when re-reserved for a server it is already attached to).
async fn reserve(
    svc: &VolumeService,
    vol: &Volume,
    instance: Option<&str>,
    mode: Option<String>,
) -> Result<Attachment> {
    let expected: &[&str] = if vol.multiattach {
        &["available", "in-use", "downloading"]
    } else {
        &["available", "downloading"]
    };
    let now = now_micros();
    let mut tx = svc.db().write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, expected, "reserved", now).await? {
        let same_server = instance.is_some()
            && matches!(vol.status.as_str(), "in-use" | "reserved")
            && store::of_volume(svc.db(), &vol.id)
                .await?
                .iter()
                .any(|a| a.server_id.as_deref() == instance);
        if !same_server {
            return Err(Error::bad_request(format!(
                "Invalid volume: Volume {} status must be {} to reserve, but the current status \
                 is {}.",
                vol.id,
                expected.join(" or "),
                vol.status
            )));
        }
    }
    let a = Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        server_id: instance.map(str::to_owned),
        host_name: None,
        device: None,
        attach_status: "reserved".into(),
        mode: mode.unwrap_or_default(),
        attached_at: None,
        created_at: now,
        connector: None,
    };
    store::insert(&mut tx, &a).await?;
    tx.commit().await?;
    Ok(a)
}

/// A connector arrives: the attachment and the volume go `attaching`.
async fn connect(
    svc: &VolumeService,
    vol: &Volume,
    mut a: Attachment,
    connector: Map<String, Value>,
) -> Result<Attachment> {
    let from_connector = connector.get("mode").and_then(Value::as_str);
    a.mode = match (a.mode.as_str(), from_connector) {
        ("rw" | "ro", _) => a.mode.clone(),
        (_, Some(m @ ("rw" | "ro"))) => m.to_owned(),
        _ if vol.readonly => "ro".into(),
        _ => "rw".into(),
    };
    if a.mode == "rw" && vol.readonly {
        return Err(Error::bad_request(format!(
            "Invalid volume: Volume {} is read-only; attach it in 'ro' mode.",
            vol.id
        )));
    }
    a.host_name = connector
        .get("host")
        .and_then(Value::as_str)
        .map(str::to_owned);
    a.device = connector
        .get("mountpoint")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if a.attach_status != "attached" {
        a.attach_status = "attaching".into();
    }
    a.connector = Some(connector);
    let now = now_micros();
    let mut tx = svc.db().write().begin().await?;
    store::update(&mut tx, &a).await?;
    volumes::transition(
        &mut tx,
        &vol.id,
        &["reserved", "available", "in-use"],
        "attaching",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(27)?;
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "attachment", &[])?;
    validate::no_extra(&obj, &["connector"], "attachment")?;
    let connector = connector_field(&obj, true)?.unwrap_or_default();
    let (a, vol) = visible(&svc, &ctx, ctx.param("attachment_id")).await?;
    let a = connect(&svc, &vol, a, connector).await?;
    Ok(ok(json!({"attachment": detail(&svc, &a)})))
}

/// `POST /attachments/{id}/action` `{"os-complete": …}` (3.44).
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(44)?;
    ctx.require_write()?;
    let obj = body.object()?;
    if !obj.contains_key("os-complete") {
        return Err(Error::bad_request(
            "Invalid input for field/attribute body: 'os-complete' is a required property.",
        ));
    }
    validate::no_extra(&obj, &["os-complete"], "body")?;
    let (mut a, vol) = visible(&svc, &ctx, ctx.param("attachment_id")).await?;
    let now = now_micros();
    a.attach_status = "attached".into();
    a.attached_at = Some(now);
    let mut tx = svc.db().write().begin().await?;
    store::update(&mut tx, &a).await?;
    volumes::set_status(&mut tx, &vol.id, "in-use", None, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(27)?;
    ctx.require_write()?;
    let (a, vol) = visible(&svc, &ctx, ctx.param("attachment_id")).await?;
    let db = svc.db();
    let mut tx = db.write().begin().await?;
    store::delete(&mut tx, &a.id).await?;
    tx.commit().await?;
    let left = store::of_volume(db, &vol.id).await?;
    let status = if left.iter().any(|x| x.attach_status == "attached") {
        "in-use"
    } else if left.is_empty() {
        "available"
    } else {
        "reserved"
    };
    let mut conn = db.write().acquire().await?;
    volumes::transition(
        &mut conn,
        &vol.id,
        &["reserved", "attaching", "in-use", "detaching"],
        status,
        now_micros(),
    )
    .await?;
    Ok(ok(json!({"attachments": []})))
}
