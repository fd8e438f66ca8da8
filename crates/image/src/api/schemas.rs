//! `/v2/schemas/{image,images,member,members,task,tasks}`: JSON schemas describing
//! the documents this API returns.

use axum::response::Response;
use http::StatusCode;
use serde_json::{json, Value};

use super::common::{json, Ctx};
use crate::model::{CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES};

fn nullable_string(max: u64, description: &str) -> Value {
    json!({"type": ["null", "string"], "maxLength": max, "description": description})
}

fn read_only(ty: Value, description: &str) -> Value {
    json!({"type": ty, "readOnly": true, "description": description})
}

pub fn image_schema() -> Value {
    let mut disk: Vec<Value> = vec![Value::Null];
    disk.extend(DISK_FORMATS.iter().map(|f| json!(f)));
    let mut container: Vec<Value> = vec![Value::Null];
    container.extend(CONTAINER_FORMATS.iter().map(|f| json!(f)));
    json!({
        "name": "image",
        "additionalProperties": {"type": "string"},
        "properties": {
            "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$", "description": "Identifier of the image (a UUID)."},
            "name": nullable_string(255, "Name of the image."),
            "status": read_only(json!("string"), "Status of the image: queued, saving, active, killed, deleted, deactivated, uploading, importing, pending_delete."),
            "visibility": {"type": "string", "enum": VISIBILITIES, "description": "Who may see the image."},
            "protected": {"type": "boolean", "description": "A protected image cannot be deleted."},
            "os_hidden": {"type": "boolean", "description": "Hidden images are left out of default listings."},
            "checksum": read_only(json!(["null", "string"]), "MD5 of the image data."),
            "os_hash_algo": read_only(json!(["null", "string"]), "Algorithm of os_hash_value."),
            "os_hash_value": read_only(json!(["null", "string"]), "Secure hash of the image data."),
            "owner": nullable_string(255, "Project that owns the image."),
            "size": read_only(json!(["null", "integer"]), "Size of the image data in bytes."),
            "virtual_size": read_only(json!(["null", "integer"]), "Virtual size of the image in bytes."),
            "container_format": {"type": ["null", "string"], "enum": container, "description": "Container format of the image."},
            "disk_format": {"type": ["null", "string"], "enum": disk, "description": "Disk format of the image."},
            "created_at": read_only(json!("string"), "When the image was created."),
            "updated_at": read_only(json!("string"), "When the image was last changed."),
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}, "description": "Tags of the image."},
            "min_ram": {"type": "integer", "description": "RAM in MB needed to boot the image."},
            "min_disk": {"type": "integer", "description": "Disk space in GB needed to boot the image."},
            "self": read_only(json!("string"), "Path of this image."),
            "file": read_only(json!("string"), "Path of the image data."),
            "schema": read_only(json!("string"), "Path of this schema."),
        },
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}

pub async fn image(_ctx: Ctx) -> Response {
    json(StatusCode::OK, image_schema())
}

pub async fn images(_ctx: Ctx) -> Response {
    json(
        StatusCode::OK,
        json!({
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": image_schema()},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }),
    )
}

fn member_schema() -> Value {
    json!({
        "name": "member",
        "properties": {
            "image_id": {"type": "string", "description": "The shared image."},
            "member_id": {"type": "string", "description": "The project it is shared with."},
            "status": {"type": "string", "enum": ["pending", "accepted", "rejected"], "description": "The member's answer."},
            "created_at": {"type": "string", "description": "When the member was added."},
            "updated_at": {"type": "string", "description": "When the member last changed."},
            "schema": {"type": "string", "readOnly": true},
        },
    })
}

pub async fn member(_ctx: Ctx) -> Response {
    json(StatusCode::OK, member_schema())
}

pub async fn members(_ctx: Ctx) -> Response {
    json(
        StatusCode::OK,
        json!({
            "name": "members",
            "properties": {
                "members": {"type": "array", "items": member_schema()},
                "schema": {"type": "string"},
            },
            "links": [{"rel": "describedby", "href": "{schema}"}],
        }),
    )
}

fn task_schema() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    json!({
        "name": "task",
        "properties": {
            "id": {"type": "string", "description": "Identifier of the task (a UUID)."},
            "type": {"type": "string", "enum": ["import", "api_image_import", "location_import"],
                     "description": "What the task does."},
            "status": {"type": "string", "enum": ["pending", "processing", "success", "failure"],
                       "description": "Where the task is."},
            "input": {"type": ["null", "object"], "description": "What the task was given."},
            "result": {"type": ["null", "object"], "description": "What the task produced."},
            "owner": text("Project that created the task."),
            "message": text("Why the task failed, when it did."),
            "image_id": text("Image the task works on."),
            "request_id": text("Request that created the task."),
            "user_id": text("User that created the task."),
            "expires_at": {"type": ["null", "string"], "description": "When a finished task is forgotten."},
            "created_at": text("When the task was created."),
            "updated_at": text("When the task last changed."),
            "self": {"type": "string", "readOnly": true},
            "schema": {"type": "string", "readOnly": true},
        },
    })
}

/// `GET /v2/schemas/task`.
pub async fn task(_ctx: Ctx) -> Response {
    json(StatusCode::OK, task_schema())
}

/// `GET /v2/schemas/tasks`.
pub async fn tasks(_ctx: Ctx) -> Response {
    json(
        StatusCode::OK,
        json!({
            "name": "tasks",
            "properties": {
                "tasks": {"type": "array", "items": task_schema()},
                "first": {"type": "string"},
                "next": {"type": "string"},
                "schema": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }),
    )
}
