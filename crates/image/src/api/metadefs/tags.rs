//! `/v2/metadefs/namespaces/{namespace}/tags[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::items::Kind;
use super::{conflict_or, load_for_change};
use crate::api::common::{json, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, Item, TAG};
use crate::store::metadefs;
use crate::ImageService;

const TAGS: Kind = Kind {
    key: TAG,
    plural: "tags",
    max_name: 255,
};

fn tag(name: String, now: i64) -> Item {
    Item {
        name,
        body: json!({}),
        created_at: now,
        updated_at: now,
    }
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let tags: Vec<Value> = TAGS
        .list(&svc, &ctx, &namespace)
        .await?
        .iter()
        .map(Item::tag_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "tags": tags })))
}

/// `POST …/tags` `{"tags": [{"name"}...]}`: replaces the namespace's tags
/// (adds to them with `X-Openstack-Append: True`).
pub async fn create_many(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
    headers: HeaderMap,
    body: JsonBody<Error>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    let body = body.object()?;
    let Some(Value::Array(list)) = body.get("tags") else {
        return Err(Error::bad_request(
            "Provided object does not match schema 'tags': 'tags' must be a list",
        ));
    };
    let now = now_micros();
    let append = headers
        .get("x-openstack-append")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut tags: Vec<Item> = if append {
        metadefs::items(svc.db(), &namespace, TAG).await?
    } else {
        Vec::new()
    };
    let mut added = Vec::new();
    for v in list {
        let n = name(TAG, "name", v.get("name"), TAGS.max_name)?;
        if tags.iter().any(|t| t.name == n) {
            return Err(TAGS.taken(&namespace, &n));
        }
        tags.push(tag(n.clone(), now));
        added.push(tag(n, now));
    }
    metadefs::replace_items(svc.db(), &namespace, TAG, &tags)
        .await
        .map_err(|e| conflict_or(e, format!("A tag is given twice in namespace {namespace}")))?;
    let out: Vec<Value> = added.iter().map(|t| json!({ "name": t.name })).collect();
    Ok(json(StatusCode::CREATED, json!({ "tags": out })))
}

/// `POST …/tags/{name}`: one tag.
pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
) -> Result<Response> {
    let item = TAGS
        .create(&svc, &ctx, &namespace, |now| {
            let n = name(TAG, "name", Some(&Value::String(tag_name)), TAGS.max_name)?;
            Ok(tag(n, now))
        })
        .await?;
    Ok(json(StatusCode::CREATED, item.tag_json()))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
) -> Result<Response> {
    let item = TAGS.show(&svc, &ctx, &namespace, &tag_name).await?;
    Ok(json(StatusCode::OK, item.tag_json()))
}

/// `PUT …/tags/{name}` `{"name": new}`: rename.
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let item = TAGS
        .update(&svc, &ctx, &namespace, &tag_name, |old| {
            let n = name(TAG, "name", body.object()?.get("name"), TAGS.max_name)?;
            Ok(tag(n, old.created_at))
        })
        .await?;
    Ok(json(StatusCode::OK, item.tag_json()))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
) -> Result<Response> {
    TAGS.delete(&svc, &ctx, &namespace, &tag_name).await
}

pub async fn delete_all(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    TAGS.delete_all(&svc, &ctx, &namespace).await
}
