//! `/os-aggregates` (admin only): host aggregates with their metadata and
//! hosts. The `availability_zone` metadata key is the aggregate's zone; a
//! host may not sit in two aggregates of different zones. (The zone is
//! stored and shown here only: the host's services and servers stay in
//! `nova`.)
//!
//! Per microversion, as Nova: 2.41 `uuid` in views; 2.81
//! `POST /os-aggregates/{id}/images` (image cache requests: 202, nothing to
//! cache with the fake driver); 2.102 unknown query parameters refused.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use ferro_api::time::iso_naive_micros;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::common::{invalid, ok, require_admin, wrapped, Body, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::aggregates::{self, Aggregate};
use crate::store::services;
use crate::ComputeService;

fn render(a: &Aggregate, v: ApiVersion, full: bool) -> Value {
    let mut o = json!({
        "id": a.id,
        "name": a.name,
        "availability_zone": a.availability_zone(),
        "created_at": iso_naive_micros(a.created_at),
        "updated_at": a.updated_at.map(iso_naive_micros),
        "deleted_at": null,
        "deleted": false,
    });
    if full {
        o["hosts"] = json!(a.hosts);
        o["metadata"] = Value::Object(a.metadata.clone());
    }
    if v.at_least(2, 41) {
        o["uuid"] = json!(a.uuid);
    }
    json!({ "aggregate": o })
}

fn aggregate_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>().map_err(|_| {
        invalid(
            "id",
            &format!("Invalid id: {raw} (expecting \"id\" to be an integer)"),
        )
    })
}

async fn load(svc: &ComputeService, raw: &str) -> Result<Aggregate> {
    let id = aggregate_id(raw)?;
    aggregates::get(svc.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Aggregate {id} could not be found.")))
}

fn only_keys(o: &Map<String, Value>, what: &str, allowed: &[&str]) -> Result<()> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            what,
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        )),
        None => Ok(()),
    }
}

/// Nova's `name`: 1-255 characters, no leading or trailing whitespace.
fn name_field(o: &Map<String, Value>) -> Result<Option<String>> {
    match o.get("name") {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 255 && s.trim() == s => {
            Ok(Some(s.clone()))
        }
        Some(x) => Err(invalid("name", &format!("{x} is not a valid name"))),
    }
}

/// Nova's `az_name` or null: no `:`, no leading or trailing whitespace.
fn zone_field(o: &Map<String, Value>) -> Result<Option<Option<String>>> {
    match o.get("availability_zone") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s))
            if !s.is_empty() && s.chars().count() <= 255 && s.trim() == s && !s.contains(':') =>
        {
            Ok(Some(Some(s.clone())))
        }
        Some(x) => Err(invalid(
            "availability_zone",
            &format!("{x} is not a valid availability zone name"),
        )),
    }
}

/// The zone `hosts` would have in `a` must agree with every other
/// aggregate holding one of them.
async fn check_zone(svc: &ComputeService, a: &Aggregate, hosts: &[String]) -> Result<bool> {
    let Some(zone) = a.availability_zone() else {
        return Ok(true);
    };
    Ok(aggregates::list(svc.db()).await?.iter().all(|other| {
        other.id == a.id
            || !other.hosts.iter().any(|h| hosts.contains(h))
            || other.availability_zone().is_none_or(|z| z == zone)
    }))
}

fn zone_clash(a: &Aggregate) -> Error {
    Error::conflict(format!(
        "Cannot add host to aggregate {}. Reason: One or more hosts already in availability zone(s) other than {}.",
        a.id,
        a.availability_zone().unwrap_or_default()
    ))
}

pub async fn list_aggregates(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    listing::no_query_from_2_102(v, &q)?;
    require_admin(&c, "os_compute_api:os-aggregates:index")?;
    let items: Vec<Value> = aggregates::list(svc.db())
        .await?
        .iter()
        .map(|a| render(a, v, true)["aggregate"].clone())
        .collect();
    Ok(ok(json!({ "aggregates": items })))
}

pub async fn create_aggregate(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-aggregates:create")?;
    let body = body.object()?;
    only_keys(&body, "body", &["aggregate"])?;
    let o = wrapped(&body, "aggregate")?;
    only_keys(&o, "aggregate", &["name", "availability_zone"])?;
    let name = name_field(&o)?.ok_or_else(|| invalid("name", "'name' is a required property"))?;
    let mut metadata = Map::new();
    if let Some(Some(z)) = zone_field(&o)? {
        if z == "internal" {
            return Err(Error::bad_request(
                "Aggregates may not use the internal availability zone 'internal'.",
            ));
        }
        metadata.insert("availability_zone".into(), json!(z));
    }
    if aggregates::list(svc.db())
        .await?
        .iter()
        .any(|a| a.name == name)
    {
        return Err(Error::conflict(format!("Aggregate {name} already exists.")));
    }
    let a = aggregates::create(svc.db(), &name, &metadata).await?;
    Ok(ok(render(&a, v, false)))
}

pub async fn show_aggregate(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    listing::no_query_from_2_102(v, &q)?;
    require_admin(&c, "os_compute_api:os-aggregates:show")?;
    let a = load(&svc, last(&p)).await?;
    Ok(ok(render(&a, v, true)))
}

pub async fn update_aggregate(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-aggregates:update")?;
    let body = body.object()?;
    only_keys(&body, "body", &["aggregate"])?;
    let o = wrapped(&body, "aggregate")?;
    only_keys(&o, "aggregate", &["name", "availability_zone"])?;
    let (name, zone) = (name_field(&o)?, zone_field(&o)?);
    if name.is_none() && zone.is_none() {
        return Err(invalid(
            "aggregate",
            "'name' or 'availability_zone' is required",
        ));
    }
    let mut a = load(&svc, last(&p)).await?;
    if let Some(n) = name {
        let all = aggregates::list(svc.db()).await?;
        if all.iter().any(|x| x.name == n && x.id != a.id) {
            return Err(Error::conflict(format!("Aggregate {n} already exists.")));
        }
        a.name = n;
    }
    if let Some(z) = zone {
        let before = a.availability_zone().map(str::to_owned);
        set_zone(&mut a, z);
        let what = format!("Cannot update aggregate {}", a.id);
        refuse_zone_move_with_instances(&svc, &a, before.as_deref(), &what).await?;
        if !check_zone(&svc, &a, &a.hosts).await? {
            return Err(Error::bad_request(format!(
                "Cannot update aggregate {}. Reason: One or more hosts already in availability zone(s).",
                a.id
            )));
        }
    }
    a.updated_at = Some(ferro_api::time::now_micros());
    aggregates::save(svc.db(), &a).await?;
    Ok(ok(render(&a, v, true)))
}

/// Nova refuses to move hosts that run instances to another zone (their
/// servers would change zone under their owners): 400 when the aggregate's
/// zone changes and one of its hosts has an instance.
async fn refuse_zone_move_with_instances(
    svc: &ComputeService,
    a: &Aggregate,
    before: Option<&str>,
    what: &str,
) -> Result<()> {
    let after = a.availability_zone();
    if after.is_none() || after == before || a.hosts.is_empty() {
        return Ok(());
    }
    if crate::store::instances::count_on_hosts(svc.db(), &a.hosts).await? > 0 {
        return Err(Error::bad_request(format!(
            "{what}. Reason: One or more hosts contain instances in this zone."
        )));
    }
    Ok(())
}

fn set_zone(a: &mut Aggregate, zone: Option<String>) {
    match zone {
        Some(z) => a.metadata.insert("availability_zone".into(), json!(z)),
        None => a.metadata.remove("availability_zone"),
    };
}

pub async fn delete_aggregate(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-aggregates:delete")?;
    let a = load(&svc, last(&p)).await?;
    if !a.hosts.is_empty() {
        return Err(Error::bad_request(format!(
            "Cannot remove aggregate {}. Reason: Host aggregate is not empty.",
            a.id
        )));
    }
    aggregates::delete(svc.db(), a.id).await?;
    Ok(StatusCode::OK.into_response())
}

/// The `host` of an `add_host` / `remove_host` body.
fn host_of(o: &Map<String, Value>, action: &str) -> Result<String> {
    let inner = wrapped(o, action)?;
    only_keys(&inner, action, &["host"])?;
    // Nova's `fqdn`: letters, digits, '-', '.' and '_', 1 to 255 of them.
    let fqdn = |h: &str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    };
    match inner.get("host") {
        Some(Value::String(h)) if fqdn(h) => Ok(h.clone()),
        Some(x) => Err(invalid("host", &format!("{x} is not a valid host name"))),
        None => Err(invalid("host", "'host' is a required property")),
    }
}

/// The `set_metadata` body: keys `[a-zA-Z0-9-_:. ]{1,255}`, values
/// strings (up to 255) or null (remove).
fn metadata_of(o: &Map<String, Value>) -> Result<Map<String, Value>> {
    let inner = wrapped(o, "set_metadata")?;
    only_keys(&inner, "set_metadata", &["metadata"])?;
    let m = wrapped(&inner, "metadata")?;
    for (k, x) in &m {
        let key_ok = !k.is_empty()
            && k.len() <= 255
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_:. ".contains(&b));
        let value_ok = match x {
            Value::Null => true,
            Value::String(s) => s.chars().count() <= 255,
            _ => false,
        };
        if !key_ok || !value_ok {
            return Err(invalid(
                "metadata",
                &format!("'{k}': {x} is not valid metadata"),
            ));
        }
    }
    Ok(m)
}

/// `add_host`, `remove_host`, `set_metadata`.
pub async fn aggregate_action(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    let o = body.object()?;
    let action =
        match o.keys().next().map(String::as_str) {
            Some(a @ ("add_host" | "remove_host" | "set_metadata")) if o.len() == 1 => a.to_owned(),
            _ => return Err(Error::bad_request(
                "Invalid aggregate action: expected one of add_host, remove_host, set_metadata.",
            )),
        };
    require_admin(&c, &format!("os_compute_api:os-aggregates:{action}"))?;
    let raw = last(&p).to_owned();
    match action.as_str() {
        "set_metadata" => {
            let m = metadata_of(&o)?;
            let mut a = load(&svc, &raw).await?;
            let before = a.availability_zone().map(str::to_owned);
            for (k, x) in m {
                match x {
                    Value::Null => a.metadata.remove(&k),
                    x => a.metadata.insert(k, x),
                };
            }
            let what = format!("Cannot update metadata of aggregate {}", a.id);
            refuse_zone_move_with_instances(&svc, &a, before.as_deref(), &what).await?;
            if !check_zone(&svc, &a, &a.hosts).await? {
                return Err(Error::bad_request(format!(
                    "Cannot update metadata of aggregate {}. Reason: One or more hosts already in availability zone(s).",
                    a.id
                )));
            }
            a.updated_at = Some(ferro_api::time::now_micros());
            aggregates::save(svc.db(), &a).await?;
            Ok(ok(render(&a, v, true)))
        }
        _ => change_host(&svc, v, &raw, &action, &host_of(&o, &action)?).await,
    }
}

async fn change_host(
    svc: &ComputeService,
    v: ApiVersion,
    raw: &str,
    action: &str,
    host: &str,
) -> Result<Response> {
    let mut a = load(svc, raw).await?;
    let id = a.id;
    if action == "add_host" {
        if services::get(svc.db(), host, "nova-compute")
            .await?
            .is_none()
        {
            return Err(Error::not_found(format!(
                "Compute host {host} could not be found."
            )));
        }
        if a.hosts.iter().any(|h| h == host) {
            return Err(Error::conflict(format!(
                "Aggregate {id} already has host {host}."
            )));
        }
        if !check_zone(svc, &a, &[host.to_owned()]).await? {
            return Err(zone_clash(&a));
        }
        a.hosts.push(host.to_owned());
    } else {
        let before = a.hosts.len();
        a.hosts.retain(|h| h != host);
        if a.hosts.len() == before {
            return Err(Error::not_found(format!(
                "Cannot remove host {host} in aggregate {id}"
            )));
        }
    }
    a.updated_at = Some(ferro_api::time::now_micros());
    aggregates::save(svc.db(), &a).await?;
    Ok(ok(render(&a, v, true)))
}

/// `POST /os-aggregates/{id}/images` (2.81): image cache requests.
pub async fn cache_images(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    if !v.at_least(2, 81) {
        return Err(Error::not_found("The resource could not be found."));
    }
    require_admin(&c, "compute:aggregates:images")?;
    let o = body.object()?;
    only_keys(&o, "cache", &["cache"])?;
    let list = match o.get("cache") {
        Some(Value::Array(l)) if !l.is_empty() => l,
        Some(x) => return Err(invalid("cache", &format!("{x} is not a non-empty array"))),
        None => return Err(invalid("cache", "'cache' is a required property")),
    };
    let mut ids = Vec::new();
    for item in list {
        let id = item
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .filter(|s| uuid::Uuid::parse_str(s).is_ok())
            .ok_or_else(|| invalid("cache", &format!("{item} is not {{\"id\": <image uuid>}}")))?;
        if ids.contains(&id) {
            return Err(Error::bad_request("Duplicate images in request"));
        }
        ids.push(id);
    }
    load(&svc, last(&p)).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
