//! A task: asynchronous work on an image (`api_image_import` for the
//! interoperable import, `import` for the legacy task API), and its JSON.

use ferro_api::time::{iso_naive_micros, iso_seconds};
use serde_json::{json, Map, Value};

/// How long a finished task stays listed (Glance's `task_time_to_live`, 48 h).
pub const TIME_TO_LIVE: i64 = 48 * 3600 * 1_000_000;

#[derive(Clone, Debug, Default)]
pub struct Task {
    pub id: String,
    /// `import` or `api_image_import`.
    pub kind: String,
    /// `pending`, `processing`, `success` or `failure`.
    pub status: String,
    pub owner: Option<String>,
    pub image_id: Option<String>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub input: Value,
    pub result: Value,
    pub message: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Task {
    /// `GET /v2/tasks/{id}` and the create answer.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("input".into(), self.input.clone());
        out.insert("type".into(), json!(self.kind));
        out.insert("status".into(), json!(self.status));
        out.insert("owner".into(), json!(self.owner));
        out.insert("message".into(), json!(self.message));
        out.insert("result".into(), self.result.clone());
        out.insert("created_at".into(), json!(iso_seconds(self.created_at)));
        out.insert("updated_at".into(), json!(iso_seconds(self.updated_at)));
        out.insert("self".into(), json!(format!("/v2/tasks/{}", self.id)));
        out.insert("schema".into(), json!("/v2/schemas/task"));
        for (key, value) in [
            ("image_id", &self.image_id),
            ("request_id", &self.request_id),
            ("user_id", &self.user_id),
        ] {
            if let Some(v) = value {
                out.insert(key.into(), json!(v));
            }
        }
        if let Some(at) = self.expires_at {
            out.insert("expires_at".into(), json!(iso_seconds(at)));
        }
        Value::Object(out)
    }

    /// An entry of `GET /v2/tasks`: no input, result or message.
    pub fn to_stub_json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "type": self.kind,
            "status": self.status,
            "owner": self.owner,
            "created_at": iso_seconds(self.created_at),
            "updated_at": iso_seconds(self.updated_at),
            "self": format!("/v2/tasks/{}", self.id),
            "schema": "/v2/schemas/task",
        });
        if let (Some(at), Value::Object(m)) = (self.expires_at, &mut out) {
            m.insert("expires_at".into(), json!(iso_seconds(at)));
        }
        out
    }

    /// An entry of `GET /v2/images/{id}/tasks`: the task's database record
    /// as Glance returns it (every column, naive timestamps).
    pub fn to_image_task_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "status": self.status,
            "owner": self.owner,
            "expires_at": self.expires_at.map(iso_naive_micros),
            "created_at": iso_naive_micros(self.created_at),
            "updated_at": iso_naive_micros(self.updated_at),
            "deleted_at": null,
            "deleted": false,
            "image_id": self.image_id,
            "request_id": self.request_id,
            "user_id": self.user_id,
            "input": self.input,
            "result": self.result,
            "message": self.message,
        })
    }

    /// Whether the task has finished (either way).
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "success" | "failure")
    }
}
