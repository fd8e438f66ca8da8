//! `os-security-groups` and `os-security-group-rules`: Neutron's security
//! groups in Nova's old view (only ingress rules; `from_port`/`to_port`,
//! `ip_range`/`group`).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use ferro_api::loopback::RestRequest;
use ferro_api::request_id::TrailingSlash;
use ferro_api::services::{SecurityGroupInfo, SecurityGroupRuleInfo};
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::{call, call_ok, enc, proxy_gone, section};
use crate::api::common::{accepted_empty, ok, query_get, Body, Caller, QueryParams};
use crate::api::flavors::last;
use crate::api::server_security_groups::render_group;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

const GROUPS: &str = "/networking/v2.0/security-groups";
const RULES: &str = "/networking/v2.0/security-group-rules";

/// A Neutron group (JSON) as the shared compute type.
fn group_info(g: &Value) -> SecurityGroupInfo {
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let rules = g
        .get("security_group_rules")
        .and_then(Value::as_array)
        .map(|rs| rs.iter().map(rule_info).collect())
        .unwrap_or_default();
    SecurityGroupInfo {
        id: s(g, "id"),
        name: s(g, "name"),
        description: s(g, "description"),
        project_id: s(g, "project_id"),
        rules,
    }
}

fn rule_info(r: &Value) -> SecurityGroupRuleInfo {
    let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
    SecurityGroupRuleInfo {
        id: s("id").unwrap_or_default(),
        direction: s("direction").unwrap_or_default(),
        ethertype: s("ethertype").unwrap_or_default(),
        protocol: s("protocol"),
        port_range_min: r.get("port_range_min").and_then(Value::as_i64),
        port_range_max: r.get("port_range_max").and_then(Value::as_i64),
        remote_ip_prefix: s("remote_ip_prefix"),
        remote_group_id: s("remote_group_id"),
    }
}

/// `{"name", "tenant_id"}` of each group id, for rules naming a remote group.
async fn remote_names(
    svc: &ComputeService,
    c: &Caller,
    groups: &[SecurityGroupInfo],
) -> Result<HashMap<String, Value>> {
    let mut names: HashMap<String, Value> = groups
        .iter()
        .map(|g| {
            (
                g.id.clone(),
                json!({"name": g.name, "tenant_id": g.project_id}),
            )
        })
        .collect();
    for g in groups {
        for id in g.rules.iter().filter_map(|r| r.remote_group_id.as_ref()) {
            if names.contains_key(id) {
                continue;
            }
            let r = call(svc, c, RestRequest::get(format!("{GROUPS}/{id}"))).await?;
            if let Some(other) = r.body.get("security_group").filter(|_| r.is_success()) {
                let other = group_info(other);
                names.insert(
                    id.clone(),
                    json!({"name": other.name, "tenant_id": other.project_id}),
                );
            }
        }
    }
    Ok(names)
}

async fn render_one(svc: &ComputeService, c: &Caller, g: &Value) -> Result<Value> {
    let info = group_info(g);
    let names = remote_names(svc, c, std::slice::from_ref(&info)).await?;
    Ok(render_group(&info, &names))
}

/// Neutron's groups have UUIDs: anything else is refused as Nova does.
fn check_id(id: &str) -> Result<()> {
    let compact: String = id.chars().filter(|c| *c != '-').collect();
    if compact.len() == 32 && compact.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::bad_request("Security group id should be uuid"))
    }
}

/// A group the caller may see, Nova's 404 otherwise.
async fn get_group(svc: &ComputeService, c: &Caller, id: &str) -> Result<Value> {
    check_id(id)?;
    let r = call(svc, c, RestRequest::get(format!("{GROUPS}/{}", enc(id)))).await?;
    if r.status == StatusCode::NOT_FOUND {
        return Err(Error::not_found(format!("Security group {id} not found.")));
    }
    let body = r.ok()?;
    Ok(body.get("security_group").cloned().unwrap_or(Value::Null))
}

/// Nova's checks of a group's `name`/`description`: strings of at most 255
/// characters; a name is not blank.
fn checked(m: &Map<String, Value>, key: &str, required: bool) -> Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) if required => Err(Error::bad_request(format!(
            "Security group {key} is not a string or unicode"
        ))),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            if key == "name" && t.is_empty() {
                return Err(Error::bad_request(
                    "Security group name has a minimum character requirement of 1.",
                ));
            }
            if t.chars().count() > 255 {
                return Err(Error::bad_request(format!(
                    "Security group {key} has more than 255 characters."
                )));
            }
            // Checked stripped, kept as given (Nova does not strip).
            Ok(Some(s.clone()))
        }
        Some(_) => Err(Error::bad_request(format!(
            "Security group {key} is not a string or unicode"
        ))),
    }
}

pub async fn list(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    proxy_gone(v)?;
    super::blank_id(slash.is_some(), "Security group")?;
    let all = c.is_admin() && query_get(&q, "all_tenants").is_some_and(|a| a != "0");
    let path = match (&c.project_id, all) {
        (Some(p), false) => format!("{GROUPS}?project_id={}", enc(p)),
        _ => GROUPS.to_owned(),
    };
    let body = call_ok(&svc, &c, RestRequest::get(path)).await?;
    let mut groups: Vec<SecurityGroupInfo> = body
        .get("security_groups")
        .and_then(Value::as_array)
        .map(|gs| gs.iter().map(group_info).collect())
        .unwrap_or_default();
    groups.sort_by(|a, b| (&a.project_id, &a.name).cmp(&(&b.project_id, &b.name)));
    let page = super::limited(groups, &q)?;
    let names = remote_names(&svc, &c, &page).await?;
    let items: Vec<Value> = page.iter().map(|g| render_group(g, &names)).collect();
    Ok(ok(json!({ "security_groups": items })))
}

pub async fn create(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let body = body.object()?;
    let sg = section(&body, "security_group")?;
    let name = checked(sg, "name", true)?.unwrap_or_default();
    let description = checked(sg, "description", false)?.unwrap_or_default();
    let r = call(
        &svc,
        &c,
        RestRequest::new(Method::POST, GROUPS)
            .json(json!({"security_group": {"name": name, "description": description}})),
    )
    .await?;
    if r.status == StatusCode::CONFLICT {
        // Neutron's quota refusal: Nova's SecurityGroupLimitExceeded.
        return Err(Error::forbidden(r.message()));
    }
    let created = r.ok()?;
    let g = created
        .get("security_group")
        .cloned()
        .unwrap_or(Value::Null);
    Ok(ok(
        json!({ "security_group": render_one(&svc, &c, &g).await? }),
    ))
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let g = get_group(&svc, &c, last(&p)).await?;
    Ok(ok(
        json!({ "security_group": render_one(&svc, &c, &g).await? }),
    ))
}

pub async fn update(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let id = last(&p);
    get_group(&svc, &c, id).await?;
    let body = body.object()?;
    let sg = section(&body, "security_group")?;
    let mut change = Map::new();
    if let Some(n) = checked(sg, "name", false)? {
        change.insert("name".into(), json!(n));
    }
    if let Some(d) = checked(sg, "description", false)? {
        change.insert("description".into(), json!(d));
    }
    let r = call(
        &svc,
        &c,
        RestRequest::new(Method::PUT, format!("{GROUPS}/{}", enc(id)))
            .json(json!({ "security_group": change })),
    )
    .await?;
    if r.status == StatusCode::CONFLICT {
        return Err(Error::bad_request(r.message()));
    }
    let updated = r.ok()?;
    let g = updated
        .get("security_group")
        .cloned()
        .unwrap_or(Value::Null);
    Ok(ok(
        json!({ "security_group": render_one(&svc, &c, &g).await? }),
    ))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let id = last(&p);
    get_group(&svc, &c, id).await?;
    let r = call(
        &svc,
        &c,
        RestRequest::new(Method::DELETE, format!("{GROUPS}/{}", enc(id))),
    )
    .await?;
    match r.status {
        // The default group, or one in use: Nova's "Invalid" (400).
        StatusCode::CONFLICT => Err(Error::bad_request(r.message())),
        StatusCode::NOT_FOUND => Err(Error::not_found(format!("Security group {id} not found."))),
        _ => {
            r.ok()?;
            Ok(accepted_empty())
        }
    }
}

/// A port (`from_port`/`to_port`): an integer or a string of one.
fn port_value(m: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::bad_request(format!("Invalid port range {key}: {n}"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::bad_request(format!("Invalid port range {key}: {s}"))),
        Some(other) => Err(Error::bad_request(format!(
            "Invalid port range {key}: {other}"
        ))),
    }
}

/// The Neutron rule a Nova rule request stands for (always ingress).
fn neutron_rule(parent: &str, r: &Map<String, Value>) -> Result<Map<String, Value>> {
    let proto = match r.get("ip_protocol") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.to_ascii_lowercase()),
        Some(other) => return Err(Error::bad_request(format!("Invalid IP protocol {other}."))),
    };
    let from = port_value(r, "from_port")?;
    let to = port_value(r, "to_port")?;
    let mut out = Map::new();
    out.insert("security_group_id".into(), json!(parent));
    out.insert("direction".into(), json!("ingress"));
    match (&proto, from, to) {
        (None, None, None) => {}
        (Some(p), Some(from), Some(to)) => {
            match p.as_str() {
                "tcp" | "udp" => {
                    if from > to {
                        return Err(Error::bad_request(format!(
                            "Invalid port range {from}:{to}. Former value cannot be greater than the later"
                        )));
                    }
                    if from < 1 || to > 65535 {
                        return Err(Error::bad_request(format!(
                            "Invalid port range {from}:{to}. Valid {} ports should be between 1-65535",
                            p.to_ascii_uppercase()
                        )));
                    }
                    out.insert("port_range_min".into(), json!(from));
                    out.insert("port_range_max".into(), json!(to));
                }
                "icmp" => {
                    if !(-1..=255).contains(&from) || !(-1..=255).contains(&to) {
                        return Err(Error::bad_request(format!(
                            "Invalid port range {from}:{to}. For ICMP, the type:code must be valid"
                        )));
                    }
                    if from != -1 {
                        out.insert("port_range_min".into(), json!(from));
                        if to != -1 {
                            out.insert("port_range_max".into(), json!(to));
                        }
                    }
                }
                other => return Err(Error::bad_request(format!("Invalid IP protocol {other}."))),
            }
            out.insert("protocol".into(), json!(p));
        }
        _ => {
            return Err(Error::bad_request(
                "Not enough parameters to build a valid rule.",
            ))
        }
    }
    match (r.get("group_id"), r.get("cidr")) {
        (Some(Value::String(g)), _) if !g.is_empty() => {
            out.insert("remote_group_id".into(), json!(g));
            out.insert("ethertype".into(), json!("IPv4"));
        }
        (_, Some(Value::String(cidr))) if !cidr.is_empty() => {
            let (net, bits) = cidr
                .split_once('/')
                .ok_or_else(|| Error::bad_request(format!("Invalid cidr {cidr}.")))?;
            let addr: std::net::IpAddr = net
                .parse()
                .map_err(|_| Error::bad_request(format!("Invalid cidr {cidr}.")))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let len: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| Error::bad_request(format!("Invalid cidr {cidr}.")))?;
            if len == 0 && !addr.is_unspecified() {
                return Err(Error::bad_request(format!(
                    "Bad prefix for network in cidr {cidr}"
                )));
            }
            out.insert("remote_ip_prefix".into(), json!(cidr));
            out.insert(
                "ethertype".into(),
                json!(if addr.is_ipv4() { "IPv4" } else { "IPv6" }),
            );
        }
        _ => {
            out.insert("remote_ip_prefix".into(), json!("0.0.0.0/0"));
            out.insert("ethertype".into(), json!("IPv4"));
        }
    }
    Ok(out)
}

pub async fn create_rule(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    proxy_gone(v)?;
    let body = body.object()?;
    let r = section(&body, "security_group_rule")?;
    let parent = match r.get("parent_group_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Error::bad_request("Security group id should be uuid")),
    };
    get_group(&svc, &c, &parent).await?;
    if let Some(Value::String(g)) = r.get("group_id") {
        if !g.is_empty() {
            get_group(&svc, &c, g).await?;
        }
    }
    let rule = neutron_rule(&parent, r)?;
    let resp = call(
        &svc,
        &c,
        RestRequest::new(Method::POST, RULES).json(json!({ "security_group_rule": rule })),
    )
    .await?;
    let created = match resp.status {
        // A duplicate rule, or the rule quota: Nova answers 400 for the
        // first and 403 for the second.
        StatusCode::CONFLICT if resp.message().to_ascii_lowercase().contains("quota") => {
            return Err(Error::forbidden(resp.message()))
        }
        StatusCode::CONFLICT => return Err(Error::bad_request(resp.message())),
        _ => resp.ok()?,
    };
    let info = rule_info(created.get("security_group_rule").unwrap_or(&Value::Null));
    let group = SecurityGroupInfo {
        id: parent.clone(),
        rules: vec![info],
        ..Default::default()
    };
    let names = remote_names(&svc, &c, std::slice::from_ref(&group)).await?;
    let rendered = render_group(&group, &names);
    let rule = rendered
        .get("rules")
        .and_then(|r| r.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(ok(json!({ "security_group_rule": rule })))
}

pub async fn delete_rule(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let id = last(&p);
    let path = format!("{RULES}/{}", enc(id));
    let r = call(&svc, &c, RestRequest::get(path.clone())).await?;
    if r.status == StatusCode::NOT_FOUND {
        return Err(Error::not_found(format!("Rule ({id}) not found")));
    }
    r.ok()?;
    call_ok(&svc, &c, RestRequest::new(Method::DELETE, path)).await?;
    Ok(accepted_empty())
}

/// `DELETE /os-security-groups/`: a delete without an id (404); without
/// the slash the collection has no DELETE (405).
pub async fn delete_blank(
    v: ApiVersion,
    slash: Option<Extension<TrailingSlash>>,
) -> Result<Response> {
    proxy_gone(v)?;
    super::blank_id(slash.is_some(), "Security group")?;
    Err(crate::error::Error::Common(
        ferro_api::CommonError::MethodNotAllowed(
            "The method is not allowed for this resource.".into(),
        ),
    ))
}
