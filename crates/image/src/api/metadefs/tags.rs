//! `/v2/metadefs/namespaces/{namespace}/tags[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::{conflict_or, load, load_for_change};
use crate::api::common::{json, no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, Item, TAG};
use crate::store::metadefs;
use crate::ImageService;

const MAX: usize = 255;

fn missing(namespace: &str, name: &str) -> Error {
    Error::not_found(format!(
        "Metadata definition tag {name} was not found in namespace {namespace}."
    ))
}

fn taken(namespace: &str, name: &str) -> Error {
    Error::conflict(format!(
        "A metadata definition tag named {name} already exists in namespace {namespace}."
    ))
}

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
    load(&svc, &ctx, &namespace).await?;
    let tags: Vec<Value> = metadefs::items(svc.db(), &namespace, TAG)
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
        let n = name("tag", "name", v.get("name"), MAX)?;
        if tags.iter().any(|t| t.name == n) {
            return Err(taken(&namespace, &n));
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
    load_for_change(&svc, &ctx, &namespace).await?;
    let n = name("tag", "name", Some(&Value::String(tag_name)), MAX)?;
    if metadefs::item(svc.db(), &namespace, TAG, &n)
        .await?
        .is_some()
    {
        return Err(taken(&namespace, &n));
    }
    let item = tag(n, now_micros());
    metadefs::insert_item(svc.db(), &namespace, TAG, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Tag {} already exists", item.name)))?;
    Ok(json(StatusCode::CREATED, item.tag_json()))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let item = metadefs::item(svc.db(), &namespace, TAG, &tag_name)
        .await?
        .ok_or_else(|| missing(&namespace, &tag_name))?;
    Ok(json(StatusCode::OK, item.tag_json()))
}

/// `PUT …/tags/{name}` `{"name": new}`: rename.
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    let old = metadefs::item(svc.db(), &namespace, TAG, &tag_name)
        .await?
        .ok_or_else(|| missing(&namespace, &tag_name))?;
    let body = body.object()?;
    let n = name("tag", "name", body.get("name"), MAX)?;
    if n != tag_name
        && metadefs::item(svc.db(), &namespace, TAG, &n)
            .await?
            .is_some()
    {
        return Err(taken(&namespace, &n));
    }
    let item = Item {
        name: n,
        body: json!({}),
        created_at: old.created_at,
        updated_at: now_micros(),
    };
    if !metadefs::update_item(svc.db(), &namespace, TAG, &tag_name, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Tag {} already exists", item.name)))?
    {
        return Err(missing(&namespace, &tag_name));
    }
    Ok(json(StatusCode::OK, item.tag_json()))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, tag_name)): Path<(String, String)>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    if metadefs::delete_items(svc.db(), &namespace, TAG, Some(&tag_name)).await? == 0 {
        return Err(missing(&namespace, &tag_name));
    }
    Ok(no_content())
}

pub async fn delete_all(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let ns = load_for_change(&svc, &ctx, &namespace).await?;
    if ns.protected {
        return Err(Error::forbidden(format!(
            "Namespace {namespace} is protected: its tags cannot be deleted."
        )));
    }
    metadefs::delete_items(svc.db(), &namespace, TAG, None).await?;
    Ok(no_content())
}
