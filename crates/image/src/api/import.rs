//! `POST /v2/images/{id}/import`: start an interoperable import (202); the
//! work runs as an `api_image_import` task (see [`crate::import`]).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferro_api::request_id::RequestId;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Value};

use super::common::{load, Ctx};
use crate::error::{Error, Result};
use crate::import::{self, Method, LOCK, METHODS};
use crate::model::{Image, Object, Task};
use crate::store::images::{self, DataChange};
use crate::store::tasks;
use crate::{policy, ImageService};

pub async fn import(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    request_id: Option<Extension<RequestId>>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let req = body.object()?;
    let name = method_name(&req)?;
    let img = load(&svc, &ctx, &id).await?;
    check_status(&img, &name)?;
    if name == "copy-image" {
        policy::require_admin(&ctx, "copy image data between stores")?;
    } else {
        policy::require_modify(&ctx, &img)?;
    }
    check_lock(&svc, &img).await?;
    if req.get("all_stores_must_succeed") == Some(&Value::Bool(false)) {
        return Err(Error::bad_request(
            "'all_stores_must_succeed' may only be false where images are kept in several stores.",
        ));
    }
    let method = match name.as_str() {
        "glance-direct" => Method::GlanceDirect,
        "copy-image" => Method::CopyImage,
        _ => {
            let uri = req
                .get("method")
                .and_then(|m| m.get("uri"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !svc.import_allowed(uri) {
                return Err(Error::bad_request(format!(
                    "The URI to download from is not allowed at this site (http or https, allowed ports only): {uri}"
                )));
            }
            Method::WebDownload(uri.to_owned())
        }
    };
    let now = now_micros();
    let task = Task {
        id: uuid::Uuid::new_v4().to_string(),
        kind: "api_image_import".into(),
        status: "pending".into(),
        owner: ctx.project_id.clone(),
        image_id: Some(id.clone()),
        request_id: request_id.map(|Extension(r)| r.0),
        user_id: Some(ctx.user_id.clone()),
        input: json!({ "image_id": id, "import_req": req, "backend": [null] }),
        result: Value::Null,
        message: String::new(),
        expires_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut locked = img.clone();
    import::lock(&mut locked, &task.id);
    let running = method.running_status();
    if !images::set_state(
        svc.db(),
        &locked,
        &img.status,
        running,
        DataChange::Keep,
        now,
    )
    .await?
    {
        return Err(Error::conflict(format!(
            "Image {id} changed while its import was being started; try again."
        )));
    }
    if let Err(e) = tasks::insert(svc.db(), &task).await {
        // Give the image back as it was: no task will ever release it.
        let _ =
            images::set_state(svc.db(), &img, running, &img.status, DataChange::Keep, now).await;
        return Err(e.into());
    }
    tokio::spawn(import::run(svc.clone(), task, id, method));
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The import method named by the body (`{"method": {"name": ...}}`).
fn method_name(req: &Object) -> Result<String> {
    let method = req
        .get("method")
        .ok_or_else(|| Error::bad_request("The import request needs a 'method' field."))?;
    let Value::Object(method) = method else {
        return Err(Error::bad_request(
            "Provided object does not match schema: 'method' must be an object.",
        ));
    };
    let name = method
        .get("name")
        .ok_or_else(|| Error::bad_request("The import request needs a 'name' in its 'method'."))?;
    let name = name.as_str().unwrap_or_default();
    if !METHODS.contains(&name) {
        return Err(Error::bad_request(format!(
            "Unknown import method name '{name}': this site offers {}.",
            METHODS.join(", ")
        )));
    }
    for key in ["all_stores_must_succeed", "all_stores"] {
        if req.get(key).is_some_and(|v| !v.is_boolean()) {
            return Err(Error::bad_request(format!("'{key}' must be a boolean.")));
        }
    }
    Ok(name.to_owned())
}

/// The image must be in the status the method starts from (409 otherwise).
fn check_status(img: &Image, method: &str) -> Result<()> {
    let refuse = |msg: String| Err(Error::conflict(msg));
    match (img.status.as_str(), method) {
        ("active", "copy-image") => {}
        ("active", _) => {
            return refuse(format!(
                "Image {} is active: it cannot be the target of an import.",
                img.id
            ))
        }
        (_, "copy-image") => {
            return refuse(format!(
                "Only an active image can be copied; image {} is {}.",
                img.id, img.status
            ))
        }
        ("queued", "web-download") | ("uploading", "glance-direct") => {}
        (_, "web-download") => {
            return refuse(format!(
                "The '{method}' method needs an image in status queued; image {} is {}.",
                img.id, img.status
            ))
        }
        _ => {
            return refuse(format!(
                "Stage the data of image {} before importing it with 'glance-direct' (it is {}).",
                img.id, img.status
            ))
        }
    }
    if img.container_format.is_none() {
        return refuse("Set 'container_format' on the image before importing its data.".into());
    }
    if img.disk_format.is_none() {
        return refuse("Set 'disk_format' on the image before importing its data.".into());
    }
    Ok(())
}

/// 409 while another import task holds the image; a lock whose task has
/// ended (or is gone) is stale and may be taken over.
async fn check_lock(svc: &ImageService, img: &Image) -> Result<()> {
    let Some(task_id) = img.properties.get(LOCK).and_then(Value::as_str) else {
        return Ok(());
    };
    match tasks::get(svc.db(), task_id).await? {
        Some(task) if !task.finished() => Err(import::locked(&img.id, task_id)),
        _ => Ok(()),
    }
}
