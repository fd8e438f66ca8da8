//! Plumbing shared by the handlers: the caller and its project, query
//! parameters, pagination, field validation and responses.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::response::{IntoResponse, Response};
use ferro_api::error::json_response;
use ferro_api::{AuthContext, BaseUrl, Caller};
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::VolumeService;

pub type Body = ferro_api::JsonBody<Error>;

/// What the project-less form `/v3/volumes/...` is rewritten to.
pub const PROJECTLESS: &str = "_ferro_projectless_";

/// The validated caller, the project it acts in, path and query parameters.
pub struct Ctx {
    pub auth: AuthContext,
    pub project_id: String,
    params: HashMap<String, String>,
    pub query: Vec<(String, String)>,
    pub base: BaseUrl,
    /// The negotiated microversion.
    pub v: ApiVersion,
    /// `X-Openstack-Request-Id` of this request (user messages name it).
    pub request_id: String,
}

impl FromRequestParts<VolumeService> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, svc: &VolumeService) -> Result<Self> {
        let caller = Caller::<Error>::from_request_parts(parts, svc).await?;
        let params: HashMap<String, String> = RawPathParams::from_request_parts(parts, svc)
            .await
            .map(|raw| {
                raw.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let auth = caller.ctx;
        let Some(project_id) = auth.project_id.clone() else {
            return Err(Error::forbidden(
                "A project-scoped token is required for the block-storage API.",
            ));
        };
        if let Some(url_project) = params.get("project_id") {
            if url_project != PROJECTLESS && *url_project != project_id && !auth.is_admin() {
                return Err(Error::bad_request(format!(
                    "Malformed request URL: URL's project_id '{url_project}' doesn't match \
                     Context's project_id '{project_id}'"
                )));
            }
        }
        let query = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let base = match BaseUrl::from_request_parts(parts, svc).await {
            Ok(b) => b,
            Err(never) => match never {},
        };
        let v = parts
            .extensions
            .get::<ApiVersion>()
            .copied()
            .unwrap_or(ApiVersion::new(3, 0));
        let request_id = parts
            .extensions
            .get::<ferro_api::request_id::RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(ferro_api::request_id::new_request_id);
        Ok(Ctx {
            auth,
            project_id,
            params,
            query,
            base,
            v,
            request_id,
        })
    }
}

impl Ctx {
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `self.v >= 3.minor`.
    pub fn at(&self, minor: u32) -> bool {
        self.v.at_least(3, minor)
    }

    /// 404, as Cinder answers a route asked below the version that added it.
    pub fn require_version(&self, minor: u32) -> Result<()> {
        if self.at(minor) {
            Ok(())
        } else {
            Err(Error::not_found("The resource could not be found."))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.auth.is_admin()
    }

    /// Members (and admins) may change things; readers may only look.
    pub fn require_write(&self) -> Result<()> {
        let a = &self.auth;
        if a.is_admin() || a.has_role("member") || a.has_role("_member_") {
            Ok(())
        } else {
            Err(Error::policy())
        }
    }

    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::policy())
        }
    }

    /// Whether the caller may see a resource of `project_id`.
    pub fn sees(&self, project_id: &str) -> bool {
        self.is_admin() || self.project_id == project_id
    }

    /// `all_tenants` asked by an admin: list every project's resources.
    pub fn all_tenants(&self) -> Result<bool> {
        match self.q("all_tenants").or(self.q("all_projects")) {
            None => Ok(false),
            Some(v) => {
                let on = v.is_empty() || parse_bool(v).unwrap_or(true);
                Ok(on && self.is_admin())
            }
        }
    }

    /// A boolean query parameter read as Cinder's `get_bool_param`: absent
    /// is false; otherwise one of its boolean strings (any case) or a 400.
    pub fn bool_param(&self, key: &str) -> Result<bool> {
        match self.q(key) {
            None => Ok(false),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
                "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
                _ => Err(Error::bad_request(format!(
                    "Invalid input received: Value '{v}' for '{key}' is not a boolean."
                ))),
            },
        }
    }

    /// `{base}/v3/{project}/{path}`.
    pub fn url(&self, path: &str) -> String {
        self.base.join(&format!("/v3/{}/{path}", self.project_id))
    }

    /// Cinder's `self` and `bookmark` links for `{collection}/{id}`.
    pub fn links(&self, collection: &str, id: &str) -> Value {
        json!([
            {"href": self.url(&format!("{collection}/{id}")), "rel": "self"},
            {"href": self.base.join(&format!("/{}/{collection}/{id}", self.project_id)),
             "rel": "bookmark"},
        ])
    }
}

// -- responses --------------------------------------------------------------

pub fn ok(value: Value) -> Response {
    json_response(StatusCode::OK, &value)
}

pub fn accepted(value: Value) -> Response {
    json_response(StatusCode::ACCEPTED, &value)
}

pub fn accepted_empty() -> Response {
    StatusCode::ACCEPTED.into_response()
}

pub fn ok_empty() -> Response {
    StatusCode::OK.into_response()
}

// -- input --------------------------------------------------------------------

/// Cinder's boolean strings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "y" | "t" => Some(true),
        "false" | "0" | "off" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

pub fn bool_value(v: &Value, field: &str) -> Result<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        _ => None,
    }
    .ok_or_else(|| Error::bad_request(format!("Invalid value for '{field}': must be a boolean.")))
}

/// The object under `key` in the body (`{"volume": {...}}`).
pub fn wrapped(body: &Body, key: &str) -> Result<Map<String, Value>> {
    let mut obj = body.object()?;
    match obj.remove(key) {
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(Error::bad_request(format!("'{key}' must be an object."))),
        None => Err(Error::bad_request(format!(
            "Missing required element '{key}' in request body."
        ))),
    }
}

/// An optional string field (null allowed) of at most `max` characters.
pub fn opt_string(obj: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}: longer than {max} characters."
        ))),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {key}: must be a string."
        ))),
    }
}

/// A positive integer size in GiB (an integer or a string of digits).
pub fn size_value(v: &Value, field: &str) -> Result<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            s.parse::<i64>().ok()
        }
        _ => None,
    };
    match n {
        Some(n) if (1..=i32::MAX as i64).contains(&n) => Ok(n),
        _ => Err(Error::bad_request(format!(
            "Invalid input for field/attribute {field}. Value: {v}. \
             It must be an integer between 1 and {}.",
            i32::MAX
        ))),
    }
}

/// A metadata object: string keys of 1-255 characters, string values <= 255.
pub fn metadata_value(v: &Value, field: &str) -> Result<Map<String, Value>> {
    let Value::Object(m) = v else {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {field}: must be an object."
        )));
    };
    for (k, val) in m {
        if k.is_empty() || k.chars().count() > 255 {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute {field}: keys must be 1 to 255 characters."
            )));
        }
        match val {
            Value::String(s) if s.chars().count() <= 255 => {}
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input for field/attribute {field}: the value of '{k}' must be a \
                     string of at most 255 characters."
                )))
            }
        }
    }
    Ok(m.clone())
}

/// `metadata` filter in a list query: a JSON object (or Python-dict style).
pub fn metadata_filter(s: &str) -> Result<Map<String, Value>> {
    let parsed = serde_json::from_str::<Value>(s)
        .ok()
        .or_else(|| serde_json::from_str::<Value>(&s.replace('\'', "\"")).ok());
    match parsed {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(Error::bad_request(format!(
            "Invalid filter 'metadata': {s} is not a JSON object."
        ))),
    }
}

// -- pagination ---------------------------------------------------------------

pub struct ListOpts {
    pub offset: usize,
    pub limit: Option<usize>,
    pub marker: Option<String>,
    /// (key, ascending)
    pub sort: Vec<(String, bool)>,
}

fn dir(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "asc" => Ok(true),
        "desc" => Ok(false),
        other => Err(Error::bad_request(format!(
            "Invalid sort direction '{other}': use asc or desc."
        ))),
    }
}

/// `limit`, `marker`, `sort=key:dir,...` or `sort_key`/`sort_dir`.
pub fn list_opts(ctx: &Ctx, keys: &[&str]) -> Result<ListOpts> {
    let limit = match ctx.q("limit") {
        None => None,
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => {
                return Err(Error::bad_request(format!(
                    "Invalid input received: limit must be a non-negative integer, got '{s}'."
                )))
            }
        },
    };
    let mut sort = Vec::new();
    if let Some(s) = ctx.q("sort") {
        if ctx.q("sort_key").is_some() || ctx.q("sort_dir").is_some() {
            return Err(Error::bad_request(
                "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used \
                 with the 'sort' parameter.",
            ));
        }
        for part in s.split(',') {
            let (k, d) = match part.split_once(':') {
                Some((k, d)) => (k.trim(), dir(d)?),
                None => (part.trim(), false),
            };
            sort.push((k.to_owned(), d));
        }
    } else if let Some(k) = ctx.q("sort_key") {
        let d = ctx.q("sort_dir").map(dir).transpose()?.unwrap_or(false);
        sort.push((k.trim().to_owned(), d));
    } else if let Some(d) = ctx.q("sort_dir") {
        sort.push(("created_at".into(), dir(d)?));
    }
    for (k, _) in sort.iter_mut() {
        if k == "display_name" {
            *k = "name".into();
        }
        if !keys.contains(&k.as_str()) {
            return Err(Error::bad_request(format!("Invalid sort key '{k}'.")));
        }
    }
    if !sort.iter().any(|(k, _)| k == "created_at") && sort.is_empty() {
        sort.push(("created_at".into(), false));
    }
    if !sort.iter().any(|(k, _)| k == "id") {
        let last = sort.last().map(|(_, d)| *d).unwrap_or(false);
        sort.push(("id".into(), last));
    }
    let offset = match ctx.q("offset") {
        None => 0,
        Some(s) => s.trim().parse::<usize>().map_err(|_| {
            Error::bad_request(format!(
                "Invalid input received: offset must be a non-negative integer, got '{s}'."
            ))
        })?,
    };
    Ok(ListOpts {
        offset,
        limit,
        marker: ctx.q("marker").map(str::to_owned),
        sort,
    })
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Sort, then cut the page after `marker`. Returns the page and whether a
/// next link is due (the page is full).
pub fn paginate<T>(
    mut items: Vec<T>,
    opts: &ListOpts,
    id: impl Fn(&T) -> &str,
    key: impl Fn(&T, &str) -> Value,
    what: &str,
) -> Result<(Vec<T>, bool)> {
    items.sort_by(|a, b| {
        for (k, asc) in &opts.sort {
            let o = cmp_values(&key(a, k), &key(b, k));
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    if let Some(m) = &opts.marker {
        let Some(pos) = items.iter().position(|x| id(x) == m) else {
            return Err(Error::not_found(format!(
                "Marker {m} could not be found ({what})."
            )));
        };
        items.drain(..=pos);
    }
    items.drain(..opts.offset.min(items.len()));
    match opts.limit {
        Some(l) if items.len() >= l => {
            items.truncate(l);
            Ok((items, l > 0))
        }
        _ => Ok((items, false)),
    }
}

/// `[{"rel": "next", "href": ...}]` for a full page ending at `last_id`.
pub fn next_links(ctx: &Ctx, path: &str, last_id: &str) -> Value {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &ctx.query {
        if k != "marker" {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("marker", last_id);
    json!([{"rel": "next", "href": format!("{}?{}", ctx.url(path), ser.finish())}])
}

/// Body `{key: items}` with `{key}_links` when the page is full.
pub fn collection<T>(
    ctx: &Ctx,
    key: &str,
    path: &str,
    page: &[T],
    more: bool,
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Response {
    counted(ctx, key, path, page, more, None, id, render)
}

/// [`collection`] plus `count` (3.45 `with_count`) when given.
#[allow(clippy::too_many_arguments)]
pub fn counted<T>(
    ctx: &Ctx,
    key: &str,
    path: &str,
    page: &[T],
    more: bool,
    count: Option<usize>,
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Response {
    let mut body = Map::new();
    if let Some(n) = count {
        body.insert("count".to_owned(), json!(n));
    }
    body.insert(key.to_owned(), page.iter().map(render).collect());
    if more {
        if let Some(last) = page.last() {
            body.insert(format!("{key}_links"), next_links(ctx, path, id(last)));
        }
    }
    ok(Value::Object(body))
}

/// Cinder's timestamp format: `2026-01-02T03:04:05.000000`.
pub fn ts(micros: i64) -> Value {
    Value::String(ferro_api::time::iso_naive_micros(micros))
}

pub fn opt_ts(micros: Option<i64>) -> Value {
    micros.map(ts).unwrap_or(Value::Null)
}

/// Reject ids that cannot be stored (NUL bytes, absurd lengths) early.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && !id.contains('\0')
}

impl Ctx {
    /// A context for in-process callers (compute), without an HTTP request.
    pub fn internal(auth: AuthContext) -> Ctx {
        let project_id = auth.project_id.clone().unwrap_or_default();
        Ctx {
            auth,
            project_id,
            params: HashMap::new(),
            query: Vec::new(),
            base: BaseUrl(String::new()),
            v: ApiVersion::new(3, 0),
            request_id: ferro_api::request_id::new_request_id(),
        }
    }
}
