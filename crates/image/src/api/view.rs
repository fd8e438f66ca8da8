//! The image list body serialised straight from the rows (no `Value` per
//! image): the same document as [`Image::to_json`].

use ferro_api::time::iso_seconds;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::model::Image;

/// The core attributes; a property of the same name is hidden by them.
const CORE: &[&str] = &[
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "min_disk",
    "min_ram",
    "tags",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
];

pub struct ImageView<'a>(pub &'a Image);

impl Serialize for ImageView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &i.properties {
            if !CORE.contains(&k.as_str()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.serialize_entry("id", &i.id)?;
        m.serialize_entry("name", &i.name)?;
        m.serialize_entry("status", &i.status)?;
        m.serialize_entry("visibility", &i.visibility)?;
        m.serialize_entry("protected", &i.protected)?;
        m.serialize_entry("os_hidden", &i.os_hidden)?;
        m.serialize_entry("owner", &i.owner)?;
        m.serialize_entry("disk_format", &i.disk_format)?;
        m.serialize_entry("container_format", &i.container_format)?;
        m.serialize_entry("size", &i.size)?;
        m.serialize_entry("virtual_size", &i.virtual_size)?;
        m.serialize_entry("checksum", &i.checksum)?;
        m.serialize_entry("os_hash_algo", &i.os_hash_algo)?;
        m.serialize_entry("os_hash_value", &i.os_hash_value)?;
        m.serialize_entry("min_disk", &i.min_disk)?;
        m.serialize_entry("min_ram", &i.min_ram)?;
        m.serialize_entry("tags", &i.tags)?;
        m.serialize_entry("created_at", &iso_seconds(i.created_at))?;
        m.serialize_entry("updated_at", &iso_seconds(i.updated_at))?;
        m.serialize_entry("self", &format!("/v2/images/{}", i.id))?;
        m.serialize_entry("file", &format!("/v2/images/{}/file", i.id))?;
        m.serialize_entry("schema", "/v2/schemas/image")?;
        m.end()
    }
}

/// `GET /v2/images`: `images`, `first`, `schema` and `next` when given.
#[derive(serde::Serialize)]
pub struct ListBody<'a> {
    pub images: Vec<ImageView<'a>>,
    pub first: String,
    pub schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
