//! `/v2/metadefs/namespaces/{namespace}/objects[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Value};

use super::{conflict_or, load, load_for_change};
use crate::api::common::{json, no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, object_body, Item, OBJECT};
use crate::store::metadefs;
use crate::ImageService;

fn missing(namespace: &str, name: &str) -> Error {
    Error::not_found(format!(
        "Metadata definition object {name} was not found in namespace {namespace}."
    ))
}

fn taken(namespace: &str, name: &str) -> Error {
    Error::conflict(format!(
        "A metadata definition object named {name} already exists in namespace {namespace}."
    ))
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let objects: Vec<Value> = metadefs::items(svc.db(), &namespace, OBJECT)
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
    load_for_change(&svc, &ctx, &namespace).await?;
    let body = body.object()?;
    let now = now_micros();
    let item = Item {
        name: name("object", "name", body.get("name"), 80)?,
        body: object_body(&body)?,
        created_at: now,
        updated_at: now,
    };
    if metadefs::item(svc.db(), &namespace, OBJECT, &item.name)
        .await?
        .is_some()
    {
        return Err(taken(&namespace, &item.name));
    }
    metadefs::insert_item(svc.db(), &namespace, OBJECT, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Object {} already exists", item.name)))?;
    Ok(json(StatusCode::CREATED, item.object_json(&namespace)))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let item = metadefs::item(svc.db(), &namespace, OBJECT, &obj)
        .await?
        .ok_or_else(|| missing(&namespace, &obj))?;
    Ok(json(StatusCode::OK, item.object_json(&namespace)))
}

/// `PUT …/objects/{name}`: the whole definition (a new `name` renames it).
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    let old = metadefs::item(svc.db(), &namespace, OBJECT, &obj)
        .await?
        .ok_or_else(|| missing(&namespace, &obj))?;
    let body = body.object()?;
    let item = Item {
        name: name("object", "name", body.get("name"), 80)?,
        body: object_body(&body)?,
        created_at: old.created_at,
        updated_at: now_micros(),
    };
    if item.name != obj
        && metadefs::item(svc.db(), &namespace, OBJECT, &item.name)
            .await?
            .is_some()
    {
        return Err(taken(&namespace, &item.name));
    }
    if !metadefs::update_item(svc.db(), &namespace, OBJECT, &obj, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Object {} already exists", item.name)))?
    {
        return Err(missing(&namespace, &obj));
    }
    Ok(json(StatusCode::OK, item.object_json(&namespace)))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, obj)): Path<(String, String)>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    if metadefs::delete_items(svc.db(), &namespace, OBJECT, Some(&obj)).await? == 0 {
        return Err(missing(&namespace, &obj));
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
            "Namespace {namespace} is protected: its objects cannot be deleted."
        )));
    }
    metadefs::delete_items(svc.db(), &namespace, OBJECT, None).await?;
    Ok(no_content())
}
