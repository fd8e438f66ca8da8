//! Tasks: `GET /v2/images/{id}/tasks` (Glance 2.12: the imports of an
//! image) and the task API `/v2/tasks` (admin only, as Glance's default
//! `tasks_api_access` policy; deprecated upstream in favour of import, kept
//! for its legacy `import` task type).

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferro_api::request_id::RequestId;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::common::{json, load, Ctx};
use crate::error::{Error, Result};
use crate::model::{set_attr, Image, Task};
use crate::store::tasks;
use crate::{import, policy, ImageService};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 1000;
const STATUSES: &[&str] = &["pending", "processing", "success", "failure"];
const TYPES: &[&str] = &["import", "api_image_import", "location_import"];

/// `GET /v2/images/{id}/tasks`: 404 for an image the caller cannot see.
pub async fn of_image(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    load(&svc, &ctx, &id).await?;
    let now = now_micros();
    let list: Vec<Value> = tasks::of_image(svc.db(), &id)
        .await?
        .iter()
        .filter(|t| t.expires_at.is_none_or(|at| at >= now))
        .map(Task::to_image_task_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "tasks": list })))
}

fn require_tasks_access(ctx: &Ctx) -> Result<()> {
    policy::require_admin(ctx, "use the tasks API")
}

/// `GET /v2/tasks/{id}`.
pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    require_tasks_access(&ctx)?;
    let missing = || Error::not_found(format!("Could not find task {id}"));
    // Task ids are UUIDs: anything else names no task (and is not looked up).
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(missing());
    }
    let task = tasks::get(svc.db(), &id).await?.ok_or_else(missing)?;
    Ok(json(StatusCode::OK, task.to_json()))
}

/// `GET /v2/tasks`: `type`/`status` filters, `sort_key`/`sort_dir`,
/// `limit` and `marker`, newest first by default.
pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    require_tasks_access(&ctx)?;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let sort_dir = get("sort_dir").unwrap_or("desc");
    if !matches!(sort_dir, "asc" | "desc") {
        return Err(Error::bad_request(format!(
            "Invalid sort direction: {sort_dir}"
        )));
    }
    let sort_key = get("sort_key").unwrap_or("created_at");
    if !matches!(
        sort_key,
        "created_at" | "updated_at" | "id" | "type" | "status"
    ) {
        return Err(Error::bad_request(format!("Invalid sort key: {sort_key}")));
    }
    let limit = match get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
            Ok(_) => return Err(Error::bad_request("limit param must be positive")),
            Err(_) => return Err(Error::bad_request("limit param must be an integer")),
        },
    };
    for (key, allowed) in [("status", STATUSES), ("type", TYPES)] {
        if let Some(v) = get(key) {
            if !allowed.contains(&v) {
                return Err(Error::bad_request(format!(
                    "Invalid {key} value: {v}. Valid values are: {}",
                    allowed.join(", ")
                )));
            }
        }
    }
    let now = now_micros();
    let mut all: Vec<Task> = tasks::all(svc.db())
        .await?
        .into_iter()
        .filter(|t| t.expires_at.is_none_or(|at| at >= now))
        .filter(|t| get("status").is_none_or(|s| t.status == s))
        .filter(|t| get("type").is_none_or(|s| t.kind == s))
        .collect();
    all.sort_by(|a, b| {
        let ord = match sort_key {
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "id" => a.id.cmp(&b.id),
            "type" => a.kind.cmp(&b.kind),
            "status" => a.status.cmp(&b.status),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then_with(|| a.id.cmp(&b.id));
        if sort_dir == "desc" {
            ord.reverse()
        } else {
            ord
        }
    });
    let start = match get("marker") {
        None => 0,
        Some(m) => {
            if uuid::Uuid::parse_str(m).is_err() {
                return Err(Error::bad_request("Invalid marker format"));
            }
            all.iter()
                .position(|t| t.id == m)
                .map(|i| i + 1)
                .ok_or_else(|| Error::bad_request(format!("Invalid marker: no task {m}")))?
        }
    };
    let page: Vec<&Task> = all.iter().skip(start).take(limit).collect();
    let mut body = json!({
        "tasks": page.iter().map(|t| t.to_stub_json()).collect::<Vec<_>>(),
        "first": "/v2/tasks",
        "schema": "/v2/schemas/tasks",
    });
    if limit > 0 && page.len() == limit {
        if let (Some(last), Value::Object(m)) = (page.last(), &mut body) {
            let mut query: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "marker")
                .cloned()
                .collect();
            query.push(("marker".into(), last.id.clone()));
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish();
            m.insert("next".into(), json!(format!("/v2/tasks?{q}")));
        }
    }
    Ok(json(StatusCode::OK, body))
}

/// `POST /v2/tasks`: the legacy `import` task (`input`: `import_from`, an
/// http(s) URL; `import_from_format`; `image_properties` for the image it
/// creates). 201 with the pending task; the work runs afterwards.
pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    request_id: Option<Extension<RequestId>>,
    body: JsonBody<Error>,
) -> Result<Response> {
    require_tasks_access(&ctx)?;
    let req = body.object()?;
    for key in ["type", "input"] {
        if !req.contains_key(key) {
            return Err(Error::bad_request(format!(
                "Input does not contain '{key}' field"
            )));
        }
    }
    for key in req.keys() {
        if !matches!(key.as_str(), "type" | "input") {
            return Err(Error::forbidden(format!("Attribute '{key}' is read-only.")));
        }
    }
    let kind = req.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind != "import" {
        return Err(Error::bad_request(format!(
            "Invalid type value: {kind}. Only tasks of type 'import' can be created."
        )));
    }
    let Some(Value::Object(input)) = req.get("input") else {
        return Err(Error::bad_request(
            "Provided object does not match schema 'task': input must be an object",
        ));
    };
    let uri = input
        .get("import_from")
        .and_then(Value::as_str)
        .unwrap_or_default();
    check_import_from(&svc, uri)?;
    let image = image_for(&ctx, input.get("image_properties"))?;
    let now = now_micros();
    let task = Task {
        id: uuid::Uuid::new_v4().to_string(),
        kind: "import".into(),
        status: "pending".into(),
        owner: ctx.project_id.clone(),
        image_id: None,
        request_id: request_id.map(|Extension(r)| r.0),
        user_id: Some(ctx.user_id.clone()),
        input: Value::Object(input.clone()),
        result: Value::Null,
        message: String::new(),
        expires_at: None,
        created_at: now,
        updated_at: now,
    };
    tasks::insert(svc.db(), &task).await?;
    tokio::spawn(import::run_legacy(
        svc.clone(),
        task.clone(),
        image,
        uri.to_owned(),
    ));
    let mut resp = json(StatusCode::CREATED, task.to_json()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v2/tasks/{}", task.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `import_from` must be an http(s) URL passing the import filter.
fn check_import_from(svc: &ImageService, uri: &str) -> Result<()> {
    if uri.starts_with("file://") || uri.starts_with("filesystem://") {
        return Err(Error::bad_request(
            "Importing from a local file is not allowed: give an http or https URL.",
        ));
    }
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err(Error::bad_request(format!(
            "Invalid import_from '{uri}': give an http or https URL."
        )));
    }
    if !svc.import_allowed(uri) {
        return Err(Error::bad_request(format!(
            "The URI to import from is not allowed at this site (allowed ports only): {uri}"
        )));
    }
    Ok(())
}

/// The image the task will create, from `image_properties` (validated now,
/// with the caller's rights, as an image create would).
fn image_for(ctx: &Ctx, props: Option<&Value>) -> Result<Image> {
    let now = now_micros();
    let mut img = Image {
        id: uuid::Uuid::new_v4().to_string(),
        status: "queued".into(),
        visibility: "shared".into(),
        owner: ctx.project_id.clone(),
        created_at: now,
        updated_at: now,
        ..Image::default()
    };
    match props {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                set_attr(&mut img, ctx, key, value)?;
            }
        }
        Some(_) => {
            return Err(Error::bad_request(
                "Provided object does not match schema 'task': image_properties must be an object",
            ))
        }
    }
    img.check_property_quota()?;
    Ok(img)
}
