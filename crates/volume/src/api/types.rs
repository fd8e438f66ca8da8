//! `/v3/{project_id}/types`: volume types (a seeded `__DEFAULT__` one),
//! extra specs and private-type access.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use serde_json::{json, Map, Value};

use super::common::{
    accepted_empty, bool_value, list_opts, metadata_filter, ok, opt_string, paginate, parse_bool,
    valid_id, wrapped, Body, Ctx,
};
use crate::error::{Error, Result};
use crate::store::types::{self as store, VolumeType};
use crate::store::{volumes, DEFAULT_TYPE_ID};
use crate::VolumeService;

#[derive(PartialEq)]
enum Flavor {
    Show,
    Create,
    Update,
}

fn render(ctx: &Ctx, t: &VolumeType, flavor: Flavor) -> Value {
    let mut m = json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
    });
    if ctx.is_admin() {
        m["extra_specs"] = Value::Object(t.extra_specs.clone());
    }
    if flavor != Flavor::Update {
        m["os-volume-type-access:is_public"] = json!(t.is_public);
    }
    if flavor == Flavor::Show && ctx.is_admin() {
        m["qos_specs_id"] = Value::Null;
    }
    m
}

/// Whether the caller's project may use or see the type.
async fn can_use(svc: &VolumeService, ctx: &Ctx, t: &VolumeType) -> Result<bool> {
    if t.is_public || ctx.is_admin() {
        return Ok(true);
    }
    Ok(store::access_list(svc.db(), &t.id)
        .await?
        .contains(&ctx.project_id))
}

/// A type by id or name that the caller may use (404 otherwise);
/// `default` names the default type.
pub async fn resolve_type(svc: &VolumeService, ctx: &Ctx, key: &str) -> Result<VolumeType> {
    let db = svc.db();
    let key = if key == "default" {
        DEFAULT_TYPE_ID
    } else {
        key
    };
    let found = if valid_id(key) {
        match store::get(db, key).await? {
            Some(t) => Some(t),
            None => store::by_name(db, key).await?,
        }
    } else {
        None
    };
    match found {
        Some(t) if can_use(svc, ctx, &t).await? => Ok(t),
        _ => Err(Error::type_not_found(key)),
    }
}

/// The type a volume gets when none is asked: the project's own default
/// (3.62 `default-types`), else `__DEFAULT__`.
pub async fn default_type(svc: &VolumeService, ctx: &Ctx) -> Result<VolumeType> {
    let db = svc.db();
    if let Some(id) = store::project_default(db, &ctx.project_id).await? {
        if let Some(t) = store::get(db, &id).await? {
            return Ok(t);
        }
    }
    store::get(db, DEFAULT_TYPE_ID)
        .await?
        .ok_or_else(|| Error::type_not_found(DEFAULT_TYPE_ID))
}

fn sort_value(t: &VolumeType, key: &str) -> Value {
    match key {
        "id" => json!(t.id),
        "name" => json!(t.name),
        "description" => json!(t.description),
        "is_public" => json!(t.is_public),
        "created_at" => json!(t.created_at),
        "updated_at" => json!(t.updated_at),
        _ => Value::Null,
    }
}

/// Whether the query asks for paging or sorting.
pub(crate) fn paging_asked(ctx: &Ctx) -> bool {
    ["limit", "marker", "offset", "sort", "sort_key", "sort_dir"]
        .iter()
        .any(|k| ctx.q(k).is_some())
}

/// `limit`, `marker`, `offset` and sorting as Cinder's types list takes them.
pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let want_public = match ctx.q("is_public") {
        None => Some(true),
        Some(s) if s.eq_ignore_ascii_case("none") => None,
        Some(s) => Some(
            parse_bool(s)
                .ok_or_else(|| Error::bad_request(format!("Invalid is_public filter [{s}]")))?,
        ),
    };
    let want_public = if ctx.is_admin() {
        want_public
    } else {
        Some(true)
    };
    // 3.52: `extra_specs={"k": "v"}` keeps the types having all of them.
    let specs = match ctx.q("extra_specs") {
        Some(raw) if ctx.at(52) => Some(metadata_filter(raw)?),
        _ => None,
    };
    let paged = paging_asked(&ctx);
    let opts = list_opts(
        &ctx,
        &[
            "id",
            "name",
            "description",
            "is_public",
            "created_at",
            "updated_at",
        ],
    )?;
    let mine = store::accessible(svc.db(), &ctx.project_id).await?;
    let found: Vec<VolumeType> = store::list(svc.db())
        .await?
        .into_iter()
        .filter(|t| match want_public {
            None => true,
            Some(true) => t.is_public || mine.contains(&t.id),
            Some(false) => !t.is_public,
        })
        .filter(|t| {
            specs
                .as_ref()
                .is_none_or(|want| want.iter().all(|(k, v)| spec_matches(t, k, v)))
        })
        .collect();
    // without paging or sorting asked, by name as before
    let found = if paged {
        paginate(found, &opts, |t| t.id.as_str(), sort_value, "volume types")?.0
    } else {
        found
    };
    let list: Vec<Value> = found
        .iter()
        .map(|t| render(&ctx, t, Flavor::Show))
        .collect();
    Ok(ok(json!({ "volume_types": list })))
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let mut body = render(&ctx, &t, Flavor::Show);
    if ctx.is_admin() {
        body["qos_specs_id"] = json!(crate::store::qos::of_type(svc.db(), &t.id).await?);
    }
    Ok(ok(json!({ "volume_type": body })))
}

fn spec_matches(t: &VolumeType, key: &str, want: &Value) -> bool {
    let want = match want {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    t.extra_specs.get(key).and_then(Value::as_str) == Some(want.as_str())
}

fn specs_value(v: &Value) -> Result<Map<String, Value>> {
    let Value::Object(m) = v else {
        return Err(Error::bad_request(
            "Invalid input: 'extra_specs' must be an object.",
        ));
    };
    let mut out = Map::new();
    for (k, val) in m {
        if k.is_empty() || k.chars().count() > 255 {
            return Err(Error::bad_request(
                "Invalid input: extra spec keys must be 1 to 255 characters.",
            ));
        }
        let s = match val {
            Value::String(s) if s.chars().count() <= 255 => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input: the value of extra spec '{k}' must be a string of at most \
                     255 characters."
                )))
            }
        };
        out.insert(k.clone(), Value::String(s));
    }
    Ok(out)
}

fn is_public_field(obj: &Map<String, Value>) -> Result<Option<bool>> {
    for key in ["os-volume-type-access:is_public", "is_public"] {
        if let Some(v) = obj.get(key) {
            if !v.is_null() {
                return Ok(Some(bool_value(v, key)?));
            }
        }
    }
    Ok(None)
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let obj = wrapped(&body, "volume_type")?;
    let name = opt_string(&obj, "name", 255)?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::bad_request("Invalid input: 'name' is required and non-empty."))?;
    let extra_specs = match obj.get("extra_specs") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => specs_value(v)?,
    };
    let t = VolumeType {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.clone(),
        description: opt_string(&obj, "description", 255)?,
        is_public: is_public_field(&obj)?.unwrap_or(true),
        extra_specs,
        created_at: now_micros(),
        updated_at: None,
    };
    if store::by_name(svc.db(), &name).await?.is_some() {
        return Err(Error::conflict(format!(
            "Volume Type {name} already exists."
        )));
    }
    store::insert(svc.db(), &t).await?;
    Ok(ok(json!({"volume_type": render(&ctx, &t, Flavor::Create)})))
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let mut t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let obj = wrapped(&body, "volume_type")?;
    if obj.contains_key("name") {
        let name = opt_string(&obj, "name", 255)?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| Error::bad_request("Invalid input: 'name' must not be empty."))?;
        if name != t.name {
            if t.id == DEFAULT_TYPE_ID {
                return Err(Error::bad_request(
                    "The default volume type cannot be renamed.",
                ));
            }
            if store::by_name(svc.db(), &name).await?.is_some() {
                return Err(Error::conflict(format!(
                    "Volume Type {name} already exists."
                )));
            }
        }
        t.name = name;
    }
    if obj.contains_key("description") {
        t.description = opt_string(&obj, "description", 255)?;
    }
    if let Some(p) = is_public_field(&obj)? {
        t.is_public = p;
    }
    let now = now_micros();
    store::update(svc.db(), &t, now).await?;
    t.updated_at = Some(now);
    Ok(ok(json!({"volume_type": render(&ctx, &t, Flavor::Update)})))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    if t.id == DEFAULT_TYPE_ID {
        return Err(Error::bad_request(
            "Default volume type can not be deleted.",
        ));
    }
    if volumes::count_of_type(svc.db(), &t.id).await? > 0 {
        return Err(Error::bad_request(format!(
            "Target volume type {} is still in use.",
            t.id
        )));
    }
    store::delete(svc.db(), &t.id).await?;
    Ok(accepted_empty())
}

pub async fn specs_list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    Ok(ok(json!({"extra_specs": t.extra_specs})))
}

pub async fn specs_create(
    State(svc): State<VolumeService>,
    ctx: Ctx,
    body: Body,
) -> Result<Response> {
    ctx.require_admin()?;
    let mut t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let obj = body.object()?;
    let specs = specs_value(
        obj.get("extra_specs")
            .ok_or_else(|| Error::bad_request("Invalid input: 'extra_specs' is required."))?,
    )?;
    t.extra_specs.extend(specs.clone());
    store::update(svc.db(), &t, now_micros()).await?;
    Ok(ok(json!({ "extra_specs": specs })))
}

pub async fn spec_show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let key = ctx.param("key");
    match t.extra_specs.get(key) {
        Some(v) => Ok(ok(json!({ key: v }))),
        None => Err(Error::not_found(format!(
            "Volume Type {} has no extra specs with key {key}.",
            t.id
        ))),
    }
}

pub async fn spec_put(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let mut t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let specs = specs_value(&Value::Object(body.object()?))?;
    let key = ctx.param("key").to_owned();
    if specs.len() != 1 {
        return Err(Error::bad_request("Request body contains too many items."));
    }
    let Some(v) = specs.get(&key).cloned() else {
        return Err(Error::bad_request("Request body and URI mismatch."));
    };
    t.extra_specs.insert(key.clone(), v.clone());
    store::update(svc.db(), &t, now_micros()).await?;
    Ok(ok(json!({ key: v })))
}

pub async fn spec_delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let mut t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let key = ctx.param("key");
    if t.extra_specs.remove(key).is_none() {
        return Err(Error::not_found(format!(
            "Volume Type {} has no extra specs with key {key}.",
            t.id
        )));
    }
    store::update(svc.db(), &t, now_micros()).await?;
    Ok(accepted_empty())
}

/// `addProjectAccess` / `removeProjectAccess` (admin).
pub async fn action(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    let obj = body.object()?;
    let (name, args) = obj
        .into_iter()
        .next()
        .ok_or_else(|| Error::bad_request("Invalid request body: no action given."))?;
    let project = match &args {
        Value::Object(m) => opt_string(m, "project", 255)?,
        _ => None,
    }
    .ok_or_else(|| Error::bad_request("Invalid input: 'project' is required."))?;
    match name.as_str() {
        "addProjectAccess" => {
            if t.is_public {
                return Err(Error::bad_request(
                    "Invalid volume type: the type is public.",
                ));
            }
            if store::access_list(svc.db(), &t.id)
                .await?
                .contains(&project)
            {
                return Err(Error::conflict(format!(
                    "Volume type access for {} / {project} combination already exists.",
                    t.id
                )));
            }
            store::add_access(svc.db(), &t.id, &project).await?;
            Ok(accepted_empty())
        }
        "removeProjectAccess" => {
            if !store::remove_access(svc.db(), &t.id, &project).await? {
                return Err(Error::not_found(format!(
                    "Volume type access not found for {} / {project} combination.",
                    t.id
                )));
            }
            Ok(accepted_empty())
        }
        other => Err(Error::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

pub async fn access_list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let t = resolve_type(&svc, &ctx, ctx.param("type_id")).await?;
    if t.is_public {
        return Err(Error::not_found(
            "Access list not available for public volume types.",
        ));
    }
    let list: Vec<Value> = store::access_list(svc.db(), &t.id)
        .await?
        .into_iter()
        .map(|p| json!({"volume_type_id": t.id, "project_id": p}))
        .collect();
    Ok(ok(json!({ "volume_type_access": list })))
}
