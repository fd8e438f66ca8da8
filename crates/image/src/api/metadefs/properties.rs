//! `/v2/metadefs/namespaces/{namespace}/properties[/{name}]`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Value};

use super::{conflict_or, load, load_for_change};
use crate::api::common::{json, no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{name, property_body, Item, PROPERTY};
use crate::store::metadefs;
use crate::ImageService;

fn missing(namespace: &str, name: &str) -> Error {
    Error::not_found(format!(
        "Metadata definition property {name} was not found in namespace {namespace}."
    ))
}

fn taken(namespace: &str, name: &str) -> Error {
    Error::conflict(format!(
        "A metadata definition property named {name} already exists in namespace {namespace}."
    ))
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let properties: serde_json::Map<String, Value> =
        metadefs::items(svc.db(), &namespace, PROPERTY)
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
    load_for_change(&svc, &ctx, &namespace).await?;
    let body = body.object()?;
    let now = now_micros();
    let item = Item {
        name: name("property", "name", body.get("name"), 255)?,
        body: property_body(&body)?,
        created_at: now,
        updated_at: now,
    };
    if metadefs::item(svc.db(), &namespace, PROPERTY, &item.name)
        .await?
        .is_some()
    {
        return Err(taken(&namespace, &item.name));
    }
    metadefs::insert_item(svc.db(), &namespace, PROPERTY, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Property {} already exists", item.name)))?;
    Ok(json(StatusCode::CREATED, item.property_json()))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let item = metadefs::item(svc.db(), &namespace, PROPERTY, &prop)
        .await?
        .ok_or_else(|| missing(&namespace, &prop))?;
    Ok(json(StatusCode::OK, item.property_json()))
}

/// `PUT …/properties/{name}`: the whole definition (a new `name` renames it).
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    let old = metadefs::item(svc.db(), &namespace, PROPERTY, &prop)
        .await?
        .ok_or_else(|| missing(&namespace, &prop))?;
    let body = body.object()?;
    let item = Item {
        name: name("property", "name", body.get("name"), 255)?,
        body: property_body(&body)?,
        created_at: old.created_at,
        updated_at: now_micros(),
    };
    if item.name != prop
        && metadefs::item(svc.db(), &namespace, PROPERTY, &item.name)
            .await?
            .is_some()
    {
        return Err(taken(&namespace, &item.name));
    }
    if !metadefs::update_item(svc.db(), &namespace, PROPERTY, &prop, &item)
        .await
        .map_err(|e| conflict_or(e, format!("Property {} already exists", item.name)))?
    {
        return Err(missing(&namespace, &prop));
    }
    Ok(json(StatusCode::OK, item.property_json()))
}

pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, prop)): Path<(String, String)>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    if metadefs::delete_items(svc.db(), &namespace, PROPERTY, Some(&prop)).await? == 0 {
        return Err(missing(&namespace, &prop));
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
            "Namespace {namespace} is protected: its properties cannot be deleted."
        )));
    }
    metadefs::delete_items(svc.db(), &namespace, PROPERTY, None).await?;
    Ok(no_content())
}
