//! `PUT /v2/images/{id}/stage`: data for a later `glance-direct` import,
//! streamed to the staging area; the image goes `queued → uploading` with
//! the staged size.

use axum::extract::{Path, Request, State};
use axum::response::Response;
use ferro_api::time::now_micros;

use super::common::{load_for_update, no_content, Ctx};
use super::data::check_content_type;
use crate::data::WriteError;
use crate::error::{Error, Result};
use crate::store::images::{self, DataChange};
use crate::ImageService;

pub async fn stage(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response> {
    let img = load_for_update(&svc, &ctx, &id).await?;
    check_content_type(req.headers())?;
    let refused = |status: &str| {
        Error::conflict(format!(
            "Image status transition from {status} to uploading is not allowed"
        ))
    };
    if img.status != "queued" {
        return Err(refused(&img.status));
    }
    if !images::transition(svc.db(), &id, "queued", "uploading", now_micros()).await? {
        return Err(refused("a status other than queued"));
    }
    // As for uploads: the work runs in its own task so that a client going
    // away cannot leave the image half recorded.
    let stream = req.into_body().into_data_stream();
    let task = tokio::spawn(async move {
        let staged = svc.data().stage(&id, stream).await;
        record(&svc, &id, staged).await
    });
    task.await
        .map_err(|e| Error::internal(format!("staging task failed: {e}")))??;
    Ok(no_content())
}

/// Record the staged size, or put the image back to `queued` on failure.
async fn record(
    svc: &ImageService,
    id: &str,
    staged: std::result::Result<i64, WriteError>,
) -> Result<()> {
    let now = now_micros();
    let current = images::get(svc.db(), id).await?;
    match (staged, current) {
        (Ok(size), Some(img)) => {
            if images::set_state(
                svc.db(),
                &img,
                "uploading",
                "uploading",
                DataChange::Staged(size),
                now,
            )
            .await?
            {
                return Ok(());
            }
            svc.data().remove_staged(id).await;
            Err(Error::conflict(format!(
                "Image {id} was deleted or changed while its data was being staged."
            )))
        }
        (Ok(_), None) => {
            svc.data().remove_staged(id).await;
            Err(Error::no_image(id))
        }
        (Err(e), current) => {
            svc.data().remove_staged(id).await;
            if let Some(img) = current {
                let _ = images::set_state(
                    svc.db(),
                    &img,
                    "uploading",
                    "queued",
                    DataChange::Clear,
                    now,
                )
                .await;
            }
            Err(match e {
                WriteError::Client(msg) => Error::bad_request(format!(
                    "Error reading the image data from the request: {msg}"
                )),
                WriteError::Io(err) => err.into(),
                WriteError::Rejected(msg) => Error::bad_request(msg),
            })
        }
    }
}
