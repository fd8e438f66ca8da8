//! `/v2/metadefs/namespaces/{namespace}/objects[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::items::Kind;
use crate::api::common::{json, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, object_body, Item, OBJECT};
use crate::ImageService;

const OBJECTS: Kind = Kind {
    key: OBJECT,
    plural: "objects",
    max_name: 80,
};

fn from_body(body: &Map<String, Value>, now: i64) -> Result<Item> {
    Ok(Item {
        name: name(OBJECT, "name", body.get("name"), OBJECTS.max_name)?,
        body: object_body(body)?,
        created_at: now,
        updated_at: now,
    })
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let objects: Vec<Value> = OBJECTS
        .list(&svc, &ctx, &namespace)
        .await?
        .iter()
        .map(|o| o.object_json(&namespace))
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({ "objects": objects, "schema": "v2/schemas/metadefs/objects" }),
    ))
}

pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let item = OBJECTS
        .create(&svc, &ctx, &namespace, |now| {
            from_body(&body.object()?, now)
        })
        .await?;
    Ok(json(StatusCode::CREATED, item.object_json(&namespace)))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
) -> Result<Response> {
    let item = OBJECTS.show(&svc, &ctx, &namespace, &obj).await?;
    Ok(json(StatusCode::OK, item.object_json(&namespace)))
}

/// `PUT …/objects/{name}`: the whole definition (a new `name` renames it).
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let item = OBJECTS
        .update(&svc, &ctx, &namespace, &obj, |old| {
            from_body(&body.object()?, old.created_at)
        })
        .await?;
    Ok(json(StatusCode::OK, item.object_json(&namespace)))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
) -> Result<Response> {
    OBJECTS.delete(&svc, &ctx, &namespace, &obj).await
}

pub async fn delete_all(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    OBJECTS.delete_all(&svc, &ctx, &namespace).await
}
