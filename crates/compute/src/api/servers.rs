//! `/servers`: create, list, detail, show, update, delete.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::DeviceNetwork;
use ferro_api::time::{iso_naive_micros, iso_seconds, now_micros, parse_iso};
use ferro_api::{AuthContext, BaseUrl};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha224};

use super::common::{
    accepted, bookmark, links, load_server, marker_not_found, next_link, no_content, ok, page_size,
    paginate, query_get, require_member, Body, Caller, QueryParams,
};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::state;
use crate::store::instances::{self, Instance, Summary};
use crate::store::{attachments, tasks};
use crate::worker::{owner_context, owner_context_of};
use crate::ComputeService;

pub use super::server_create::create;

/// How much of a server to show: `Basic` for update/rebuild answers,
/// `Detail` for show and `/servers/detail`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum View {
    Basic,
    Detail,
}

fn host_id(i: &Instance) -> String {
    match &i.host {
        Some(h) => {
            let digest = Sha224::digest(format!("{}{h}", i.project_id).as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        }
        None => String::new(),
    }
}

/// What a server's view needs besides its row: its ports and their security
/// groups' names (from the network service) and, for the detail view, the
/// volumes attached to it. Read once for a whole page of servers.
pub struct Extras {
    net: HashMap<String, DeviceNetwork>,
    volumes: HashMap<String, Vec<String>>,
}

impl Extras {
    pub async fn load(svc: &ComputeService, servers: &[Instance], view: View) -> Result<Extras> {
        let devices: Vec<(AuthContext, String)> = servers
            .iter()
            .map(|i| (owner_context(i), i.id.clone()))
            .collect();
        let nets = svc.peers().network.device_networks(&devices).await?;
        let ids: Vec<String> = devices.into_iter().map(|(_, id)| id).collect();
        let volumes = match view {
            View::Detail => attachments::volumes_of_instances(svc.db(), &ids).await?,
            View::Basic => HashMap::new(),
        };
        Ok(Extras {
            net: ids.into_iter().zip(nets).collect(),
            volumes,
        })
    }
}

/// `{"net-name": [{"version", "addr", ...}]}` from the server's ports.
fn addresses(net: Option<&DeviceNetwork>, view: View) -> Value {
    let mut out = Map::new();
    for p in net.map_or(&[][..], |n| &n.ports) {
        let entry = out
            .entry(p.network_name.clone())
            .or_insert_with(|| json!([]));
        let Some(list) = entry.as_array_mut() else {
            continue;
        };
        let mut push = |version: u8, addr: &str, kind: &str| {
            let mut a = json!({"version": version, "addr": addr});
            if view == View::Detail {
                a["OS-EXT-IPS:type"] = json!(kind);
                a["OS-EXT-IPS-MAC:mac_addr"] = json!(p.mac_address);
            }
            list.push(a);
        };
        for (_, ip, v) in &p.fixed_ips {
            push(*v, ip, "fixed");
        }
        for fip in &p.floating_ips {
            push(4, fip, "floating");
        }
    }
    Value::Object(out)
}

/// One server's view, reading what it needs besides the row.
pub async fn render(
    svc: &ComputeService,
    ctx: &AuthContext,
    i: &Instance,
    base: &BaseUrl,
    view: View,
) -> Result<Value> {
    let extras = Extras::load(svc, std::slice::from_ref(i), view).await?;
    Ok(render_with(ctx, i, base, view, &extras))
}

/// A server's view from its row and the page's [`Extras`].
pub fn render_with(
    ctx: &AuthContext,
    i: &Instance,
    base: &BaseUrl,
    view: View,
    extras: &Extras,
) -> Value {
    let net = extras.net.get(&i.id);
    let status = state::status(&i.vm_state, i.task_state.as_deref());
    let image = if i.image_id.is_empty() {
        json!("")
    } else {
        json!({"id": i.image_id, "links": bookmark(base, "images", &i.image_id)})
    };
    let mut s = json!({
        "id": i.id,
        "name": i.name,
        "status": status,
        "tenant_id": i.project_id,
        "user_id": i.user_id,
        "metadata": i.metadata,
        "hostId": host_id(i),
        "image": image,
        "flavor": {"id": i.flavor_id, "links": bookmark(base, "flavors", &i.flavor_id)},
        "created": iso_seconds(i.created_at),
        "updated": iso_seconds(i.updated_at),
        "addresses": addresses(net, view),
        "accessIPv4": i.access_ipv4,
        "accessIPv6": i.access_ipv6,
        "links": links(base, "servers", &i.id),
        "OS-DCF:diskConfig": i.disk_config,
    });
    if matches!(
        status,
        "ACTIVE" | "BUILD" | "REBUILD" | "RESIZE" | "VERIFY_RESIZE"
    ) {
        s["progress"] = json!(if status == "BUILD" { 0 } else { i.progress });
    }
    if matches!(status, "ERROR" | "DELETED") {
        if let Some(f) = &i.fault {
            s["fault"] = f.clone();
        }
    }
    if view == View::Detail {
        let volumes: Vec<Value> = extras
            .volumes
            .get(&i.id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|v| json!({ "id": v }))
            .collect();
        let extra = json!({
            "key_name": i.key_name,
            "OS-SRV-USG:launched_at": i.launched_at.map(iso_naive_micros),
            "OS-SRV-USG:terminated_at": i.terminated_at.map(iso_naive_micros),
            "OS-EXT-AZ:availability_zone": i.availability_zone,
            "OS-EXT-STS:task_state": i.task_state,
            "OS-EXT-STS:vm_state": i.vm_state,
            "OS-EXT-STS:power_state": i.power_state,
            "os-extended-volumes:volumes_attached": volumes,
            "config_drive": i.config_drive,
        });
        merge(&mut s, extra);
        // Nova shows the ports' groups, by name, and no key when there are none.
        let groups = net.map_or(&[][..], |n| &n.security_group_names);
        if !groups.is_empty() {
            let names: Vec<Value> = groups.iter().map(|g| json!({ "name": g })).collect();
            s["security_groups"] = Value::Array(names);
        }
        if ctx.is_admin() {
            merge(
                &mut s,
                json!({
                    "OS-EXT-SRV-ATTR:host": i.host,
                    "OS-EXT-SRV-ATTR:instance_name": format!("instance-{}", &i.id[..8.min(i.id.len())]),
                    "OS-EXT-SRV-ATTR:hypervisor_hostname": i.host,
                }),
            );
        }
    }
    s
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

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
const ROW_FILTERS: [&str; 7] = [
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
    if query_get(q, "sort_dir") == Some("asc") {
        list.reverse();
    }
    Ok(list)
}

async fn listing(
    svc: &ComputeService,
    c: &Caller,
    base: &BaseUrl,
    q: &QueryParams,
    view: Option<View>,
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
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, &base, &q, None).await
}

pub async fn detail(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, &base, &q, Some(View::Detail)).await
}

pub async fn show(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(
        json!({"server": render(&svc, &c, &i, &base, View::Detail).await?}),
    ))
}

pub async fn update(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let mut i = load_server(&svc, &c, last(&p)).await?;
    let o = super::common::wrapped(&body.object()?, "server")?;
    for key in o.keys() {
        if !["name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"].contains(&key.as_str()) {
            return Err(super::common::invalid(
                key,
                "Additional properties are not allowed",
            ));
        }
    }
    if let Some(n) = o.get("name") {
        i.name = super::server_fields::server_name(n)?;
    }
    if let Some(v) = o.get("accessIPv4") {
        i.access_ipv4 = super::server_fields::access_ip(v, "accessIPv4", 4)?;
    }
    if let Some(v) = o.get("accessIPv6") {
        i.access_ipv6 = super::server_fields::access_ip(v, "accessIPv6", 6)?;
    }
    if let Some(v) = o.get("OS-DCF:diskConfig") {
        i.disk_config = super::server_fields::disk_config(v)?;
    }
    instances::update_fields(svc.db(), &i).await?;
    let i = load_server(&svc, &c, &i.id).await?;
    Ok(ok(
        json!({"server": render(&svc, &c, &i, &base, View::Basic).await?}),
    ))
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
