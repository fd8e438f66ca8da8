//! `PATCH /v2/images/{id}`: JSON patch in Glance's two media types,
//! `application/openstack-images-v2.1-json-patch` (`{"op": "add", "path":
//! "/k", "value": v}`) and the older `…-v2.0-json-patch` (`{"add": "/k",
//! "value": v}`). All operations apply, or none.

use axum::extract::{Path, Request, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use http::{header, StatusCode};
use serde_json::Value;

use super::common::{json, load_for_update, Ctx};
use crate::error::{Error, Result};
use crate::model::{check_settable, remove_attr, set_attr, Image};
use crate::store::images;
use crate::ImageService;

/// Largest patch document accepted.
const MAX_PATCH_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    V20,
    V21,
}

pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response> {
    let flavor = media_type(req.headers().get(header::CONTENT_TYPE))?;
    let bytes = axum::body::to_bytes(req.into_body(), MAX_PATCH_BYTES)
        .await
        .map_err(|_| ferro_api::CommonError::PayloadTooLarge)?;
    let doc: Value = ferro_api::parse_json(&bytes)?;
    let Value::Array(ops) = doc else {
        return Err(Error::bad_request(
            "Request body must be a JSON array of operation objects.",
        ));
    };
    let mut img = load_for_update(&svc, &ctx, &id).await?;
    let before: std::collections::BTreeSet<String> = img.properties.keys().cloned().collect();
    for op in &ops {
        apply(&mut img, &ctx, op, flavor)?;
    }
    // As Glance: checked only when the patch adds a property.
    if img.properties.keys().any(|k| !before.contains(k)) {
        img.check_property_quota()?;
    }
    img.updated_at = now_micros();
    if !images::update(svc.db(), &img).await? {
        return Err(Error::no_image(&id));
    }
    let saved = images::get(svc.db(), &id)
        .await?
        .ok_or_else(|| Error::no_image(&id))?;
    Ok(json(StatusCode::OK, saved.to_json()))
}

fn media_type(ct: Option<&http::HeaderValue>) -> Result<Flavor> {
    let ct = ct.and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/openstack-images-v2.1-json-patch" => Ok(Flavor::V21),
        "application/openstack-images-v2.0-json-patch" => Ok(Flavor::V20),
        _ => Err(Error::unsupported(format!(
            "Unsupported Content-Type '{ct}': use application/openstack-images-v2.1-json-patch"
        ))),
    }
}

fn apply(img: &mut Image, ctx: &ferro_api::AuthContext, op: &Value, flavor: Flavor) -> Result<()> {
    let Value::Object(obj) = op else {
        return Err(Error::bad_request(
            "Each patch operation must be a JSON object.",
        ));
    };
    let (name, path) = match obj.get("op") {
        Some(Value::String(op)) => (op.as_str(), obj.get("path")),
        Some(_) => return Err(Error::bad_request("Operation 'op' must be a string.")),
        None => match ["add", "replace", "remove"]
            .iter()
            .find(|k| obj.contains_key(**k))
        {
            Some(k) => (*k, obj.get(*k)),
            None => return Err(Error::bad_request(
                "Unable to find 'op' in JSON Schema change: expected one of add, replace, remove.",
            )),
        },
    };
    let key = pointer(path)?;
    let value = obj.get("value");
    match name {
        "add" | "replace" => {
            let value = value.ok_or_else(|| {
                Error::bad_request(format!("Operation '{name}' requires a 'value'."))
            })?;
            check_settable(&key)?;
            if name == "replace" && !img.has_attr(&key) {
                return Err(Error::conflict(format!("Property {key} does not exist.")));
            }
            if name == "add" && flavor == Flavor::V20 && img.has_attr(&key) {
                return Err(Error::conflict(format!("Property {key} already present.")));
            }
            set_attr(img, ctx, &key, value)
        }
        "remove" => remove_attr(img, &key),
        other => Err(Error::bad_request(format!(
            "Invalid operation: '{other}'. Valid operations are add, replace, remove."
        ))),
    }
}

/// A one-level JSON pointer (`/name`, with `~1` and `~0` escapes).
fn pointer(path: Option<&Value>) -> Result<String> {
    let Some(Value::String(p)) = path else {
        return Err(Error::bad_request(
            "Each patch operation needs a 'path' string.",
        ));
    };
    let Some(rest) = p.strip_prefix('/') else {
        return Err(Error::bad_request(format!(
            "Pointer `{p}` does not start with \"/\"."
        )));
    };
    if rest.contains('/') {
        return Err(Error::bad_request(format!(
            "Nested paths are not allowed: '{p}'."
        )));
    }
    if rest.replace("~0", "").replace("~1", "").contains('~') {
        return Err(Error::bad_request(format!(
            "Pointer `{p}` contains '~' not part of a recognized escape sequence."
        )));
    }
    Ok(rest.replace("~1", "/").replace("~0", "~"))
}
