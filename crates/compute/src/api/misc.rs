//! Limits, availability zones and the deprecated image proxy (`/images`).
//!
//! The image proxy, like every proxy API of Nova, is gone from 2.36 (404).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferro_api::request_id::TrailingSlash;
use ferro_api::services::ImageInfo;
use ferro_api::time::{iso_seconds, parse_iso};
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Value};

use super::common::{links, no_content, ok, project_of, query_get, Caller, QueryParams};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::instances;
use crate::ComputeService;

/// The quota resources `/limits` leaves out at `v`: 2.36 the network
/// ones, 2.57 the personality (injected file) ones too.
fn filtered_limits(v: ApiVersion) -> Vec<&'static str> {
    let mut out = Vec::new();
    if v.at_least(2, 36) {
        out.extend(["floating_ips", "security_groups", "security_group_rules"]);
    }
    if v.at_least(2, 57) {
        out.extend(["injected_files", "injected_file_content_bytes"]);
    }
    out
}

/// `GET /limits` (`?tenant_id=` for admins): the project's absolute limits
/// and usage, as Nova's limits view; 2.39 drops `maxImageMeta`.
pub async fn limits(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    if v.at_least(2, 75) {
        super::listing::only_params(&q, &["tenant_id"])?;
    }
    let project = match query_get(&q, "tenant_id") {
        Some(t) => {
            super::common::require_admin(&c, "os_compute_api:limits:other_project")?;
            t.to_owned()
        }
        None => project_of(&c)?,
    };
    let (count, cores, ram) = instances::usage(svc.db(), &project).await?;
    let groups = crate::store::server_groups::count(svc.db(), &project).await?;
    let l = crate::quota::project_limits(&svc, &project).await?;
    let hidden = filtered_limits(v);
    let names: [(&str, &[&str]); 12] = [
        ("ram", &["maxTotalRAMSize"]),
        ("instances", &["maxTotalInstances"]),
        ("cores", &["maxTotalCores"]),
        ("key_pairs", &["maxTotalKeypairs"]),
        ("floating_ips", &["maxTotalFloatingIps"]),
        ("metadata_items", &["maxServerMeta", "maxImageMeta"]),
        ("injected_files", &["maxPersonality"]),
        ("injected_file_content_bytes", &["maxPersonalitySize"]),
        ("security_groups", &["maxSecurityGroups"]),
        ("security_group_rules", &["maxSecurityGroupRules"]),
        ("server_groups", &["maxServerGroups"]),
        ("server_group_members", &["maxServerGroupMembers"]),
    ];
    let mut absolute = serde_json::Map::new();
    for (resource, shown) in names.iter().filter(|(r, _)| !hidden.contains(r)) {
        for name in shown.iter() {
            if *name != "maxImageMeta" || !v.at_least(2, 39) {
                absolute.insert((*name).to_owned(), json!(l.get(resource)));
            }
        }
    }
    let used = [
        ("totalRAMUsed", "ram", ram),
        ("totalCoresUsed", "cores", cores),
        ("totalInstancesUsed", "instances", count),
        ("totalFloatingIpsUsed", "floating_ips", 0),
        ("totalSecurityGroupsUsed", "security_groups", 0),
        ("totalServerGroupsUsed", "server_groups", groups),
    ];
    for (name, resource, n) in used {
        if !hidden.contains(&resource) {
            absolute.insert(name.to_owned(), json!(n));
        }
    }
    Ok(ok(json!({"limits": {"rate": [], "absolute": absolute}})))
}

/// `GET /os-availability-zone/detail`: admin only, with each zone's hosts
/// and their services (the control services in zone `internal`).
pub async fn availability_zones_detail(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    super::listing::no_query_from_2_102(v, &q)?;
    if !c.is_admin() {
        return Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.",
        ));
    }
    let svc_entry = || json!({"available": true, "active": true, "updated_at": null});
    let mut zones = vec![
        json!({"zoneName": "internal", "zoneState": {"available": true},
        "hosts": {svc.config().host.clone(): {
            "nova-conductor": svc_entry(), "nova-scheduler": svc_entry()}}}),
    ];
    for (zone, hosts) in crate::zones::all(&svc).await? {
        let hosts: serde_json::Map<String, Value> = hosts
            .into_iter()
            .map(|h| (h, json!({"nova-compute": svc_entry()})))
            .collect();
        zones.push(json!({"zoneName": zone, "zoneState": {"available": true}, "hosts": hosts}));
    }
    Ok(ok(json!({ "availabilityZoneInfo": zones })))
}

/// `GET /os-availability-zone`: the zones of the compute hosts.
pub async fn availability_zones(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    _c: Caller,
    q: QueryParams,
) -> Result<Response> {
    super::listing::no_query_from_2_102(v, &q)?;
    let zones: Vec<Value> = crate::zones::all(&svc)
        .await?
        .into_iter()
        .map(|(z, _)| json!({"zoneName": z, "zoneState": {"available": true}, "hosts": null}))
        .collect();
    Ok(ok(json!({ "availabilityZoneInfo": zones })))
}

pub async fn not_found() -> Result<Response> {
    Err(Error::not_found("The resource could not be found."))
}

/// The proxy APIs answer 404 from 2.36.
fn proxy_gone(v: ApiVersion) -> Result<()> {
    if v.at_least(2, 36) {
        return Err(Error::not_found("The resource could not be found."));
    }
    Ok(())
}

/// Nova's image status, from glance's.
fn image_status(glance: &str) -> &'static str {
    match glance {
        "active" => "ACTIVE",
        "queued" | "saving" | "importing" | "uploading" => "SAVING",
        "killed" => "ERROR",
        "deleted" | "pending_delete" => "DELETED",
        _ => "UNKNOWN",
    }
}

fn image_detail(i: &ImageInfo, base: &BaseUrl) -> Value {
    let status = image_status(&i.status);
    let mut v = json!({
        "id": i.id,
        "name": i.name,
        "status": status,
        "progress": match status { "ACTIVE" => 100, "SAVING" => 25, _ => 0 },
        "minRam": i.min_ram,
        "minDisk": i.min_disk,
        "metadata": i.properties,
        "OS-EXT-IMG-SIZE:size": i.size,
        "created": iso_seconds(i.created_at),
        "updated": iso_seconds(i.updated_at),
        "links": links(base, "images", &i.id),
    });
    if let Some(Value::String(server)) = i.properties.get("instance_uuid") {
        v["server"] = json!({"id": server, "links": links(base, "servers", server)});
    }
    v
}

/// The images a list request selects: nova's filters (name, status,
/// server, type, changes-since, minRam, minDisk) then marker/limit.
async fn select_images(
    svc: &ComputeService,
    c: &Caller,
    q: &QueryParams,
) -> Result<Vec<ImageInfo>> {
    let mut list = svc.peers().image.list_images(c, None).await?;
    if let Some(name) = query_get(q, "name") {
        list.retain(|i| i.name.as_deref() == Some(name));
    }
    if let Some(st) = query_get(q, "status") {
        let want = st.to_ascii_uppercase();
        list.retain(|i| image_status(&i.status) == want);
    }
    if let Some(server) = query_get(q, "server") {
        let server = super::common::ref_id(server);
        list.retain(|i| {
            i.properties.get("instance_uuid").and_then(Value::as_str) == Some(server.as_str())
        });
    }
    if let Some(t) = query_get(q, "type") {
        list.retain(|i| {
            let kind = i.properties.get("image_type").and_then(Value::as_str);
            kind.unwrap_or("image") == t
        });
    }
    if let Some(since) = query_get(q, "changes-since") {
        let t = parse_iso(since)
            .ok_or_else(|| Error::bad_request(format!("Invalid changes-since value {since:?}")))?;
        list.retain(|i| i.updated_at >= t);
    }
    for (key, pick) in [("minRam", 0), ("minDisk", 1)] {
        if let Some(v) = query_get(q, key) {
            let n: i64 = v
                .parse()
                .map_err(|_| Error::bad_request(format!("Invalid {key} value {v:?}")))?;
            list.retain(|i| {
                if pick == 0 {
                    i.min_ram >= n
                } else {
                    i.min_disk >= n
                }
            });
        }
    }
    if let Some(marker) = query_get(q, "marker") {
        let pos = list
            .iter()
            .position(|i| i.id == marker)
            .ok_or_else(|| Error::bad_request(format!("marker [{marker}] not found")))?;
        list.drain(..=pos);
    }
    if let Some(limit) = query_get(q, "limit") {
        let n: usize = limit
            .parse()
            .map_err(|_| Error::bad_request(format!("Invalid limit value {limit:?}")))?;
        list.truncate(n);
    }
    Ok(list)
}

pub async fn images(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    proxy_gone(v)?;
    let list = select_images(&svc, &c, &q).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|i| json!({"id": i.id, "name": i.name, "links": links(&base, "images", &i.id)}))
        .collect();
    Ok(ok(json!({ "images": items })))
}

pub async fn images_detail(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    proxy_gone(v)?;
    let list = select_images(&svc, &c, &q).await?;
    Ok(ok(
        json!({ "images": list.iter().map(|i| image_detail(i, &base)).collect::<Vec<_>>() }),
    ))
}

pub async fn image_show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    let id = last(&p);
    let i = svc
        .peers()
        .image
        .get_image(&c, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Image {id} could not be found.")))?;
    Ok(ok(json!({ "image": image_detail(&i, &base) })))
}

/// `DELETE /images/`: a delete with an empty id, which Nova answers 404
/// (the path reaches here with its trailing slash stripped); `DELETE /images`
/// itself is not a route (405).
pub async fn image_delete_blank(
    v: ApiVersion,
    slash: Option<Extension<TrailingSlash>>,
) -> Response {
    if let Err(e) = proxy_gone(v) {
        return e.into_response();
    }
    if slash.is_some() {
        Error::not_found("Image not found.").into_response()
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

pub async fn image_delete(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    proxy_gone(v)?;
    svc.peers().image.delete_image(&c, last(&p)).await?;
    Ok(no_content())
}
