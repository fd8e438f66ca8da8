//! Version discovery: `GET /` (300, the list), `GET /v3`, `GET /v2.0`.
//! Unauthenticated, as keystoneauth expects.

use axum::response::Response;
use ferro_api::error::json_response;
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Value};

fn v3_entry(base: &BaseUrl) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": base.join("/v3/")}],
        "media-types": [{
            "base": "application/json",
            "type": "application/vnd.openstack.identity-v3+json",
        }],
    })
}

fn v2_entry(base: &BaseUrl) -> Value {
    json!({
        "id": "v2.0",
        "status": "deprecated",
        "updated": "2016-08-04T00:00:00Z",
        "links": [
            {"rel": "self", "href": base.join("/v2.0/")},
            {"rel": "describedby", "type": "text/html",
             "href": "https://docs.openstack.org/"},
        ],
        "media-types": [{
            "base": "application/json",
            "type": "application/vnd.openstack.identity-v2.0+json",
        }],
    })
}

pub async fn versions(base: BaseUrl) -> Response {
    let body = json!({"versions": {"values": [v3_entry(&base), v2_entry(&base)]}});
    json_response(StatusCode::MULTIPLE_CHOICES, &body)
}

pub async fn v3(base: BaseUrl) -> Response {
    json_response(StatusCode::OK, &json!({"version": v3_entry(&base)}))
}

pub async fn v2(base: BaseUrl) -> Response {
    json_response(StatusCode::OK, &json!({"version": v2_entry(&base)}))
}
