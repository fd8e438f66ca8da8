//! `/v2/metadefs/namespaces[/{namespace}]`: list, create (with its
//! associations, properties, objects and tags), show, update, delete.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::{conflict_or, load, load_for_change, visible};
use crate::api::common::{json, no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::{
    self, association, name, object_body, opt_bool, opt_string, property_body, Item, Namespace,
    OBJECT, PROPERTY, TAG,
};
use crate::store::metadefs::{self, NewNamespace};
use crate::{policy, ImageService};

const WHAT: &str = "namespace";
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 1000;
const READ_ONLY: &[&str] = &["self", "schema", "created_at", "updated_at"];

/// `GET /v2/metadefs/namespaces`: `visibility`, `resource_types` (any of a
/// comma list), `sort_key`/`sort_dir`, `limit`/`marker`.
pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let sort_dir = get("sort_dir").unwrap_or_else(|| "desc".into());
    if !matches!(sort_dir.as_str(), "asc" | "desc") {
        return Err(Error::bad_request(format!(
            "Invalid sort direction: {sort_dir}"
        )));
    }
    let sort_key = get("sort_key").unwrap_or_else(|| "created_at".into());
    if !matches!(
        sort_key.as_str(),
        "created_at" | "updated_at" | "namespace" | "display_name"
    ) {
        return Err(Error::bad_request(format!("Invalid sort key: {sort_key}")));
    }
    let limit = match get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
            _ => {
                return Err(Error::bad_request(
                    "limit param must be a non-negative integer",
                ))
            }
        },
    };
    if let Some(v) = get("visibility") {
        if !matches!(v.as_str(), "public" | "private") {
            return Err(Error::bad_request(format!("Invalid visibility value: {v}")));
        }
    }
    let links = metadefs::namespaces_of_types(svc.db()).await?;
    let wanted: Option<Vec<String>> =
        get("resource_types").map(|s| s.split(',').map(|t| t.trim().to_owned()).collect());
    let mut all: Vec<Namespace> = metadefs::namespaces(svc.db())
        .await?
        .into_iter()
        .filter(|ns| visible(&ctx, ns))
        .filter(|ns| get("visibility").is_none_or(|v| ns.visibility == v))
        .filter(|ns| {
            wanted.as_ref().is_none_or(|types| {
                links
                    .iter()
                    .any(|(n, t)| *n == ns.namespace && types.contains(t))
            })
        })
        .collect();
    all.sort_by(|a, b| {
        let ord = match sort_key.as_str() {
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "namespace" => a.namespace.cmp(&b.namespace),
            "display_name" => a.display_name.cmp(&b.display_name),
            _ => a.created_at.cmp(&b.created_at),
        }
        .then_with(|| a.namespace.cmp(&b.namespace));
        if sort_dir == "desc" {
            ord.reverse()
        } else {
            ord
        }
    });
    let start = match get("marker") {
        None => 0,
        Some(m) => all
            .iter()
            .position(|ns| ns.namespace == m)
            .map(|i| i + 1)
            .ok_or_else(|| Error::bad_request(format!("Invalid marker: no namespace {m}")))?,
    };
    let page: Vec<&Namespace> = all.iter().skip(start).take(limit).collect();
    let mut items = Vec::with_capacity(page.len());
    for ns in &page {
        let mut view = ns.to_json();
        let assocs: Vec<Value> = metadefs::associations(svc.db(), &ns.namespace)
            .await?
            .iter()
            .map(metadef::Association::to_json)
            .collect();
        if !assocs.is_empty() {
            view.insert("resource_type_associations".into(), Value::Array(assocs));
        }
        items.push(Value::Object(view));
    }
    let mut body = json!({
        "namespaces": items,
        "first": "/v2/metadefs/namespaces",
        "schema": "/v2/schemas/metadefs/namespaces",
    });
    if limit > 0 && page.len() == limit {
        if let (Some(last), Value::Object(m)) = (page.last(), &mut body) {
            let mut q: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "marker")
                .cloned()
                .collect();
            q.push(("marker".into(), last.namespace.clone()));
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(q)
                .finish();
            m.insert("next".into(), json!(format!("/v2/metadefs/namespaces?{q}")));
        }
    }
    Ok(json(StatusCode::OK, body))
}

/// The namespace's attributes from a create or update body.
fn parse_namespace(ctx: &Ctx, body: &Map<String, Value>, base: Namespace) -> Result<Namespace> {
    for key in body.keys() {
        if READ_ONLY.contains(&key.as_str()) {
            return Err(Error::forbidden(format!("Attribute '{key}' is read-only.")));
        }
    }
    let mut ns = base;
    ns.namespace = name(WHAT, "namespace", body.get("namespace"), 80)?;
    ns.display_name = opt_string(WHAT, "display_name", body.get("display_name"), 80)?;
    ns.description = opt_string(WHAT, "description", body.get("description"), 500)?;
    if let Some(v) = opt_string(WHAT, "visibility", body.get("visibility"), 32)? {
        if !matches!(v.as_str(), "public" | "private") {
            return Err(Error::bad_request(format!(
                "Provided object does not match schema '{WHAT}': visibility must be public or private"
            )));
        }
        ns.visibility = v;
    }
    if let Some(p) = opt_bool(WHAT, "protected", body.get("protected"))? {
        ns.protected = p;
    }
    if body.contains_key("owner") {
        let owner = opt_string(WHAT, "owner", body.get("owner"), 255)?;
        if !ctx.is_admin() && owner != ctx.project_id {
            return Err(Error::forbidden(
                "Only an admin may give a namespace to another project.",
            ));
        }
        ns.owner = owner;
    }
    Ok(ns)
}

/// `POST /v2/metadefs/namespaces` → 201.
pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    body: JsonBody<Error>,
) -> Result<Response> {
    policy::require_admin(&ctx, "create metadata definitions")?;
    let body = body.object()?;
    let allowed = [
        "namespace",
        "display_name",
        "description",
        "visibility",
        "protected",
        "owner",
        "resource_type_associations",
        "properties",
        "objects",
        "tags",
    ];
    for key in body.keys() {
        if !allowed.contains(&key.as_str()) && !READ_ONLY.contains(&key.as_str()) {
            return Err(Error::bad_request(format!(
                "Provided object does not match schema '{WHAT}': additional property '{key}' is not allowed"
            )));
        }
    }
    let now = now_micros();
    let ns = parse_namespace(
        &ctx,
        &body,
        Namespace {
            visibility: "private".into(),
            owner: ctx.project_id.clone(),
            created_at: now,
            updated_at: now,
            ..Namespace::default()
        },
    )?;
    let mut assocs = Vec::new();
    if let Some(v) = body
        .get("resource_type_associations")
        .filter(|v| !v.is_null())
    {
        let Value::Array(list) = v else {
            return Err(Error::bad_request(
                "resource_type_associations must be a list",
            ));
        };
        for a in list {
            let a = association(a, now)?;
            if assocs
                .iter()
                .any(|x: &metadef::Association| x.name == a.name)
            {
                return Err(Error::conflict(format!(
                    "Resource type {} is given twice",
                    a.name
                )));
            }
            assocs.push(a);
        }
    }
    let items = contained_items(&body, now)?;
    if metadefs::namespace(svc.db(), &ns.namespace)
        .await?
        .is_some()
    {
        return Err(exists(&ns.namespace));
    }
    let new = NewNamespace {
        namespace: &ns,
        associations: &assocs,
        items: &items,
    };
    metadefs::create_namespace(svc.db(), &new)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                format!("A name is given twice in namespace {}", ns.namespace),
            )
        })?;
    let mut view = ns.to_json();
    add_children(&mut view, &ns.namespace, &assocs, &items);
    Ok(json(StatusCode::CREATED, Value::Object(view)))
}

fn exists(name: &str) -> Error {
    Error::conflict(format!(
        "A metadata definition namespace named {name} already exists."
    ))
}

/// Properties, objects and tags given with a namespace create.
fn contained_items(body: &Map<String, Value>, now: i64) -> Result<Vec<(&'static str, Item)>> {
    let item = |name: String, body: Value| Item {
        name,
        body,
        created_at: now,
        updated_at: now,
    };
    let mut out = Vec::new();
    match body.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(props)) => {
            for (pname, def) in props {
                let Value::Object(def) = def else {
                    return Err(Error::bad_request(format!(
                        "property '{pname}' must be an object"
                    )));
                };
                out.push((PROPERTY, item(pname.clone(), property_body(def)?)));
            }
        }
        Some(_) => return Err(Error::bad_request("properties must be an object")),
    }
    for (key, kind) in [("objects", OBJECT), ("tags", TAG)] {
        match body.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for v in list {
                    let Value::Object(m) = v else {
                        return Err(Error::bad_request(format!(
                            "each of {key} must be an object"
                        )));
                    };
                    let (n, b) = if kind == OBJECT {
                        (name("object", "name", m.get("name"), 80)?, object_body(m)?)
                    } else {
                        (name("tag", "name", m.get("name"), 255)?, json!({}))
                    };
                    out.push((kind, item(n, b)));
                }
            }
            Some(_) => return Err(Error::bad_request(format!("{key} must be a list"))),
        }
    }
    Ok(out)
}

fn add_children(
    view: &mut Map<String, Value>,
    namespace: &str,
    assocs: &[metadef::Association],
    items: &[(&'static str, Item)],
) {
    if !assocs.is_empty() {
        view.insert(
            "resource_type_associations".into(),
            Value::Array(assocs.iter().map(metadef::Association::to_json).collect()),
        );
    }
    let props: Map<String, Value> = items
        .iter()
        .filter(|(k, _)| *k == PROPERTY)
        .map(|(_, i)| (i.name.clone(), i.property_json()))
        .collect();
    if !props.is_empty() {
        view.insert("properties".into(), Value::Object(props));
    }
    let objects: Vec<Value> = items
        .iter()
        .filter(|(k, _)| *k == OBJECT)
        .map(|(_, i)| i.object_json(namespace))
        .collect();
    if !objects.is_empty() {
        view.insert("objects".into(), Value::Array(objects));
    }
    let tags: Vec<Value> = items
        .iter()
        .filter(|(k, _)| *k == TAG)
        .map(|(_, i)| i.tag_json())
        .collect();
    if !tags.is_empty() {
        view.insert("tags".into(), Value::Array(tags));
    }
}

/// `GET /v2/metadefs/namespaces/{namespace}` with its contents.
pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let ns = load(&svc, &ctx, &namespace).await?;
    let assocs = metadefs::associations(svc.db(), &namespace).await?;
    let mut items = Vec::new();
    for kind in [PROPERTY, OBJECT, TAG] {
        for i in metadefs::items(svc.db(), &namespace, kind).await? {
            items.push((kind, i));
        }
    }
    let mut view = ns.to_json();
    add_children(&mut view, &namespace, &assocs, &items);
    Ok(json(StatusCode::OK, Value::Object(view)))
}

/// `PUT /v2/metadefs/namespaces/{namespace}`: replace the attributes
/// (a new `namespace` renames it).
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let old = load_for_change(&svc, &ctx, &namespace).await?;
    let body = body.object()?;
    for key in [
        "resource_type_associations",
        "properties",
        "objects",
        "tags",
    ] {
        if body.contains_key(key) {
            return Err(Error::bad_request(format!(
                "'{key}' cannot be changed with a namespace update: use its own resource."
            )));
        }
    }
    let mut ns = parse_namespace(
        &ctx,
        &body,
        Namespace {
            visibility: old.visibility.clone(),
            protected: old.protected,
            owner: old.owner.clone(),
            created_at: old.created_at,
            ..Namespace::default()
        },
    )?;
    ns.updated_at = now_micros();
    if ns.namespace != namespace
        && metadefs::namespace(svc.db(), &ns.namespace)
            .await?
            .is_some()
    {
        return Err(exists(&ns.namespace));
    }
    if !metadefs::update_namespace(svc.db(), &namespace, &ns)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                format!(
                    "A metadata definition namespace named {} already exists.",
                    ns.namespace
                ),
            )
        })?
    {
        return Err(Error::not_found(format!(
            "Metadata definition namespace={namespace} was not found."
        )));
    }
    Ok(json(StatusCode::OK, Value::Object(ns.to_json())))
}

/// `DELETE /v2/metadefs/namespaces/{namespace}`: 403 while protected.
pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(namespace): Path<String>,
) -> Result<Response> {
    let ns = load_for_change(&svc, &ctx, &namespace).await?;
    if ns.protected {
        return Err(Error::forbidden(format!(
            "Namespace {namespace} is protected: unprotect it before deleting it."
        )));
    }
    metadefs::delete_namespace(svc.db(), &namespace).await?;
    Ok(no_content())
}
