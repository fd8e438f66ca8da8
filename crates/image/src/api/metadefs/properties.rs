//! `/v2/metadefs/namespaces/{namespace}/properties[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::items::Kind;
use crate::api::common::{json, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, property_body, Item, PROPERTY};
use crate::ImageService;

const PROPERTIES: Kind = Kind {
    key: PROPERTY,
    plural: "properties",
    max_name: 255,
};

fn from_body(body: &Map<String, Value>, now: i64) -> Result<Item> {
    Ok(Item {
        name: name(PROPERTY, "name", body.get("name"), PROPERTIES.max_name)?,
        body: property_body(body)?,
        created_at: now,
        updated_at: now,
    })
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let properties: Map<String, Value> = PROPERTIES
        .list(&svc, &ctx, &namespace)
        .await?
        .iter()
        .map(|p| (p.name.clone(), p.property_json()))
        .collect();
    Ok(json(StatusCode::OK, json!({ "properties": properties })))
}

pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let item = PROPERTIES
        .create(&svc, &ctx, &namespace, |now| {
            from_body(&body.object()?, now)
        })
        .await?;
    Ok(json(StatusCode::CREATED, item.property_json()))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
) -> Result<Response> {
    let item = PROPERTIES.show(&svc, &ctx, &namespace, &prop).await?;
    Ok(json(StatusCode::OK, item.property_json()))
}

/// `PUT …/properties/{name}`: the whole definition (a new `name` renames it).
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let item = PROPERTIES
        .update(&svc, &ctx, &namespace, &prop, |old| {
            from_body(&body.object()?, old.created_at)
        })
        .await?;
    Ok(json(StatusCode::OK, item.property_json()))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
) -> Result<Response> {
    PROPERTIES.delete(&svc, &ctx, &namespace, &prop).await
}

pub async fn delete_all(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    PROPERTIES.delete_all(&svc, &ctx, &namespace).await
}
