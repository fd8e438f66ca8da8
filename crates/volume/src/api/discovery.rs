//! Version discovery (unauthenticated): `GET /` → 300 with the version list,
//! `GET /v3/` → 200 with the same list, as Cinder answers.

use axum::response::Response;
use ferro_api::error::json_response;
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Value};

use crate::microversion::RANGE;

fn v3_entry(base: &BaseUrl) -> Value {
    json!({
        "id": "v3.0",
        "status": "CURRENT",
        "version": RANGE.max.to_string(),
        "min_version": RANGE.min.to_string(),
        "updated": "2023-08-31T00:00:00Z",
        "links": [
            {"rel": "describedby", "type": "text/html",
             "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": base.join("/v3/")},
        ],
        "media-types": [{
            "base": "application/json",
            "type": "application/vnd.openstack.volume+json;version=3",
        }],
    })
}

pub async fn versions(base: BaseUrl) -> Response {
    json_response(
        StatusCode::MULTIPLE_CHOICES,
        &json!({"versions": [v3_entry(&base)]}),
    )
}

pub async fn v3(base: BaseUrl) -> Response {
    json_response(StatusCode::OK, &json!({"versions": [v3_entry(&base)]}))
}
