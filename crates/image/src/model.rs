//! An image, its JSON form, and the rules for the values of its attributes
//! (shared by create and JSON-patch update).

use ferro_api::time::iso_seconds;
use ferro_api::AuthContext;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
pub use crate::task::Task;

pub type Object = Map<String, Value>;

pub const DISK_FORMATS: &[&str] = &[
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
pub const CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];
pub const VISIBILITIES: &[&str] = &["public", "private", "shared", "community"];

/// Attributes the server maintains; setting them is 403 as upstream.
pub const READ_ONLY: &[&str] = &[
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "file",
    "self",
    "schema",
    "direct_url",
    "locations",
    "stores",
];
/// Names Glance reserves outright.
pub const RESERVED: &[&str] = &["deleted", "deleted_at", "location"];

/// Largest value of `min_disk`/`min_ram` (a 32-bit integer upstream).
const MAX_INT: i64 = i32::MAX as i64;

#[derive(Clone, Debug, Default)]
pub struct Image {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub visibility: String,
    pub owner: Option<String>,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub protected: bool,
    pub os_hidden: bool,
    pub properties: Object,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Glance's default `image_property_quota`.
pub const PROPERTY_QUOTA: usize = 128;

impl Image {
    /// Refuse more extra properties than Glance's quota allows (its own
    /// `os_glance*` ones do not count).
    pub fn check_property_quota(&self) -> Result<(), crate::error::Error> {
        let attempted = self
            .properties
            .keys()
            .filter(|k| !k.starts_with("os_glance"))
            .count();
        if attempted > PROPERTY_QUOTA {
            return Err(crate::error::Error::LimitExceeded(format!(
                "The limit has been exceeded on the number of allowed image properties. Attempted: {attempted}, Maximum: {PROPERTY_QUOTA}"
            )));
        }
        Ok(())
    }

    /// Glance's flat image document.
    pub fn to_json(&self) -> Value {
        let mut out = Object::new();
        for (k, v) in &self.properties {
            out.insert(k.clone(), v.clone());
        }
        let core = json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "visibility": self.visibility,
            "protected": self.protected,
            "os_hidden": self.os_hidden,
            "owner": self.owner,
            "disk_format": self.disk_format,
            "container_format": self.container_format,
            "size": self.size,
            "virtual_size": self.virtual_size,
            "checksum": self.checksum,
            "os_hash_algo": self.os_hash_algo,
            "os_hash_value": self.os_hash_value,
            "min_disk": self.min_disk,
            "min_ram": self.min_ram,
            "tags": self.tags,
            "created_at": iso_seconds(self.created_at),
            "updated_at": iso_seconds(self.updated_at),
            "self": format!("/v2/images/{}", self.id),
            "file": format!("/v2/images/{}/file", self.id),
            "schema": "/v2/schemas/image",
        });
        if let Value::Object(core) = core {
            out.extend(core);
        }
        Value::Object(out)
    }

    /// The value of a core attribute or property, for filters and sorting.
    pub fn attr(&self, key: &str) -> Option<Value> {
        match self.to_json() {
            Value::Object(mut m) => m.remove(key).filter(|v| !v.is_null()),
            _ => None,
        }
    }

    pub fn has_attr(&self, key: &str) -> bool {
        is_core(key) || self.properties.contains_key(key)
    }
}

/// Attributes that are part of every image (not extra properties).
pub fn is_core(key: &str) -> bool {
    matches!(
        key,
        "id" | "name"
            | "visibility"
            | "protected"
            | "os_hidden"
            | "owner"
            | "disk_format"
            | "container_format"
            | "min_disk"
            | "min_ram"
            | "tags"
    ) || READ_ONLY.contains(&key)
}

fn bad_type(key: &str, what: &str) -> Error {
    Error::bad_request(format!(
        "Provided object does not match schema 'image': {key}: expected {what}"
    ))
}

fn opt_string(key: &str, v: &Value, max: usize) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= max => Ok(Some(s.clone())),
        Value::String(_) => Err(Error::bad_request(format!(
            "Provided object does not match schema 'image': {key} is longer than {max} characters"
        ))),
        _ => Err(bad_type(key, "a string or null")),
    }
}

fn one_of(key: &str, v: &Value, allowed: &[&str]) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        _ => Err(Error::bad_request(format!(
            "Invalid value for '{key}': {v}. Valid values are: {}",
            allowed.join(", ")
        ))),
    }
}

fn non_negative(key: &str, v: &Value) -> Result<i64> {
    match v.as_i64() {
        Some(n) if (0..=MAX_INT).contains(&n) => Ok(n),
        _ => Err(Error::bad_request(format!(
            "Provided object does not match schema 'image': {key} must be an integer between 0 and {MAX_INT}"
        ))),
    }
}

fn boolean(key: &str, v: &Value) -> Result<bool> {
    v.as_bool().ok_or_else(|| bad_type(key, "a boolean"))
}

/// `tags` as a list of unique strings of at most 255 characters.
pub fn parse_tags(v: &Value) -> Result<Vec<String>> {
    let Value::Array(items) = v else {
        return Err(bad_type("tags", "an array of strings"));
    };
    let mut tags: Vec<String> = Vec::new();
    for item in items {
        let Value::String(t) = item else {
            return Err(bad_type("tags", "an array of strings"));
        };
        check_tag(t)?;
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    Ok(tags)
}

pub fn check_tag(t: &str) -> Result<()> {
    if t.is_empty() || t.chars().count() > 255 {
        return Err(Error::bad_request(
            "Provided object does not match schema 'image': tags: each tag must be 1 to 255 characters",
        ));
    }
    Ok(())
}

/// Refuse names the caller may not set at all.
pub fn check_settable(key: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > 255 {
        return Err(Error::bad_request(
            "Property names must be 1 to 255 characters long",
        ));
    }
    if READ_ONLY.contains(&key) {
        return Err(Error::read_only(key));
    }
    if RESERVED.contains(&key) || key.starts_with("os_glance") {
        return Err(Error::forbidden(format!("Attribute '{key}' is reserved.")));
    }
    Ok(())
}

/// Set attribute `key` of `img` to `value` (create and patch `add`/`replace`).
pub fn set_attr(img: &mut Image, ctx: &AuthContext, key: &str, value: &Value) -> Result<()> {
    check_settable(key)?;
    match key {
        "id" => return Err(Error::read_only("id")),
        "name" => img.name = opt_string(key, value, 255)?,
        "visibility" => {
            let v = one_of(key, value, VISIBILITIES)?
                .ok_or_else(|| bad_type(key, "one of public, private, shared, community"))?;
            if v == "public" && !ctx.is_admin() && img.visibility != "public" {
                return Err(Error::forbidden(
                    "You are not authorized to publicize images: only an admin may set visibility 'public'.",
                ));
            }
            img.visibility = v;
        }
        "protected" => img.protected = boolean(key, value)?,
        "os_hidden" => img.os_hidden = boolean(key, value)?,
        "min_disk" => img.min_disk = non_negative(key, value)?,
        "min_ram" => img.min_ram = non_negative(key, value)?,
        "disk_format" => img.disk_format = one_of(key, value, DISK_FORMATS)?,
        "container_format" => img.container_format = one_of(key, value, CONTAINER_FORMATS)?,
        "tags" => img.tags = parse_tags(value)?,
        "owner" => {
            let owner = opt_string(key, value, 255)?;
            if !ctx.is_admin() && owner != ctx.project_id {
                return Err(Error::forbidden(
                    "You are not permitted to set the owner of an image to another project.",
                ));
            }
            img.owner = owner;
        }
        _ => match value {
            Value::String(s) if s.chars().count() <= 65535 => {
                img.properties.insert(key.to_owned(), value.clone());
                let _ = s;
            }
            _ => {
                return Err(Error::bad_request(format!(
                    "Provided object does not match schema 'image': additional property '{key}' must be a string"
                )))
            }
        },
    }
    Ok(())
}

/// Remove attribute `key` (patch `remove`).
pub fn remove_attr(img: &mut Image, key: &str) -> Result<()> {
    check_settable(key)?;
    if is_core(key) {
        return Err(Error::forbidden(format!(
            "Property '{key}' is a core attribute and cannot be removed."
        )));
    }
    if img.properties.remove(key).is_none() {
        return Err(Error::conflict(format!("Property {key} does not exist.")));
    }
    Ok(())
}

/// Whether `s` is a UUID (Glance accepts caller-chosen ids in that form).
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}
