//! Discovery of what this site offers: `GET /v2/info/import` (the import
//! methods), `/v2/info/stores` (404: a single store, as Glance answers
//! without `enabled_backends`), `/v2/info/usage` (no quotas: empty).

use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::common::{json, Ctx};
use crate::error::{Error, Result};
use crate::import::METHODS;

/// `GET /v2/info/import`.
pub async fn import(_ctx: Ctx) -> Result<Response> {
    Ok(json(
        StatusCode::OK,
        json!({
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": METHODS,
            }
        }),
    ))
}

/// `GET /v2/info/stores` and `/v2/info/stores/detail`: this site has one
/// unnamed store, so, as Glance without multiple stores, there is no list.
pub async fn stores(_ctx: Ctx) -> Result<Response> {
    Err(Error::not_found(
        "Multi backend is not supported at this site: images are kept in a single store.",
    ))
}

/// `GET /v2/info/usage`: no quota is enforced, so no resource is counted
/// (Glance without `use_keystone_limits` answers the same empty map).
pub async fn usage(_ctx: Ctx) -> Result<Response> {
    Ok(json(StatusCode::OK, json!({ "usage": {} })))
}
