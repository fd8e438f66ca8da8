//! `/servers`: create, list, detail, show, update, delete.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{now_micros, parse_iso};
use ferro_api::{AuthContext, BaseUrl};
use serde_json::{json, Value};

use super::common::{
    accepted, links, load_server, marker_not_found, next_link, no_content, ok, page_size, paginate,
    query_get, require_member, Body, Caller, QueryParams,
};
use super::flavors::last;
use super::server_fields as fields;
use super::server_view::{render, render_with, Extras, Shape};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state;
use crate::store::instances::{self, Instance, Summary};
use crate::store::tasks;
use crate::worker::owner_context_of;
use crate::ComputeService;

pub use super::server_create::create;

/// The project a list request is about: the caller's, or for admins with
/// `all_tenants` the one named by `tenant_id`/`project_id`, or all (None).
fn scope(c: &Caller, q: &QueryParams) -> Result<Option<String>> {
    let all_tenants = query_get(q, "all_tenants")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no"));
    Ok(if all_tenants && c.is_admin() {
        query_get(q, "tenant_id")
            .or(query_get(q, "project_id"))
            .map(str::to_owned)
    } else {
        Some(super::common::project_of(c)?)
    })
}

/// Filters that need every candidate row (`select`); without them the
/// database pages the list itself (`page_in_db`).
const ROW_FILTERS: [&str; 13] = [
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
    "changes-before",
    "locked",
    "name",
    "status",
    "image",
    "flavor",
    "changes-since",
    "ip",
    "host",
];

/// The page of a list request without row filters, and the next marker:
/// the same answer `select` + `paginate` give, from the page's rows only.
async fn page_in_db(
    svc: &ComputeService,
    c: &Caller,
    q: &QueryParams,
) -> Result<(Vec<Summary>, Option<String>)> {
    let project = scope(c, q)?;
    let limit = page_size(query_get(q, "limit"), 1000)?;
    let after = match query_get(q, "marker") {
        Some(m) => Some(
            instances::position(svc.db(), project.as_deref(), m)
                .await?
                .ok_or_else(|| marker_not_found(m))?,
        ),
        None => None,
    };
    let ascending = query_get(q, "sort_dir") == Some("asc");
    let mut page = instances::page_summaries(
        svc.db(),
        project.as_deref(),
        after.as_ref(),
        ascending,
        limit + 1,
    )
    .await?;
    let more = page.len() > limit;
    page.truncate(limit);
    let next = if more {
        page.last().map(|i| i.id.clone())
    } else {
        None
    };
    Ok((page, next))
}

/// The servers a list request selects, before paging.
async fn select(svc: &ComputeService, c: &Caller, q: &QueryParams) -> Result<Vec<Summary>> {
    let project = scope(c, q)?;
    let mut list = instances::list_summaries(svc.db(), project.as_deref()).await?;
    if let Some(name) = query_get(q, "name") {
        let re = regex::Regex::new(name)
            .map_err(|_| Error::bad_request(format!("Invalid name regex {name:?}")))?;
        list.retain(|i| re.is_match(&i.name));
    }
    if let Some(st) = query_get(q, "status") {
        let want = st.to_ascii_uppercase();
        list.retain(|i| state::status(&i.vm_state, i.task_state.as_deref()) == want);
    }
    if let Some(img) = query_get(q, "image") {
        let img = super::common::ref_id(img);
        list.retain(|i| i.image_id == img);
    }
    if let Some(fl) = query_get(q, "flavor") {
        let fl = super::common::ref_id(fl);
        list.retain(|i| i.flavor_id == fl);
    }
    if let Some(since) = query_get(q, "changes-since") {
        let t = parse_iso(since)
            .ok_or_else(|| Error::bad_request(format!("Invalid changes-since value {since:?}")))?;
        list.retain(|i| i.updated_at >= t);
    }
    if let Some(ip) = query_get(q, "ip") {
        let re = regex::Regex::new(ip)
            .map_err(|_| Error::bad_request(format!("Invalid ip regex {ip:?}")))?;
        let devices: Vec<(AuthContext, String)> = list
            .iter()
            .map(|i| (owner_context_of(&i.user_id, &i.project_id), i.id.clone()))
            .collect();
        let nets = svc.peers().network.device_networks(&devices).await?;
        let mut keep = Vec::new();
        for (i, net) in list.into_iter().zip(nets) {
            if net
                .ports
                .iter()
                .flat_map(|p| p.fixed_ips.iter())
                .any(|(_, a, _)| re.is_match(a))
            {
                keep.push(i);
            }
        }
        list = keep;
    }
    if let Some(h) = query_get(q, "host") {
        if c.is_admin() {
            list.retain(|i| i.host.as_deref() == Some(h));
        }
    }
    if let Some(before) = query_get(q, "changes-before") {
        let t = parse_iso(before).ok_or_else(|| {
            Error::bad_request(format!("Invalid changes-before value {before:?}"))
        })?;
        list.retain(|i| i.updated_at <= t);
    }
    if let Some(locked) = query_get(q, "locked") {
        let want =
            super::common::parse_bool(&Value::String(locked.to_owned())).ok_or_else(|| {
                Error::bad_request(format!(
                    "Unrecognized value '{locked}', acceptable values are: \
                'false', 'true', 'yes', 'no', 'on', 'off', '1', '0'"
                ))
            })?;
        list.retain(|i| i.locked == want);
    }
    list = filter_by_tags(svc, q, list).await?;
    if query_get(q, "sort_dir") == Some("asc") {
        list.reverse();
    }
    Ok(list)
}

/// The tag filters (2.26): `tags` (all of), `tags-any`, `not-tags` (not all
/// of), `not-tags-any` (none of); each a comma-separated list.
async fn filter_by_tags(
    svc: &ComputeService,
    q: &QueryParams,
    list: Vec<Summary>,
) -> Result<Vec<Summary>> {
    let split = |k: &str| -> Option<Vec<String>> {
        query_get(q, k).map(|v| v.split(',').map(str::to_owned).collect())
    };
    let (all, any, not_all, not_any) = (
        split("tags"),
        split("tags-any"),
        split("not-tags"),
        split("not-tags-any"),
    );
    if all.is_none() && any.is_none() && not_all.is_none() && not_any.is_none() {
        return Ok(list);
    }
    let ids: Vec<String> = list.iter().map(|i| i.id.clone()).collect();
    let tags = crate::store::tags::of_instances(svc.db(), &ids).await?;
    let none = Vec::new();
    Ok(list
        .into_iter()
        .filter(|i| {
            let have = tags.get(&i.id).unwrap_or(&none);
            let has = |t: &String| have.contains(t);
            all.as_ref().is_none_or(|w| w.iter().all(has))
                && any.as_ref().is_none_or(|w| w.iter().any(has))
                && not_all.as_ref().is_none_or(|w| !w.iter().all(has))
                && not_any.as_ref().is_none_or(|w| !w.iter().any(has))
        })
        .collect())
}

async fn listing(
    svc: &ComputeService,
    c: &Caller,
    base: &BaseUrl,
    q: &QueryParams,
    view: Option<Shape>,
) -> Result<Response> {
    let (page, next) = if ROW_FILTERS.iter().all(|f| query_get(q, f).is_none()) {
        page_in_db(svc, c, q).await?
    } else {
        paginate(
            select(svc, c, q).await?,
            |i| &i.id,
            query_get(q, "limit"),
            query_get(q, "marker"),
            1000,
        )?
    };
    let mut items = Vec::with_capacity(page.len());
    match view {
        Some(v) => {
            let ids: Vec<String> = page.iter().map(|i| i.id.clone()).collect();
            let servers = instances::get_many(svc.db(), &ids).await?;
            let extras = Extras::load(svc, &servers, v).await?;
            for i in &servers {
                items.push(render_with(c, i, base, v, &extras));
            }
        }
        None => {
            for i in &page {
                items.push(
                    json!({"id": i.id, "name": i.name, "links": links(base, "servers", &i.id)}),
                );
            }
        }
    }
    let mut body = json!({ "servers": items });
    if let Some(m) = next {
        let path = if view.is_some() {
            "servers/detail"
        } else {
            "servers"
        };
        body["servers_links"] = next_link(base, path, q, &m);
    }
    Ok(ok(body))
}

pub async fn list(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    super::server_query::check(&q, v, c.is_admin())?;
    listing(&svc, &c, &base, &q, None).await
}

pub async fn detail(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    super::server_query::check(&q, v, c.is_admin())?;
    listing(&svc, &c, &base, &q, Some(Shape::detail(v))).await
}

pub async fn show(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
    q: QueryParams,
) -> Result<Response> {
    super::server_query::check_show(&q, v)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(
        json!({"server": render(&svc, &c, &i, &base, Shape::show(v)).await?}),
    ))
}

pub async fn update(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let mut i = load_server(&svc, &c, last(&p)).await?;
    let top = body.object()?;
    fields::only_known(&top, &["server"])?;
    let o = super::common::wrapped(&top, "server")?;
    let mut known = vec!["name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"];
    for (since, key) in [
        ((2, 19), "description"),
        ((2, 90), "hostname"),
        ((2, 104), "pinned_availability_zone"),
    ] {
        if v.at_least(since.0, since.1) {
            known.push(key);
        }
    }
    fields::only_known(&o, &known)?;
    if let Some(n) = o.get("name") {
        i.name = fields::server_name(n)?;
    }
    if let Some(x) = o.get("accessIPv4") {
        i.access_ipv4 = fields::access_ip(x, "accessIPv4", 4)?;
    }
    if let Some(x) = o.get("accessIPv6") {
        i.access_ipv6 = fields::access_ip(x, "accessIPv6", 6)?;
    }
    if let Some(x) = o.get("OS-DCF:diskConfig") {
        i.disk_config = fields::disk_config(x)?;
    }
    if let Some(x) = o.get("description") {
        i.description = fields::description(x)?;
    }
    if let Some(x) = o.get("hostname") {
        i.hostname = fields::hostname(x, v)?;
    }
    if let Some(x) = o.get("pinned_availability_zone") {
        i.pinned_az = repin(&i, x)?;
    }
    instances::update_fields(svc.db(), &i).await?;
    let i = load_server(&svc, &c, &i.id).await?;
    Ok(ok(
        json!({"server": render(&svc, &c, &i, &base, Shape::update(v)).await?}),
    ))
}

/// `pinned_availability_zone` in an update (2.104): null unpins; a zone
/// pins the server to the zone it is in (or keeps the pin it has).
fn repin(i: &Instance, asked: &Value) -> Result<Option<String>> {
    let zone = match asked {
        Value::Null => return Ok(None),
        Value::String(z) => fields::name(asked, "pinned_availability_zone").map(|_| z.clone())?,
        _ => {
            return Err(super::common::invalid(
                "pinned_availability_zone",
                &format!("{asked} is not of type 'string', 'null'"),
            ))
        }
    };
    match &i.pinned_az {
        Some(current) if *current == zone => Ok(Some(zone)),
        Some(_) => Err(Error::conflict(
            "Cannot change pinned availability zone directly. Unpin first by setting \
             pinned_availability_zone to null.",
        )),
        None if zone != i.availability_zone => Err(Error::conflict(format!(
            "Server can only be pinned to its current availability zone '{}', but '{zone}' \
             was requested.",
            i.availability_zone
        ))),
        None => Ok(Some(zone)),
    }
}

pub async fn delete(
    State(svc): State<ComputeService>,
    c: Caller,
    req: super::instance_actions::ReqId,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    if i.locked && !c.is_admin() {
        return Err(Error::conflict(format!("Instance {} is locked", i.id)));
    }
    if i.task_state.as_deref() == Some("deleting") {
        return Ok(no_content());
    }
    instances::set_state(
        svc.db(),
        &i.id,
        &i.vm_state,
        Some("deleting"),
        i.power_state,
    )
    .await?;
    super::instance_actions::record(&svc, &c, &i.id, "delete", &req, false).await?;
    tasks::enqueue(svc.db(), &i.id, "delete", &Value::Null).await?;
    svc.wake_worker();
    let _ = now_micros();
    Ok(no_content())
}

/// 202 with the create answer.
pub fn created(
    ids: &[(String, String)],
    base: &BaseUrl,
    groups: &[String],
    disk_config: &str,
) -> Response {
    let (id, pass) = ids.first().cloned().unwrap_or_default();
    let sg: Vec<Value> = groups.iter().map(|g| json!({"name": g})).collect();
    accepted(json!({"server": {
        "id": id,
        "links": links(base, "servers", &id),
        "OS-DCF:diskConfig": disk_config,
        "security_groups": sg,
        "adminPass": pass,
    }}))
}
