//! `/v3/{project_id}/group_types` (3.11): group types and their group specs.
//! Admins create, change and delete; everyone lists and shows (specs are
//! shown to admins only). No default group type is configured.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted, accepted_empty, bool_value, list_opts, metadata_value, ok, paginate, parse_bool,
    Body, Ctx,
};
use super::validate;
use crate::error::{Error, Result};
use crate::store::groups::{self as store, GroupType};
use crate::VolumeService;

fn render(ctx: &Ctx, t: &GroupType) -> Value {
    let mut m = json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
    });
    if ctx.is_admin() {
        m["group_specs"] = Value::Object(t.group_specs.clone());
    }
    m
}

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Group type with id {id} could not be found."))
}

/// A group type by id or name, or 404.
pub async fn find(svc: &VolumeService, ctx: &Ctx, key: &str) -> Result<GroupType> {
    match store::get_type(svc.db(), key).await? {
        Some(t) if t.is_public || ctx.is_admin() => Ok(t),
        _ => Err(not_found(key)),
    }
}

fn sort_value(t: &GroupType, key: &str) -> Value {
    match key {
        "id" => json!(t.id),
        "name" => json!(t.name),
        "description" => json!(t.description),
        "is_public" => json!(t.is_public),
        _ => Value::Null,
    }
}

/// `is_public`: absent → public types, `None` → all (admins), else a bool.
fn public_filter(ctx: &Ctx) -> Result<Option<bool>> {
    let want = match ctx.q("is_public") {
        None => Some(true),
        Some(s) if s.eq_ignore_ascii_case("none") => None,
        Some(s) => Some(
            parse_bool(s)
                .ok_or_else(|| Error::bad_request(format!("Invalid is_public filter [{s}]")))?,
        ),
    };
    Ok(if ctx.is_admin() { want } else { Some(true) })
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    let opts = list_opts(
        &ctx,
        &["id", "name", "description", "is_public", "created_at"],
    )?;
    let want = public_filter(&ctx)?;
    let all: Vec<GroupType> = store::types(svc.db())
        .await?
        .into_iter()
        .filter(|t| want.is_none_or(|p| t.is_public == p))
        .collect();
    let (page, _more) = paginate(all, &opts, |t| t.id.as_str(), sort_value, "group_types")?;
    let list: Vec<Value> = page.iter().map(|t| render(&ctx, t)).collect();
    Ok(ok(json!({ "group_types": list })))
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    let id = ctx.param("group_type_id");
    if id == "default" {
        return Err(Error::not_found("Default group type can not be found."));
    }
    let t = find(&svc, &ctx, id).await?;
    Ok(ok(json!({"group_type": render(&ctx, &t)})))
}

fn type_name(obj: &Map<String, Value>, required: bool) -> Result<Option<String>> {
    let name = validate::name(obj, "name")?;
    match name {
        Some(n) if n.is_empty() && required => Err(Error::bad_request(
            "Invalid input for field/attribute name: it must not be empty.",
        )),
        None if required => Err(Error::bad_request(
            "Invalid input for field/attribute group_type: 'name' is a required property.",
        )),
        other => Ok(other),
    }
}

fn public_flag(obj: &Map<String, Value>) -> Result<Option<bool>> {
    validate::not_null(obj, "is_public")?;
    obj.get("is_public")
        .map(|v| bool_value(v, "is_public"))
        .transpose()
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let obj = validate::wrapped_only(&body, "group_type", &[])?;
    validate::no_extra(
        &obj,
        &["name", "description", "is_public", "group_specs"],
        "group_type",
    )?;
    let name = type_name(&obj, true)?.unwrap_or_default();
    let group_specs = match obj.get("group_specs") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => metadata_value(v, "group_specs")?,
    };
    if store::get_type(svc.db(), &name).await?.is_some() {
        return Err(Error::conflict(format!(
            "Group Type {name} already exists."
        )));
    }
    let t = GroupType {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        description: validate::name(&obj, "description")?,
        is_public: public_flag(&obj)?.unwrap_or(true),
        group_specs,
    };
    store::insert_type(svc.db(), &t, now_micros()).await?;
    Ok(accepted(json!({"group_type": render(&ctx, &t)})))
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let obj = validate::wrapped_only(&body, "group_type", &[])?;
    validate::no_extra(&obj, &["name", "description", "is_public"], "group_type")?;
    let mut t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    if obj.is_empty() {
        return Err(Error::bad_request(
            "Specify group type name, description or a combination thereof.",
        ));
    }
    if let Some(n) = type_name(&obj, false)? {
        if n.is_empty() {
            return Err(Error::bad_request("Group type name can not be empty."));
        }
        if n != t.name && store::get_type(svc.db(), &n).await?.is_some() {
            return Err(Error::conflict(format!("Group Type {n} already exists.")));
        }
        t.name = n;
    }
    if obj.contains_key("description") {
        t.description = validate::name(&obj, "description")?;
    }
    if let Some(p) = public_flag(&obj)? {
        t.is_public = p;
    }
    store::update_type(svc.db(), &t, now_micros()).await?;
    Ok(ok(json!({"group_type": render(&ctx, &t)})))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    let used = store::list(svc.db(), None)
        .await?
        .iter()
        .any(|g| g.group_type_id == t.id);
    if used {
        return Err(Error::bad_request(format!(
            "Group Type {} deletion is not allowed with groups present with the type.",
            t.id
        )));
    }
    store::delete_type(svc.db(), &t.id).await?;
    Ok(accepted_empty())
}

// -- group specs ------------------------------------------------------------

pub async fn specs_list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    Ok(ok(json!({"group_specs": t.group_specs})))
}

pub async fn specs_create(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let obj = body.object()?;
    validate::no_extra(&obj, &["group_specs"], "body")?;
    let specs = match obj.get("group_specs") {
        Some(v) => metadata_value(v, "group_specs")?,
        None => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute body: 'group_specs' is a required property.",
            ))
        }
    };
    let mut t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    t.group_specs.extend(specs.clone());
    store::update_type(svc.db(), &t, now_micros()).await?;
    Ok(accepted(json!({ "group_specs": specs })))
}

fn no_spec(t: &GroupType, key: &str) -> Error {
    Error::not_found(format!("Group Type {} has no specs with key {key}.", t.id))
}

pub async fn spec_show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    let key = ctx.param("key");
    match t.group_specs.get(key) {
        Some(v) => Ok(ok(json!({ key: v }))),
        None => Err(no_spec(&t, key)),
    }
}

pub async fn spec_put(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let specs = metadata_value(&Value::Object(body.object()?), "group_specs")?;
    let key = ctx.param("key").to_owned();
    if specs.len() != 1 {
        return Err(Error::bad_request("Request body contains too many items."));
    }
    let Some(v) = specs.get(&key).cloned() else {
        return Err(Error::bad_request("Request body and URI mismatch."));
    };
    let mut t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    t.group_specs.insert(key.clone(), v.clone());
    store::update_type(svc.db(), &t, now_micros()).await?;
    Ok(ok(json!({ key: v })))
}

pub async fn spec_delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_version(11)?;
    ctx.require_admin()?;
    let mut t = find(&svc, &ctx, ctx.param("group_type_id")).await?;
    let key = ctx.param("key");
    if t.group_specs.remove(key).is_none() {
        return Err(no_spec(&t, key));
    }
    store::update_type(svc.db(), &t, now_micros()).await?;
    Ok(accepted_empty())
}
