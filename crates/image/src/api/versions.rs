//! Version discovery: `GET /`, `/versions` and `/v2` all answer 300 with
//! every supported v2.x, as Glance does.

use axum::response::{IntoResponse, Response};
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::json;

/// The newest version first; `CURRENT` then `SUPPORTED`, as upstream lists them.
const VERSIONS: &[&str] = &[
    "2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5",
    "2.4", "2.3", "2.2", "2.1", "2.0",
];

pub async fn versions(base: BaseUrl) -> Response {
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
    let body = json!({ "versions": list });
    let mut resp = axum::Json(body).into_response();
    *resp.status_mut() = StatusCode::MULTIPLE_CHOICES;
    resp
}
