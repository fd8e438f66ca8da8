//! `/flavors`: list, detail, show, create, update (2.55), delete.
//!
//! Per microversion, as Nova's view and schemas: 2.55 `description`
//! (create, `PUT`, every view); 2.61 `extra_specs` in detailed views; 2.75
//! `swap` is `0` (not `""`) when unset and unknown query parameters are
//! refused; 2.102 a `name` filter (a regular expression), and no
//! `rxtx_factor` / `OS-FLV-DISABLED:disabled` in views nor in create.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use regex::Regex;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, links, ok, query_get, require_admin, wrapped};
use super::common::{Body, Caller, QueryParams};
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::flavors::{self, Flavor};
use crate::ComputeService;

/// The detailed view of a flavor at `v` (`extra_specs` from 2.61).
pub fn render_detail(f: &Flavor, base: &BaseUrl, v: ApiVersion) -> Value {
    let swap = match (f.swap, v.at_least(2, 75)) {
        (0, false) => json!(""),
        (n, _) => json!(n),
    };
    let mut o = json!({
        "id": f.id,
        "name": f.name,
        "ram": f.ram,
        "vcpus": f.vcpus,
        "disk": f.disk,
        "swap": swap,
        "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
        "os-flavor-access:is_public": f.is_public,
        "links": links(base, "flavors", &f.id),
    });
    if !v.at_least(2, 102) {
        o["OS-FLV-DISABLED:disabled"] = json!(f.disabled);
        o["rxtx_factor"] = json!(f.rxtx_factor);
    }
    if v.at_least(2, 55) {
        o["description"] = json!(f.description);
    }
    if v.at_least(2, 61) {
        o["extra_specs"] = Value::Object(f.extra_specs.clone());
    }
    o
}

fn render_basic(f: &Flavor, base: &BaseUrl, v: ApiVersion) -> Value {
    let mut o = json!({"id": f.id, "name": f.name, "links": links(base, "flavors", &f.id)});
    if v.at_least(2, 55) {
        o["description"] = json!(f.description);
    }
    o
}

const SORT_KEYS: &[&str] = &[
    "created_at",
    "description",
    "disabled",
    "ephemeral_gb",
    "flavorid",
    "id",
    "is_public",
    "memory_mb",
    "name",
    "root_gb",
    "rxtx_factor",
    "swap",
    "updated_at",
    "vcpu_weight",
    "vcpus",
];

fn check_query(v: ApiVersion, q: &QueryParams) -> Result<()> {
    let mut allowed = vec![
        "limit",
        "marker",
        "is_public",
        "minRam",
        "minDisk",
        "sort_key",
        "sort_dir",
    ];
    if v.at_least(2, 102) {
        allowed.push("name");
    }
    if v.at_least(2, 75) {
        listing::only_params(q, &allowed)?;
    }
    if let Some(k) = query_get(q, "sort_key") {
        if !SORT_KEYS.contains(&k) || (k == "rxtx_factor" && v.at_least(2, 102)) {
            return Err(invalid(
                "sort_key",
                &format!("'{k}' is not a valid sort key"),
            ));
        }
    }
    if let Some(d) = query_get(q, "sort_dir") {
        if d != "asc" && d != "desc" {
            return Err(invalid(
                "sort_dir",
                &format!("'{d}' is not one of ['asc', 'desc']"),
            ));
        }
    }
    Ok(())
}

/// Nova's `_parse_is_public`: absent → public only, `none` → all.
fn parse_is_public(q: &QueryParams) -> Result<Option<bool>> {
    let Some(raw) = query_get(q, "is_public") else {
        return Ok(Some(true));
    };
    match raw.to_ascii_lowercase().as_str() {
        "none" => Ok(None),
        "true" | "t" | "1" | "on" | "y" | "yes" => Ok(Some(true)),
        "false" | "f" | "0" | "off" | "n" | "no" => Ok(Some(false)),
        _ => Err(Error::bad_request(format!(
            "Invalid is_public filter [{raw}]"
        ))),
    }
}

fn min_filter(q: &QueryParams, key: &str) -> Result<Option<i64>> {
    query_get(q, key)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| Error::bad_request(format!("Invalid {key} filter [{s}]")))
        })
        .transpose()
}

/// Nova's `sort_key` (default `flavorid`, a string column: "42" comes
/// before "5"), ties broken by flavor id.
fn sort(list: &mut [Flavor], key: &str, desc: bool) {
    list.sort_by(|a, b| {
        let o = match key {
            "name" => a.name.cmp(&b.name),
            "memory_mb" => a.ram.cmp(&b.ram),
            "root_gb" => a.disk.cmp(&b.disk),
            "vcpus" => a.vcpus.cmp(&b.vcpus),
            "ephemeral_gb" => a.ephemeral.cmp(&b.ephemeral),
            "swap" => a.swap.cmp(&b.swap),
            "is_public" => a.is_public.cmp(&b.is_public),
            "disabled" => a.disabled.cmp(&b.disabled),
            "description" => a.description.cmp(&b.description),
            "rxtx_factor" => a.rxtx_factor.total_cmp(&b.rxtx_factor),
            _ => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.id.cmp(&b.id));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
}

/// The flavors a list shows, filtered and sorted as Nova's `_get_flavors`.
async fn visible(
    svc: &ComputeService,
    ctx: &ferro_api::AuthContext,
    v: ApiVersion,
    q: &QueryParams,
) -> Result<Vec<Flavor>> {
    check_query(v, q)?;
    // Only admins choose; everyone else sees public (and shared) flavors
    // that are not disabled.
    let is_public = if ctx.is_admin() {
        parse_is_public(q)?
    } else {
        Some(true)
    };
    let min_ram = min_filter(q, "minRam")?;
    let min_disk = min_filter(q, "minDisk")?;
    let name = match query_get(q, "name").filter(|_| v.at_least(2, 102)) {
        Some(n) => {
            Some(Regex::new(n).map_err(|_| invalid("name", "is not a valid regular expression"))?)
        }
        None => None,
    };
    let project = ctx.project_id.clone().unwrap_or_default();
    let mut out = Vec::new();
    for f in flavors::list(svc.db()).await? {
        let wanted = match is_public {
            None => true,
            Some(false) => !f.is_public,
            Some(true) => f.is_public || flavors::access(svc.db(), &f.id).await?.contains(&project),
        };
        let keep = wanted
            && (ctx.is_admin() || !f.disabled)
            && min_ram.is_none_or(|r| f.ram >= r)
            && min_disk.is_none_or(|d| f.disk >= d)
            && name.as_ref().is_none_or(|re| re.is_match(&f.name));
        if keep {
            out.push(f);
        }
    }
    let key = query_get(q, "sort_key").unwrap_or("flavorid");
    sort(&mut out, key, query_get(q, "sort_dir") == Some("desc"));
    Ok(out)
}

async fn listing(
    svc: &ComputeService,
    c: &Caller,
    v: ApiVersion,
    base: &BaseUrl,
    q: &QueryParams,
    detail: bool,
) -> Result<Response> {
    let all = visible(svc, c, v, q).await?;
    let (page, next) = listing::page(all, |f| f.id.clone(), q)?;
    let items: Vec<Value> = page
        .iter()
        .map(|f| {
            if detail {
                render_detail(f, base, v)
            } else {
                render_basic(f, base, v)
            }
        })
        .collect();
    let mut body = json!({ "flavors": items });
    let path = if detail { "flavors/detail" } else { "flavors" };
    listing::add_links(&mut body, "flavors_links", base, path, q, next);
    Ok(ok(body))
}

pub async fn list(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, v, &base, &q, false).await
}

pub async fn detail(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, v, &base, &q, true).await
}

pub async fn load(svc: &ComputeService, id: &str) -> Result<Flavor> {
    flavors::get(svc.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Flavor {id} could not be found.")))
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    _c: Caller,
    base: BaseUrl,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 102) {
        listing::only_params(&q, &[])?;
    }
    let f = load(&svc, last(&p)).await?;
    Ok(ok(json!({"flavor": render_detail(&f, &base, v)})))
}

/// The last path parameter (routes may carry a project id first).
pub fn last(p: &[String]) -> &str {
    p.last().map(String::as_str).unwrap_or_default()
}

/// Nova's flavor id pattern: letters, digits, `.`, `_`, `-` and inner spaces.
fn valid_flavor_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ' ' | '_' | '-'))
}

fn int_field(
    o: &Map<String, Value>,
    key: &str,
    min: i64,
    required: bool,
    default: i64,
) -> Result<i64> {
    match o.get(key) {
        None if !required => Ok(default),
        None => Err(invalid(key, &format!("'{key}' is a required property"))),
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| {
                    v.as_str()
                        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|s| s.parse().ok())
                })
                .ok_or_else(|| invalid(key, &format!("{v} is not of type 'integer', 'string'")))?;
            if n < min || n > i64::from(i32::MAX) {
                return Err(invalid(key, &format!("{n} is out of range")));
            }
            Ok(n)
        }
    }
}

/// Nova's `description` of a flavor: null or up to 65535 printable chars.
fn description(o: &Map<String, Value>) -> Result<Option<String>> {
    match o.get("description") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 65535 && !s.chars().any(|c| c.is_control() && !"\n\r\t".contains(c)) => {
            Ok(Some(s.clone()))
        }
        Some(other) => Err(invalid(
            "description",
            &format!("{other} is not a valid description (a string of at most 65535 printable characters, or null)"),
        )),
    }
}

fn name_field(o: &Map<String, Value>) -> Result<String> {
    match o.get("name") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 255 && s.trim() == s => {
            Ok(s.clone())
        }
        None => Err(invalid("name", "'name' is a required property")),
        _ => Err(invalid(
            "name",
            "must be a string of 1-255 characters without leading or trailing whitespace",
        )),
    }
}

fn check_keys(o: &Map<String, Value>, v: ApiVersion) -> Result<()> {
    let mut allowed = vec![
        "name",
        "id",
        "ram",
        "vcpus",
        "disk",
        "OS-FLV-EXT-DATA:ephemeral",
        "swap",
        "os-flavor-access:is_public",
    ];
    if !v.at_least(2, 102) {
        allowed.push("rxtx_factor");
    }
    if v.at_least(2, 55) {
        allowed.push("description");
    }
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            "flavor",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        )),
        None => Ok(()),
    }
}

fn parse_create(o: &Map<String, Value>, v: ApiVersion) -> Result<Flavor> {
    check_keys(o, v)?;
    let name = name_field(o)?;
    let id = match o.get("id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(s)) if valid_flavor_id(s) => s.clone(),
        // Nova accepts a number too and stores it as its decimal string.
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(v) => return Err(invalid("id", &format!("{v} is not a valid flavor id"))),
    };
    let rxtx = match o.get("rxtx_factor") {
        None => 1.0,
        Some(v) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|x| *x > 0.0 && *x <= 3.40282e38)
            .ok_or_else(|| invalid("rxtx_factor", "must be a positive number"))?,
    };
    let is_public = match o.get("os-flavor-access:is_public") {
        None => true,
        Some(x) => super::common::parse_bool(x).ok_or_else(|| {
            invalid(
                "os-flavor-access:is_public",
                &format!("{x} is not of type 'boolean'"),
            )
        })?,
    };
    Ok(Flavor {
        id,
        name,
        ram: int_field(o, "ram", 1, true, 0)?,
        vcpus: int_field(o, "vcpus", 1, true, 0)?,
        disk: int_field(o, "disk", 0, true, 0)?,
        ephemeral: int_field(o, "OS-FLV-EXT-DATA:ephemeral", 0, false, 0)?,
        swap: int_field(o, "swap", 0, false, 0)?,
        rxtx_factor: rxtx,
        is_public,
        disabled: false,
        description: if v.at_least(2, 55) {
            description(o)?
        } else {
            None
        },
        extra_specs: Map::new(),
    })
}

pub async fn create(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-manage:create")?;
    let f = parse_create(&wrapped(&body.object()?, "flavor")?, v)?;
    let all = flavors::list(svc.db()).await?;
    if let Some(x) = all.iter().find(|x| x.id == f.id || x.name == f.name) {
        return Err(Error::conflict(if x.id == f.id {
            format!("Flavor with ID {} already exists.", f.id)
        } else {
            format!("Flavor with name {} already exists.", f.name)
        }));
    }
    flavors::create(svc.db(), &f).await?;
    Ok(ok(json!({"flavor": render_detail(&f, &base, v)})))
}

/// `PUT /flavors/{id}` (2.55): only the description changes.
pub async fn update(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    if !v.at_least(2, 55) {
        return Err(Error::not_found("The resource could not be found."));
    }
    require_admin(&c, "os_compute_api:os-flavor-manage:update")?;
    let o = wrapped(&body.object()?, "flavor")?;
    if let Some(k) = o.keys().find(|k| *k != "description") {
        return Err(invalid(
            "flavor",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    if !o.contains_key("description") {
        return Err(invalid(
            "description",
            "'description' is a required property",
        ));
    }
    let d = description(&o)?;
    let mut f = load(&svc, last(&p)).await?;
    flavors::set_description(svc.db(), &f.id, d.as_deref()).await?;
    f.description = d;
    Ok(ok(json!({"flavor": render_detail(&f, &base, v)})))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-manage:delete")?;
    let id = last(&p);
    if !flavors::delete(svc.db(), id).await? {
        return Err(Error::not_found(format!("Flavor {id} could not be found.")));
    }
    Ok(accepted_empty())
}
