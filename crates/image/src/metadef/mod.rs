//! Metadata definitions (Glance's `/v2/metadefs` catalog): namespaces of
//! property definitions, objects and tags, associated with the resource
//! types they describe. The views and value rules live here; the standard
//! catalog seeded at first start in [`seed`].

pub mod seed;

use ferro_api::time::iso_seconds;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

pub const OBJECT: &str = "object";
pub const PROPERTY: &str = "property";
pub const TAG: &str = "tag";

#[derive(Clone, Debug, Default)]
pub struct Namespace {
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: String,
    pub protected: bool,
    pub owner: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An object, property or tag of a namespace: its name and its JSON body
/// (the definition without name and timestamps).
#[derive(Clone, Debug, Default)]
pub struct Item {
    pub name: String,
    pub body: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Association {
    pub name: String,
    pub prefix: Option<String>,
    pub properties_target: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct ResourceType {
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn put_opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

impl Namespace {
    /// The namespace's own attributes (unset ones left out, as Glance does).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("namespace".into(), json!(self.namespace));
        put_opt(&mut m, "display_name", &self.display_name);
        put_opt(&mut m, "description", &self.description);
        m.insert("visibility".into(), json!(self.visibility));
        m.insert("protected".into(), json!(self.protected));
        put_opt(&mut m, "owner", &self.owner);
        m.insert("created_at".into(), json!(iso_seconds(self.created_at)));
        m.insert("updated_at".into(), json!(iso_seconds(self.updated_at)));
        m.insert(
            "self".into(),
            json!(format!("/v2/metadefs/namespaces/{}", self.namespace)),
        );
        m.insert("schema".into(), json!("/v2/schemas/metadefs/namespace"));
        m
    }
}

impl Item {
    /// An object: `name`, its body, timestamps, `self` and `schema`.
    pub fn object_json(&self, namespace: &str) -> Value {
        let mut m = self.body_map();
        m.insert("name".into(), json!(self.name));
        m.insert("created_at".into(), json!(iso_seconds(self.created_at)));
        m.insert("updated_at".into(), json!(iso_seconds(self.updated_at)));
        m.insert(
            "self".into(),
            json!(format!(
                "/v2/metadefs/namespaces/{namespace}/objects/{}",
                self.name
            )),
        );
        m.insert("schema".into(), json!("v2/schemas/metadefs/object"));
        Value::Object(m)
    }

    /// A property: `name` and its definition (no timestamps, as Glance).
    pub fn property_json(&self) -> Value {
        let mut m = self.body_map();
        m.insert("name".into(), json!(self.name));
        Value::Object(m)
    }

    pub fn tag_json(&self) -> Value {
        json!({
            "name": self.name,
            "created_at": iso_seconds(self.created_at),
            "updated_at": iso_seconds(self.updated_at),
        })
    }

    fn body_map(&self) -> Map<String, Value> {
        match &self.body {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        }
    }
}

impl Association {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        put_opt(&mut m, "prefix", &self.prefix);
        put_opt(&mut m, "properties_target", &self.properties_target);
        m.insert("created_at".into(), json!(iso_seconds(self.created_at)));
        m.insert("updated_at".into(), json!(iso_seconds(self.updated_at)));
        Value::Object(m)
    }
}

impl ResourceType {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "created_at": iso_seconds(self.created_at),
            "updated_at": iso_seconds(self.updated_at),
        })
    }
}

// -- value rules ----------------------------------------------------------------

fn invalid(what: &str, msg: impl std::fmt::Display) -> Error {
    Error::bad_request(format!(
        "Provided object does not match schema '{what}': {msg}"
    ))
}

/// A required string of 1..=`max` characters.
pub fn name(what: &str, key: &str, v: Option<&Value>, max: usize) -> Result<String> {
    if let Some(Value::String(s)) = v {
        if s.chars().any(char::is_control) {
            return Err(invalid(
                what,
                format!("'{key}' must not contain control characters"),
            ));
        }
    }
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(
            what,
            format!("'{key}' must be 1 to {max} characters"),
        )),
        None | Some(Value::Null) => Err(invalid(what, format!("'{key}' is a required property"))),
        Some(_) => Err(invalid(what, format!("'{key}' must be a string"))),
    }
}

/// An optional string of at most `max` characters.
pub fn opt_string(what: &str, key: &str, v: Option<&Value>, max: usize) -> Result<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(invalid(
            what,
            format!("'{key}' is longer than {max} characters"),
        )),
        Some(_) => Err(invalid(what, format!("'{key}' must be a string"))),
    }
}

pub fn opt_bool(what: &str, key: &str, v: Option<&Value>) -> Result<Option<bool>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(what, format!("'{key}' must be a boolean"))),
    }
}

const PROPERTY_TYPES: &[&str] = &[
    "array", "boolean", "integer", "number", "object", "string", "null",
];
/// Keys a property definition may carry besides `name`.
const PROPERTY_KEYS: &[&str] = &[
    "title",
    "description",
    "operators",
    "type",
    "readonly",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "default",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
];

/// A property definition (`title` and `type` required); returns the body
/// stored (everything but `name`).
pub fn property_body(v: &Map<String, Value>) -> Result<Value> {
    let what = "property";
    name(what, "title", v.get("title"), 255)?;
    match v.get("type").and_then(Value::as_str) {
        Some(t) if PROPERTY_TYPES.contains(&t) => {}
        _ => {
            return Err(invalid(
                what,
                format!("'type' must be one of {}", PROPERTY_TYPES.join(", ")),
            ))
        }
    }
    let mut body = Map::new();
    for (key, value) in v {
        if key == "name" {
            continue;
        }
        if !PROPERTY_KEYS.contains(&key.as_str()) {
            return Err(invalid(
                what,
                format!("additional property '{key}' is not allowed"),
            ));
        }
        let ok = match key.as_str() {
            "title" | "description" | "pattern" => value.is_string(),
            "readonly" | "uniqueItems" | "additionalItems" => value.is_boolean(),
            "minimum" | "maximum" => value.is_number(),
            "minLength" | "maxLength" | "minItems" | "maxItems" => value.as_u64().is_some(),
            "enum" | "operators" => value
                .as_array()
                .is_some_and(|a| key != "operators" || a.iter().all(Value::is_string)),
            "items" => value.is_object(),
            _ => true,
        };
        if !ok && !value.is_null() {
            return Err(invalid(what, format!("'{key}' has the wrong type")));
        }
        body.insert(key.clone(), value.clone());
    }
    Ok(Value::Object(body))
}

/// An object definition: `description`, `required` (names), `properties`
/// (name → property definition); returns the body stored.
pub fn object_body(v: &Map<String, Value>) -> Result<Value> {
    let what = "object";
    let mut body = Map::new();
    for (key, value) in v {
        match key.as_str() {
            "name" | "created_at" | "updated_at" | "self" | "schema" => {}
            "description" => {
                opt_string(what, key, Some(value), 500)?;
                body.insert(key.clone(), value.clone());
            }
            "required" => {
                let ok = value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string));
                if !ok {
                    return Err(invalid(what, "'required' must be a list of property names"));
                }
                body.insert(key.clone(), value.clone());
            }
            "properties" => {
                let Value::Object(props) = value else {
                    return Err(invalid(what, "'properties' must be an object"));
                };
                let mut out = Map::new();
                for (pname, def) in props {
                    let Value::Object(def) = def else {
                        return Err(invalid(
                            what,
                            format!("property '{pname}' must be an object"),
                        ));
                    };
                    out.insert(pname.clone(), property_body(def)?);
                }
                body.insert(key.clone(), Value::Object(out));
            }
            _ => {
                return Err(invalid(
                    what,
                    format!("additional property '{key}' is not allowed"),
                ))
            }
        }
    }
    Ok(Value::Object(body))
}

/// A resource type association from `{"name", "prefix", "properties_target"}`.
pub fn association(v: &Value, now: i64) -> Result<Association> {
    let what = "resource_type_association";
    let Value::Object(m) = v else {
        return Err(invalid(what, "an association must be an object"));
    };
    for key in m.keys() {
        if !matches!(
            key.as_str(),
            "name" | "prefix" | "properties_target" | "created_at" | "updated_at"
        ) {
            return Err(invalid(
                what,
                format!("additional property '{key}' is not allowed"),
            ));
        }
    }
    Ok(Association {
        name: name(what, "name", m.get("name"), 80)?,
        prefix: opt_string(what, "prefix", m.get("prefix"), 80)?,
        properties_target: opt_string(what, "properties_target", m.get("properties_target"), 80)?,
        created_at: now,
        updated_at: now,
    })
}
