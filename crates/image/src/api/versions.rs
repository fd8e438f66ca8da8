//! Version discovery, as Glance answers it: `GET /` and `/v2` negotiate
//! (300 Multiple Choices), `GET /versions` asks for the list explicitly
//! (200 OK); the body is the same, every supported v2.x.

use axum::response::{IntoResponse, Response};
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Value};

/// The newest version first; `CURRENT` then `SUPPORTED`, as upstream lists them.
const VERSIONS: &[&str] = &[
    "2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5",
    "2.4", "2.3", "2.2", "2.1", "2.0",
];

/// `GET /` and `GET /v2`: 300 with the version list.
pub async fn versions(base: BaseUrl) -> Response {
    (StatusCode::MULTIPLE_CHOICES, axum::Json(body(&base))).into_response()
}

/// `GET /versions`: 200 with the same list (glanceclient's discovery, when
/// no API version is given, expects 200 here).
pub async fn explicit(base: BaseUrl) -> Response {
    (StatusCode::OK, axum::Json(body(&base))).into_response()
}

fn body(base: &BaseUrl) -> Value {
    let href = base.join("/v2/");
    let list: Vec<_> = VERSIONS
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "id": format!("v{v}"),
                "status": if i == 0 { "CURRENT" } else { "SUPPORTED" },
                "links": [{"rel": "self", "href": href}],
            })
        })
        .collect();
    json!({ "versions": list })
}
