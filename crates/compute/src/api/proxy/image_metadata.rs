//! `images/{id}/metadata` (until 2.39): an image's own properties through
//! Glance (JSON patch), as Nova's image-metadata proxy did.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::loopback::RestRequest;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::{call, enc, gone_from};
use crate::api::common::{no_content, ok, Body, Caller};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";

/// The image's properties (what Nova calls its metadata); 404 unknown.
async fn metadata(svc: &ComputeService, c: &Caller, id: &str) -> Result<Map<String, Value>> {
    let image = svc
        .peers()
        .image
        .get_image(c, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Image {id} could not be found.")))?;
    Ok(image.properties)
}

/// `{key: value}` of a body member: keys 1–255 characters, values strings
/// of at most 255.
fn items(body: &Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    let Some(Value::Object(m)) = body.get(key) else {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}. '{key}' is a required property of type object"
        )));
    };
    for (k, v) in m {
        if k.is_empty() || k.chars().count() > 255 {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute {key}. Keys must be 1 to 255 characters: {k:?}"
            )));
        }
        match v {
            Value::String(s) if s.chars().count() <= 255 => {}
            other => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {k}. Value: {other}. Expected a string of at most 255 characters"
                )))
            }
        }
    }
    Ok(m.clone())
}

/// Make the image's properties `want` (from `have`) with one JSON patch.
async fn apply(
    svc: &ComputeService,
    c: &Caller,
    id: &str,
    have: &Map<String, Value>,
    want: &Map<String, Value>,
) -> Result<()> {
    let limit = crate::quota::project_limits(svc, &crate::api::common::project_of(c)?)
        .await?
        .get("metadata_items");
    if limit >= 0 && want.len() as i64 > limit {
        return Err(Error::forbidden(
            "Quota exceeded for metadata_items: the image's metadata is over its limit",
        ));
    }
    let mut ops = Vec::new();
    for k in have.keys().filter(|k| !want.contains_key(*k)) {
        ops.push(json!({"op": "remove", "path": format!("/{}", pointer(k))}));
    }
    for (k, v) in want {
        match have.get(k) {
            Some(old) if old == v => {}
            Some(_) => {
                ops.push(json!({"op": "replace", "path": format!("/{}", pointer(k)), "value": v}))
            }
            None => ops.push(json!({"op": "add", "path": format!("/{}", pointer(k)), "value": v})),
        }
    }
    if ops.is_empty() {
        return Ok(());
    }
    let r = call(
        svc,
        c,
        RestRequest::new(Method::PATCH, format!("/image/v2/images/{}", enc(id)))
            .json(Value::Array(ops))
            .header("content-type", PATCH_TYPE),
    )
    .await?;
    match r.status {
        StatusCode::NOT_FOUND => Err(Error::not_found(format!("Image {id} could not be found."))),
        StatusCode::PAYLOAD_TOO_LARGE => Err(Error::forbidden(r.message())),
        _ => r.ok().map(|_| ()).map_err(Into::into),
    }
}

/// A key as a JSON pointer segment.
fn pointer(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// `(image id, key)` of `.../images/{id}/metadata/{key}` (the route may
/// carry a legacy project id first).
fn id_and_key(p: &[String]) -> (String, String) {
    let n = p.len();
    let at = |i: usize| p.get(i).cloned().unwrap_or_default();
    (at(n.wrapping_sub(2)), at(n.wrapping_sub(1)))
}

pub async fn list(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let id = crate::api::flavors::last(&p).to_owned();
    Ok(ok(json!({ "metadata": metadata(&svc, &c, &id).await? })))
}

/// `POST`: merge the given keys in.
pub async fn update(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let id = crate::api::flavors::last(&p).to_owned();
    let have = metadata(&svc, &c, &id).await?;
    let given = items(&body.object()?, "metadata")?;
    let mut want = have.clone();
    want.extend(given);
    apply(&svc, &c, &id, &have, &want).await?;
    Ok(ok(json!({ "metadata": metadata(&svc, &c, &id).await? })))
}

/// `PUT`: replace all of it.
pub async fn replace(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let id = crate::api::flavors::last(&p).to_owned();
    let have = metadata(&svc, &c, &id).await?;
    let want = items(&body.object()?, "metadata")?;
    apply(&svc, &c, &id, &have, &want).await?;
    Ok(ok(json!({ "metadata": metadata(&svc, &c, &id).await? })))
}

pub async fn show_item(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let (id, key) = id_and_key(&p);
    let have = metadata(&svc, &c, &id).await?;
    let value = have
        .get(&key)
        .ok_or_else(|| Error::not_found(format!("Image metadata {key} could not be found.")))?;
    Ok(ok(json!({ "meta": { key: value } })))
}

pub async fn set_item(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let (id, key) = id_and_key(&p);
    let meta = items(&body.object()?, "meta")?;
    if meta.len() > 1 {
        return Err(Error::bad_request("Request body contains too many items"));
    }
    let Some(value) = meta.get(&key) else {
        return Err(Error::bad_request("Request body and URI mismatch"));
    };
    let have = metadata(&svc, &c, &id).await?;
    let mut want = have.clone();
    want.insert(key.clone(), value.clone());
    apply(&svc, &c, &id, &have, &want).await?;
    Ok(ok(json!({ "meta": { key: value } })))
}

pub async fn delete_item(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    gone_from(v, 2, 39)?;
    let (id, key) = id_and_key(&p);
    let have = metadata(&svc, &c, &id).await?;
    if !have.contains_key(&key) {
        return Err(Error::not_found(format!(
            "Image metadata {key} could not be found."
        )));
    }
    let mut want = have.clone();
    want.remove(&key);
    apply(&svc, &c, &id, &have, &want).await?;
    Ok(no_content())
}
