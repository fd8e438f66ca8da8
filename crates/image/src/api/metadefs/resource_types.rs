//! `/v2/metadefs/resource_types` and a namespace's associations with them
//! (`/v2/metadefs/namespaces/{namespace}/resource_types[/{name}]`).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Value};

use super::{conflict_or, load, load_for_change};
use crate::api::common::{json, no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{association, Association, ResourceType};
use crate::store::metadefs;
use crate::ImageService;

pub async fn list(State(svc): State<ImageService>, _ctx: Ctx) -> Result<Response> {
    let types: Vec<Value> = metadefs::resource_types(svc.db())
        .await?
        .iter()
        .map(ResourceType::to_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "resource_types": types })))
}

pub async fn list_associations(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    load(&svc, &ctx, &namespace).await?;
    let list: Vec<Value> = metadefs::associations(svc.db(), &namespace)
        .await?
        .iter()
        .map(Association::to_json)
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({ "resource_type_associations": list }),
    ))
}

/// `POST …/resource_types` `{"name", "prefix", "properties_target"}` → 201.
pub async fn associate(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
    body: JsonBody<Error>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    let a = association(&Value::Object(body.object()?), now_micros())?;
    let taken = || {
        Error::conflict(format!(
            "Namespace {namespace} is already associated with resource type {}.",
            a.name
        ))
    };
    if metadefs::associations(svc.db(), &namespace)
        .await?
        .iter()
        .any(|x| x.name == a.name)
    {
        return Err(taken());
    }
    metadefs::create_association(svc.db(), &namespace, &a)
        .await
        .map_err(|e| conflict_or(e, taken().to_string()))?;
    Ok(json(StatusCode::CREATED, a.to_json()))
}

pub async fn dissociate(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Response> {
    load_for_change(&svc, &ctx, &namespace).await?;
    if !metadefs::delete_association(svc.db(), &namespace, &name).await? {
        return Err(Error::not_found(format!(
            "Namespace {namespace} is not associated with resource type {name}."
        )));
    }
    Ok(no_content())
}
