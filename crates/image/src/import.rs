//! The interoperable image import, run as a task after `POST
//! /v2/images/{id}/import` answered 202: `glance-direct` moves staged data
//! into the store, `web-download` fetches a URL first, `copy-image` copies
//! data between stores (with one store there is nowhere to copy to, so it
//! fails as single-store Glance's does). While a task runs the image holds
//! its id in `os_glance_import_task` (the import lock) and lists the stores
//! being written in `os_glance_importing_to_stores`; stores that failed go
//! to `os_glance_failed_import`. With a single, unnamed store both lists
//! are always empty strings, as in Glance.

use ferro_api::time::now_micros;
use serde_json::{json, Value};

use crate::data::WriteError;
use crate::error::{Error, Result};
use crate::model::{Image, Task};
use crate::store::images::{self, DataChange, Uploaded};
use crate::store::tasks;
use crate::task::TIME_TO_LIVE;
use crate::{fetch, ImageService};

pub const LOCK: &str = "os_glance_import_task";
pub const IMPORTING: &str = "os_glance_importing_to_stores";
pub const FAILED: &str = "os_glance_failed_import";
const STAGE_HOST: &str = "os_glance_stage_host";

/// The import methods this site offers, in Glance's default order.
pub const METHODS: &[&str] = &["glance-direct", "web-download", "copy-image"];

/// Where an import takes its data from.
#[derive(Clone, Debug)]
pub enum Method {
    GlanceDirect,
    WebDownload(String),
    CopyImage,
}

impl Method {
    /// The status the image is in while the task runs.
    pub fn running_status(&self) -> &'static str {
        match self {
            Method::CopyImage => "active",
            _ => "importing",
        }
    }
}

/// Mark the image as importing under `task` (the lock and the store lists).
pub fn lock(img: &mut Image, task_id: &str) {
    let p = &mut img.properties;
    p.insert(LOCK.into(), json!(task_id));
    p.insert(IMPORTING.into(), json!(""));
    p.insert(FAILED.into(), json!(""));
    p.remove(STAGE_HOST);
}

/// Run the import `task` for `image_id` to its end (success or failure).
pub async fn run(svc: ImageService, mut task: Task, image_id: String, method: Method) {
    task.status = "processing".into();
    task.updated_at = now_micros();
    if let Err(e) = tasks::save_status(svc.db(), &task).await {
        tracing::warn!(task = %task.id, error = %e, "could not record the task as processing");
    }
    let outcome = match fill(&svc, &image_id, &method).await {
        Ok(up) => finish(&svc, &image_id, &task.id, &up).await,
        Err(msg) => Err(msg),
    };
    if let Err(msg) = &outcome {
        tracing::info!(image = %image_id, task = %task.id, error = %msg, "image import failed");
        revert(&svc, &image_id, &task.id, &method).await;
    }
    let now = now_micros();
    match outcome {
        Ok(()) => {
            task.status = "success".into();
            task.result = json!({ "image_id": image_id });
        }
        Err(msg) => {
            task.status = "failure".into();
            task.message = msg;
        }
    }
    task.updated_at = now;
    task.expires_at = Some(now + TIME_TO_LIVE);
    if let Err(e) = tasks::save_status(svc.db(), &task).await {
        tracing::error!(task = %task.id, error = %e, "could not record the end of a task");
    }
}

/// Put the image's data in the store (under the image's final name).
async fn fill(
    svc: &ImageService,
    id: &str,
    method: &Method,
) -> std::result::Result<Uploaded, String> {
    match method {
        Method::GlanceDirect => {}
        Method::WebDownload(uri) => {
            let body = fetch::get(uri).await?;
            svc.data()
                .stage(id, body)
                .await
                .map_err(|e| write_message(&e))?;
        }
        Method::CopyImage => {
            return Err(format!(
                "Image {id} already has its data in this site's only store: \
                 there is no other store to copy it to."
            ))
        }
    }
    let up = svc
        .data()
        .import_staged(id)
        .await
        .map_err(|e| write_message(&e))?;
    Ok(up)
}

fn write_message(e: &WriteError) -> String {
    match e {
        WriteError::Client(m) => format!("Error reading the image data: {m}"),
        WriteError::Io(e) => format!("Error writing the image data: {e}"),
        WriteError::Rejected(m) => m.clone(),
    }
}

/// `importing → active` with the data's size and hashes; the lock dropped.
async fn finish(
    svc: &ImageService,
    id: &str,
    task_id: &str,
    up: &Uploaded,
) -> std::result::Result<(), String> {
    let gone = || format!("Image {id} was deleted or changed while it was being imported.");
    let mut img = match images::get(svc.db(), id).await {
        Ok(Some(img)) if holds_lock(&img, task_id) => img,
        Ok(_) => {
            svc.data().remove(id).await;
            return Err(gone());
        }
        Err(e) => {
            svc.data().remove(id).await;
            return Err(e.to_string());
        }
    };
    if let Err(msg) = svc.inspect(id, img.disk_format.as_deref()).await {
        svc.data().remove(id).await;
        return Err(msg);
    }
    img.properties.remove(LOCK);
    img.properties.insert(IMPORTING.into(), json!(""));
    let saved = images::set_state(
        svc.db(),
        &img,
        "importing",
        "active",
        DataChange::Stored(up),
        now_micros(),
    )
    .await;
    match saved {
        Ok(true) => Ok(()),
        Ok(false) => {
            svc.data().remove(id).await;
            Err(gone())
        }
        Err(e) => {
            svc.data().remove(id).await;
            Err(e.to_string())
        }
    }
}

fn holds_lock(img: &Image, task_id: &str) -> bool {
    img.properties.get(LOCK).and_then(Value::as_str) == Some(task_id)
}

/// After a failure: the lock dropped, the image back to `queued` (not for
/// copy-image, whose image stays active), staged data removed.
async fn revert(svc: &ImageService, id: &str, task_id: &str, method: &Method) {
    svc.data().remove_staged(id).await;
    let Ok(Some(mut img)) = images::get(svc.db(), id).await else {
        return;
    };
    if !holds_lock(&img, task_id) {
        return;
    }
    img.properties.remove(LOCK);
    img.properties.insert(IMPORTING.into(), json!(""));
    let (from, to, data) = match method {
        Method::CopyImage => ("active", "active", DataChange::Keep),
        _ => ("importing", "queued", DataChange::Clear),
    };
    if let Err(e) = images::set_state(svc.db(), &img, from, to, data, now_micros()).await {
        tracing::error!(image = id, error = %e, "could not revert a failed import");
    }
}

/// At start: imports a crash interrupted go back as a failed import would
/// (`importing → queued`; copied active images lose their lock), and images
/// left `uploading` without staged data (a stage cut short) are `queued`.
pub async fn recover(svc: &ImageService) -> Result<u64> {
    let mut count = 0;
    for id in images::ids_locked(svc.db()).await? {
        let Some(mut img) = images::get(svc.db(), &id).await? else {
            continue;
        };
        let status = img.status.clone();
        img.properties.remove(LOCK);
        img.properties.insert(IMPORTING.into(), json!(""));
        let (to, data) = match status.as_str() {
            "importing" => ("queued", DataChange::Clear),
            _ => (status.as_str(), DataChange::Keep),
        };
        if images::set_state(svc.db(), &img, &status, to, data, now_micros()).await? {
            if status == "importing" {
                svc.data().remove_staged(&id).await;
            }
            count += 1;
        }
    }
    for id in images::ids_in_status(svc.db(), "uploading").await? {
        if svc.data().staged_path(&id).exists() {
            continue;
        }
        if let Some(img) = images::get(svc.db(), &id).await? {
            if images::set_state(
                svc.db(),
                &img,
                "uploading",
                "queued",
                DataChange::Clear,
                now_micros(),
            )
            .await?
            {
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Error for an import the image's lock refuses.
pub fn locked(id: &str, task_id: &str) -> Error {
    Error::conflict(format!(
        "Image {id} is being imported by task {task_id}: wait for it to end before starting another import."
    ))
}

/// The legacy `import` task: download `uri` into a new image made from
/// the task's `image_properties`; on failure no image is left behind.
pub async fn run_legacy(svc: ImageService, mut task: Task, img: Image, uri: String) {
    task.status = "processing".into();
    task.updated_at = now_micros();
    if let Err(e) = tasks::save_status(svc.db(), &task).await {
        tracing::warn!(task = %task.id, error = %e, "could not record the task as processing");
    }
    let outcome = legacy_fill(&svc, &img, &uri).await;
    let now = now_micros();
    match outcome {
        Ok(()) => {
            task.status = "success".into();
            task.result = json!({ "image_id": img.id });
        }
        Err(msg) => {
            tracing::info!(task = %task.id, error = %msg, "legacy import task failed");
            task.status = "failure".into();
            task.message = msg;
        }
    }
    task.updated_at = now;
    task.expires_at = Some(now + TIME_TO_LIVE);
    if let Err(e) = tasks::save_status(svc.db(), &task).await {
        tracing::error!(task = %task.id, error = %e, "could not record the end of a task");
    }
}

async fn legacy_fill(
    svc: &ImageService,
    img: &Image,
    uri: &str,
) -> std::result::Result<(), String> {
    let body = fetch::get(uri).await?;
    images::insert(svc.db(), img)
        .await
        .map_err(|e| e.to_string())?;
    let id = img.id.as_str();
    let result = async {
        if !images::transition(svc.db(), id, "queued", "saving", now_micros())
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(format!("Image {id} was deleted before its data arrived."));
        }
        let up = svc
            .data()
            .write(id, body)
            .await
            .map_err(|e| write_message(&e))?;
        svc.inspect(id, img.disk_format.as_deref()).await?;
        if images::finish_upload(svc.db(), id, &up, now_micros())
            .await
            .map_err(|e| e.to_string())?
        {
            Ok(())
        } else {
            Err(format!(
                "Image {id} was deleted while its data was being imported."
            ))
        }
    }
    .await;
    if result.is_err() {
        let _ = images::delete(svc.db(), id).await;
        svc.data().remove(id).await;
    }
    result
}
