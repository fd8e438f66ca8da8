//! `GET /v2/schemas/metadefs/{name}`: JSON schemas of the catalog's
//! documents (what this implementation accepts and answers).

use axum::extract::Path;
use axum::response::Response;
use http::StatusCode;
use serde_json::{json, Value};

use crate::api::common::{json, Ctx};
use crate::error::{Error, Result};

fn string(description: &str, max: Option<u64>) -> Value {
    match max {
        Some(m) => json!({ "type": "string", "description": description, "maxLength": m }),
        None => json!({ "type": "string", "description": description }),
    }
}

fn stamps() -> Value {
    json!({
        "created_at": { "type": "string", "format": "date-time", "readOnly": true,
                        "description": "When the resource was created." },
        "updated_at": { "type": "string", "format": "date-time", "readOnly": true,
                        "description": "When the resource was last changed." },
    })
}

fn with_stamps(mut props: Value) -> Value {
    if let (Value::Object(m), Value::Object(s)) = (&mut props, stamps()) {
        m.extend(s);
    }
    props
}

fn property_definition() -> Value {
    json!({
        "type": "object",
        "required": ["title", "type"],
        "properties": {
            "name": string("The property's name.", Some(255)),
            "title": string("A short human-readable name.", Some(255)),
            "description": string("What the property means.", None),
            "type": { "type": "string",
                      "enum": ["array", "boolean", "integer", "number", "object", "string", "null"] },
            "enum": { "type": "array" },
            "default": {},
            "readonly": { "type": "boolean" },
            "operators": { "type": "array", "items": { "type": "string" } },
            "minimum": { "type": "number" },
            "maximum": { "type": "number" },
            "pattern": { "type": "string", "format": "regex" },
            "minLength": { "type": "integer", "minimum": 0 },
            "maxLength": { "type": "integer", "minimum": 0 },
            "items": { "type": "object" },
            "uniqueItems": { "type": "boolean" },
            "minItems": { "type": "integer", "minimum": 0 },
            "maxItems": { "type": "integer", "minimum": 0 },
            "additionalItems": { "type": "boolean" },
        },
    })
}

fn association() -> Value {
    json!({
        "name": "resource_type_association",
        "required": ["name"],
        "additionalProperties": false,
        "properties": with_stamps(json!({
            "name": string("The resource type, such as OS::Glance::Image.", Some(80)),
            "prefix": string("Prefix of the namespace's properties on this resource type.", Some(80)),
            "properties_target": string("Where on the resource the properties go.", Some(80)),
        })),
    })
}

fn object() -> Value {
    json!({
        "name": "object",
        "required": ["name"],
        "additionalProperties": false,
        "properties": with_stamps(json!({
            "name": string("The object's name.", Some(80)),
            "description": string("What the object groups.", Some(500)),
            "required": { "type": "array", "items": { "type": "string" } },
            "properties": { "type": "object", "additionalProperties": property_definition() },
            "self": { "type": "string", "readOnly": true },
            "schema": { "type": "string", "readOnly": true },
        })),
    })
}

fn tag() -> Value {
    json!({
        "name": "tag",
        "required": ["name"],
        "additionalProperties": false,
        "properties": with_stamps(json!({ "name": string("The tag.", Some(255)) })),
    })
}

fn property() -> Value {
    let mut p = property_definition();
    if let Value::Object(m) = &mut p {
        m.insert("name".into(), json!("property"));
        m.insert("additionalProperties".into(), json!(false));
        m.insert("required".into(), json!(["name", "title", "type"]));
    }
    p
}

fn namespace() -> Value {
    json!({
        "name": "namespace",
        "required": ["namespace"],
        "additionalProperties": false,
        "properties": with_stamps(json!({
            "namespace": string("The namespace's unique name.", Some(80)),
            "display_name": string("A human-readable name.", Some(80)),
            "description": string("What the namespace defines.", Some(500)),
            "visibility": { "type": "string", "enum": ["public", "private"] },
            "protected": { "type": "boolean", "description": "Whether it may be deleted." },
            "owner": string("The project owning the namespace.", Some(255)),
            "resource_type_associations": { "type": "array", "items": association()["properties"] },
            "properties": { "type": "object", "additionalProperties": property_definition() },
            "objects": { "type": "array", "items": object()["properties"] },
            "tags": { "type": "array", "items": tag()["properties"] },
            "self": { "type": "string", "readOnly": true },
            "schema": { "type": "string", "readOnly": true },
        })),
    })
}

fn collection(name: &str, key: &str, item: Value, paged: bool) -> Value {
    let mut props = json!({
        key: { "type": "array", "items": item },
        "schema": { "type": "string" },
    });
    if paged {
        props["first"] = json!({ "type": "string" });
        props["next"] = json!({ "type": "string" });
    }
    json!({ "name": name, "properties": props, "links": [
        { "rel": "first", "href": "{first}" },
        { "rel": "next", "href": "{next}" },
        { "rel": "describedby", "href": "{schema}" },
    ] })
}

pub async fn show(_ctx: Ctx, Path(name): Path<String>) -> Result<Response> {
    let doc = match name.as_str() {
        "namespace" => namespace(),
        "namespaces" => collection("namespaces", "namespaces", namespace(), true),
        "resource_type" => association(),
        "resource_types" => collection(
            "resource_type_associations",
            "resource_type_associations",
            association(),
            false,
        ),
        "object" => object(),
        "objects" => collection("objects", "objects", object(), false),
        "property" => property(),
        "properties" => json!({
            "name": "properties",
            "properties": { "properties": { "type": "object",
                                            "additionalProperties": property_definition() } },
        }),
        "tag" => tag(),
        "tags" => collection("tags", "tags", tag(), false),
        _ => return Err(Error::not_found(format!("No schema named metadefs/{name}"))),
    };
    Ok(json(StatusCode::OK, doc))
}
