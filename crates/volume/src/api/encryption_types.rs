//! `/v3/{project_id}/types/{type_id}/encryption` (admin): a volume type's
//! encryption spec. Specs are stored and shown; volumes of an encrypted type
//! cannot be created here (there is no key manager), so they are refused.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, ok, opt_ts, ts, Body, Ctx};
use super::types::resolve_type;
use super::validate;
use crate::error::{Error, Result};
use crate::store::encryption::{self as store, Encryption};
use crate::store::volumes;
use crate::VolumeService;

const KEYS: &[&str] = &["provider", "cipher", "key_size", "control_location"];

fn fields(e: &Encryption) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("volume_type_id".into(), json!(e.volume_type_id));
    m.insert("encryption_id".into(), json!(e.encryption_id));
    m.insert("provider".into(), json!(e.provider));
    m.insert("cipher".into(), json!(e.cipher));
    m.insert("key_size".into(), json!(e.key_size));
    m.insert("control_location".into(), json!(e.control_location));
    m
}

async fn not_in_use(svc: &VolumeService, type_id: &str, what: &str) -> Result<()> {
    if volumes::count_of_type(svc.db(), type_id).await? > 0 {
        return Err(Error::bad_request(format!(
            "Cannot {what} encryption specs. Volume type in use."
        )));
    }
    Ok(())
}

/// Apply the body's fields to `e` (create: `provider` required).
fn apply(e: &mut Encryption, obj: &Map<String, Value>, create: bool) -> Result<()> {
    validate::no_extra(obj, KEYS, "encryption")?;
    match obj.get("provider") {
        Some(Value::String(p)) if !p.is_empty() && p.chars().count() <= 255 => {
            e.provider = p.clone()
        }
        None if !create => {}
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute provider: a provider is required.",
            ))
        }
    }
    if obj.contains_key("cipher") {
        e.cipher = validate::name(obj, "cipher")?;
    }
    match obj.get("key_size") {
        None => {}
        Some(Value::Null) => e.key_size = None,
        Some(v) => {
            let n = v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                Error::bad_request(format!(
                    "Invalid input for field/attribute key_size. Value: {v}. It must be a \
                     non-negative integer."
                ))
            })?;
            e.key_size = Some(n);
        }
    }
    match obj.get("control_location") {
        None => {}
        Some(Value::String(c)) if c == "front-end" || c == "back-end" => {
            e.control_location = c.clone()
        }
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute control_location. Value: {v}. It is not \
                 one of ['front-end', 'back-end']."
            )))
        }
    }
    Ok(())
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let Some(e) = store::get(svc.db(), &t.id).await? else {
        return Ok(ok(json!({})));
    };
    let mut m = fields(&e);
    m.insert("deleted".into(), json!(false));
    m.insert("created_at".into(), ts(e.created_at));
    m.insert("updated_at".into(), opt_ts(e.updated_at));
    m.insert("deleted_at".into(), Value::Null);
    Ok(ok(Value::Object(m)))
}

pub async fn show_item(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    // GET …/encryption/{key}: one field of the spec
    let key = ctx.param("encryption_id");
    let e = store::get(svc.db(), &t.id).await?;
    let value = e
        .as_ref()
        .map(fields)
        .and_then(|m| m.get(key).cloned())
        .filter(|v| !v.is_null());
    match value {
        Some(v) => Ok(ok(json!({ key: v }))),
        None => Err(Error::not_found(format!(
            "Volume type encryption for type {} does not exist.",
            t.id
        ))),
    }
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let obj = validate::wrapped_only(&body, "encryption", &[])?;
    if store::get(svc.db(), &t.id).await?.is_some() {
        return Err(Error::bad_request(format!(
            "Volume type encryption for type {} already exists.",
            t.id
        )));
    }
    not_in_use(&svc, &t.id, "create").await?;
    let mut e = Encryption {
        volume_type_id: t.id.clone(),
        encryption_id: uuid::Uuid::new_v4().to_string(),
        provider: String::new(),
        cipher: None,
        key_size: None,
        control_location: "front-end".into(),
        created_at: now_micros(),
        updated_at: None,
    };
    apply(&mut e, &obj, true)?;
    store::put(svc.db(), &e).await?;
    Ok(ok(json!({"encryption": fields(&e)})))
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let obj = validate::wrapped_only(&body, "encryption", &[])?;
    let missing = || {
        Error::not_found(format!(
            "Volume type encryption for type {} does not exist.",
            t.id
        ))
    };
    let mut e = store::get(svc.db(), &t.id).await?.ok_or_else(missing)?;
    if e.encryption_id != ctx.param("encryption_id") {
        return Err(missing());
    }
    not_in_use(&svc, &t.id, "update").await?;
    apply(&mut e, &obj, false)?;
    e.updated_at = Some(now_micros());
    store::put(svc.db(), &e).await?;
    let mut m = Map::new();
    for k in KEYS {
        if let Some(v) = obj.get(*k) {
            m.insert((*k).to_owned(), v.clone());
        }
    }
    Ok(ok(json!({ "encryption": m })))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let e = store::get(svc.db(), &t.id).await?;
    if e.as_ref().map(|e| e.encryption_id.as_str()) != Some(ctx.param("encryption_id")) {
        return Err(Error::not_found(format!(
            "Volume type encryption for type {} does not exist.",
            t.id
        )));
    }
    not_in_use(&svc, &t.id, "delete").await?;
    store::delete(svc.db(), &t.id).await?;
    Ok(accepted_empty())
}

/// Volume creation refuses encrypted types (no key manager here).
pub async fn refuse_encrypted(svc: &VolumeService, type_id: &str) -> Result<()> {
    if store::get(svc.db(), type_id).await?.is_some() {
        return Err(Error::bad_request(
            "Invalid input received: volumes of an encrypted volume type need a key manager, \
             which this deployment does not have.",
        ));
    }
    Ok(())
}
