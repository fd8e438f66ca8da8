//! `/v3/{project_id}/qos-specs` (admin): QoS specs (`consumer` front-end,
//! back-end or both; every other key is a spec) and their associations with
//! volume types. Stored and shown; the local backend applies no limits.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted_empty, collection, list_opts, metadata_value, ok, paginate, parse_bool, valid_id,
    Body, Ctx,
};
use super::types::resolve_type;
use super::validate;
use crate::error::{Error, Result};
use crate::store::qos::{self as store, QosSpec};
use crate::store::types;
use crate::VolumeService;

const CONSUMERS: &[&str] = &["front-end", "back-end", "both"];

fn view(q: &QosSpec) -> Value {
    json!({"id": q.id, "name": q.name, "consumer": q.consumer, "specs": q.specs})
}

async fn find(svc: &VolumeService, ctx: &Ctx) -> Result<QosSpec> {
    ctx.require_admin()?;
    let id = ctx.param("qos_id");
    let missing = || Error::not_found(format!("QoS Specs {id} could not be found."));
    if !valid_id(id) {
        return Err(missing());
    }
    store::get(svc.db(), id).await?.ok_or_else(missing)
}

fn sort_value(q: &QosSpec, key: &str) -> Value {
    match key {
        "id" => json!(q.id),
        "name" => json!(q.name),
        "consumer" => json!(q.consumer),
        "created_at" => json!(q.created_at),
        _ => Value::Null,
    }
}

/// With `limit`, `marker`, `offset` or sorting asked, a page as Cinder
/// gives it (`qos_specs_links` when full); else all, by name.
pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let opts = list_opts(&ctx, &["id", "name", "consumer", "created_at"])?;
    let all = store::list(svc.db()).await?;
    if !super::types::paging_asked(&ctx) {
        let all: Vec<Value> = all.iter().map(view).collect();
        return Ok(ok(json!({ "qos_specs": all })));
    }
    let (page, more) = paginate(all, &opts, |q| q.id.as_str(), sort_value, "qos specs")?;
    Ok(collection(
        &ctx,
        "qos_specs",
        "qos-specs",
        &page,
        more,
        |q| q.id.as_str(),
        view,
    ))
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    Ok(ok(
        json!({"qos_specs": view(&q), "links": ctx.links("qos-specs", &q.id)}),
    ))
}

fn spec_values(obj: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for (k, v) in obj {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {k}: a spec value must be a string."
                )))
            }
        };
        m.insert(k.clone(), Value::String(s));
    }
    metadata_value(&Value::Object(m), "qos_specs")
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let mut obj = validate::wrapped_only(&body, "qos_specs", &[])?;
    let name = match obj.remove("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 255 => n,
        _ => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute name: a QoS spec name is required.",
            ))
        }
    };
    let consumer = match obj.remove("consumer") {
        None => "back-end".to_owned(),
        Some(Value::String(c)) if CONSUMERS.contains(&c.as_str()) => c,
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute consumer. Value: {v}. Valid consumer of QoS \
                 specs are: front-end, back-end, both."
            )))
        }
    };
    if store::by_name(svc.db(), &name).await?.is_some() {
        return Err(Error::conflict(format!("QoS Specs {name} already exists.")));
    }
    let q = QosSpec {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        consumer,
        specs: spec_values(&obj)?,
        created_at: now_micros(),
    };
    store::insert(svc.db(), &q).await?;
    Ok(ok(
        json!({"qos_specs": view(&q), "links": ctx.links("qos-specs", &q.id)}),
    ))
}

pub async fn set_keys(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    let mut q = find(&svc, &ctx).await?;
    let obj = validate::wrapped_only(&body, "qos_specs", &[])?;
    let new = spec_values(&obj)?;
    q.specs.extend(new.clone());
    store::set_specs(svc.db(), &q.id, &q.specs).await?;
    Ok(ok(json!({ "qos_specs": new })))
}

pub async fn delete_keys(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    let mut q = find(&svc, &ctx).await?;
    let obj = body.object()?;
    validate::no_extra(&obj, &["keys"], "body")?;
    let Some(Value::Array(keys)) = obj.get("keys") else {
        return Err(Error::bad_request(
            "Invalid input for field/attribute keys: a list of keys is required.",
        ));
    };
    for k in keys {
        let Value::String(k) = k else {
            return Err(Error::bad_request(
                "Invalid input for field/attribute keys: keys must be strings.",
            ));
        };
        if q.specs.remove(k).is_none() {
            return Err(Error::not_found(format!(
                "QoS spec {} has no key {k}.",
                q.id
            )));
        }
    }
    store::set_specs(svc.db(), &q.id, &q.specs).await?;
    Ok(accepted_empty())
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    let force = ctx.q("force").and_then(parse_bool).unwrap_or(false);
    if !force && !store::associations(svc.db(), &q.id).await?.is_empty() {
        return Err(Error::bad_request(format!(
            "QoS Specs {} is still associated with entities.",
            q.id
        )));
    }
    store::delete(svc.db(), &q.id).await?;
    Ok(accepted_empty())
}

pub async fn associations(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    let mut out = Vec::new();
    for tid in store::associations(svc.db(), &q.id).await? {
        if let Some(t) = types::get(svc.db(), &tid).await? {
            out.push(json!({"association_type": "volume_type", "id": t.id, "name": t.name}));
        }
    }
    Ok(ok(json!({ "qos_associations": out })))
}

async fn type_arg(svc: &VolumeService, ctx: &Ctx) -> Result<String> {
    let Some(t) = ctx.q("vol_type_id") else {
        return Err(Error::bad_request("Volume Type id must not be None."));
    };
    Ok(resolve_type(svc, ctx, t).await?.id)
}

pub async fn associate(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    let tid = type_arg(&svc, &ctx).await?;
    match store::of_type(svc.db(), &tid).await? {
        Some(existing) if existing == q.id => {}
        Some(existing) => {
            return Err(Error::bad_request(format!(
                "Type {tid} is already associated with another qos specs: {existing}"
            )))
        }
        None => store::associate(svc.db(), &q.id, &tid).await?,
    }
    Ok(accepted_empty())
}

pub async fn disassociate(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    let tid = type_arg(&svc, &ctx).await?;
    store::disassociate(svc.db(), &q.id, Some(&tid)).await?;
    Ok(accepted_empty())
}

pub async fn disassociate_all(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let q = find(&svc, &ctx).await?;
    store::disassociate(svc.db(), &q.id, None).await?;
    Ok(accepted_empty())
}
