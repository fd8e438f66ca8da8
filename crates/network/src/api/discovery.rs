//! `GET /` (the version list) and `GET /v2.0` (the resource list).

use axum::Json;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

pub async fn versions(base: BaseUrl) -> Json<Value> {
    Json(json!({"versions": [{
        "id": "v2.0",
        "status": "CURRENT",
        "links": [{"href": base.join("/v2.0/"), "rel": "self"}],
    }]}))
}

const RESOURCES: &[(&str, &str)] = &[
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
    ("quota", "quotas"),
];

pub async fn resources(base: BaseUrl) -> Json<Value> {
    let list: Vec<Value> = RESOURCES
        .iter()
        .map(|(name, coll)| {
            json!({
                "name": name,
                "collection": coll,
                "links": [{"href": base.join(&format!("/v2.0/{coll}")), "rel": "self"}],
            })
        })
        .collect();
    Json(json!({"resources": list}))
}
