//! Version discovery, unauthenticated.

use axum::response::Response;
use ferro_api::error::json_response;
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Value};

use crate::microversion::RANGE;

fn entry_v21(base: &BaseUrl) -> Value {
    json!({
        "id": "v2.1",
        "status": "CURRENT",
        "version": RANGE.max.to_string(),
        "min_version": RANGE.min.to_string(),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": base.join("/v2.1/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    })
}

fn entry_v2(base: &BaseUrl) -> Value {
    json!({
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": base.join("/v2/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}],
    })
}

pub async fn list(base: BaseUrl) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"versions": [entry_v2(&base), entry_v21(&base)]}),
    )
}

pub async fn v21(base: BaseUrl) -> Response {
    json_response(StatusCode::OK, &json!({"version": entry_v21(&base)}))
}

pub async fn v2(base: BaseUrl) -> Response {
    json_response(StatusCode::OK, &json!({"version": entry_v2(&base)}))
}
