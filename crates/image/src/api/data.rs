//! Image data: `PUT /v2/images/{id}/file` streams the body to disk (never
//! whole in memory), `GET` streams it back with `Content-MD5` and `Range`.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use ferro_api::time::now_micros;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use super::common::{load, load_for_update, no_content, Ctx};
use crate::data::WriteError;
use crate::error::{Error, Result};
use crate::store::images;
use crate::ImageService;

/// `PUT /v2/images/{id}/file`: `queued → saving → active`.
pub async fn upload(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response> {
    let img = load_for_update(&svc, &ctx, &id).await?;
    check_content_type(req.headers())?;
    if img.status != "queued" {
        return Err(Error::conflict(format!(
            "Image status transition from {} to saving is not allowed",
            img.status
        )));
    }
    if img.disk_format.is_none() || img.container_format.is_none() {
        return Err(Error::bad_request(
            "Properties disk_format, container_format must be set prior to saving data.",
        ));
    }
    if !images::transition(svc.db(), &id, "queued", "saving", now_micros()).await? {
        return Err(Error::conflict(
            "Image status transition from queued to saving is not allowed: another upload is under way",
        ));
    }
    // The work runs in its own task so that a client going away mid-upload
    // cannot cancel it between writing and recording the outcome.
    let stream = req.into_body().into_data_stream();
    let disk_format = img.disk_format.clone();
    let task = tokio::spawn(async move {
        let mut written = svc.data().write(&id, stream).await;
        if written.is_ok() {
            if let Err(msg) = svc.inspect(&id, disk_format.as_deref()).await {
                svc.data().remove(&id).await;
                written = Err(WriteError::Rejected(msg));
            }
        }
        store_result(&svc, &id, written).await
    });
    task.await
        .map_err(|e| Error::internal(format!("upload task failed: {e}")))??;
    Ok(no_content())
}

/// Record the outcome of writing data for `id` (saving → active, or back
/// to queued on failure, as Glance v2 does).
pub(crate) async fn store_result(
    svc: &ImageService,
    id: &str,
    written: std::result::Result<images::Uploaded, WriteError>,
) -> Result<()> {
    match written {
        Ok(up) => {
            if images::finish_upload(svc.db(), id, &up, now_micros()).await? {
                Ok(())
            } else {
                svc.data().remove(id).await;
                Err(Error::conflict(format!(
                    "Image {id} was deleted or changed while its data was being uploaded."
                )))
            }
        }
        Err(e) => {
            let _ = images::transition(svc.db(), id, "saving", "queued", now_micros()).await;
            match e {
                WriteError::Client(msg) => Err(Error::bad_request(format!(
                    "Error reading the image data from the request: {msg}"
                ))),
                WriteError::Io(err) => Err(err.into()),
                WriteError::Rejected(msg) => Err(Error::bad_request(msg)),
            }
        }
    }
}

pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<()> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/octet-stream" || essence.is_empty() {
        Ok(())
    } else {
        Err(Error::unsupported(format!(
            "Content type '{ct}' is not supported for image data: use application/octet-stream"
        )))
    }
}

/// `GET /v2/images/{id}/file`: 204 when there is no data, 206 for a `Range`.
pub async fn download(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let img = load(&svc, &ctx, &id).await?;
    if img.status == "deactivated" && !ctx.is_admin() {
        return Err(Error::forbidden(
            "The requested image has been deactivated. Image data download is forbidden.",
        ));
    }
    let size = match (img.status.as_str(), img.size) {
        ("active" | "deactivated", Some(size)) => size,
        _ => return Ok(no_content()),
    };
    let total = u64::try_from(size).unwrap_or_default();
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => Some(parse_range(r, total).ok_or(Error::RangeNotSatisfiable(size))?),
        None => None,
    };
    let (start, len) = range.unwrap_or((0, total));
    let stream = svc.data().read(&id, start, len).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!("Image {id} has no data in the store"))
        } else {
            e.into()
        }
    })?;
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Some(md5) = img
        .checksum
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        h.insert("content-md5", md5);
    }
    if range.is_some() {
        let cr = format!("bytes {}-{}/{}", start, start + len - 1, total);
        if let Ok(v) = HeaderValue::from_str(&cr) {
            h.insert(header::CONTENT_RANGE, v);
        }
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(resp)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → (start, length); None when the
/// range is malformed, multiple, or outside the data.
fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    // Glance's integers have no upper bound: a position past 2^64 is
    // just past the end (clamped as any other), never malformed.
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(s.parse::<u64>().unwrap_or(u64::MAX))
    };
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n = num(b)?;
        if n == 0 {
            return None;
        }
        (total.saturating_sub(n), total - 1)
    } else {
        let start = num(a)?;
        let end = if b.is_empty() {
            total - 1
        } else {
            num(b)?.min(total - 1)
        };
        (start, end)
    };
    if start > end || start >= total {
        return None;
    }
    Some((start, end - start + 1))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=-5", 100), Some((95, 5)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 50)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(
            parse_range("bytes=0-99999999999999999999999", 100),
            Some((0, 100))
        );
        assert_eq!(
            parse_range("bytes=-99999999999999999999999", 100),
            Some((0, 100))
        );
        assert_eq!(parse_range("bytes=99999999999999999999999-", 100), None);
        assert_eq!(parse_range("bytes=+1-2", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
    }
}
