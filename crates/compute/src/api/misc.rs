//! Limits, availability zones, quota sets (read-only: the defaults), the
//! deprecated image proxy (`/images`) and `/extensions`.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::ImageInfo;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{links, no_content, ok, project_of, Caller};
use super::flavors::last;
use super::server_create::{QUOTA_CORES, QUOTA_INSTANCES, QUOTA_METADATA_ITEMS, QUOTA_RAM};
use crate::error::{Error, Result};
use crate::store::instances;
use crate::ComputeService;

pub async fn limits(State(svc): State<ComputeService>, c: Caller) -> Result<Response> {
    let project = project_of(&c)?;
    let (count, cores, ram) = instances::usage(svc.db(), &project).await?;
    Ok(ok(json!({"limits": {"rate": [], "absolute": {
        "maxServerMeta": QUOTA_METADATA_ITEMS,
        "maxPersonality": 5,
        "maxPersonalitySize": 10240,
        "maxImageMeta": 128,
        "maxTotalKeypairs": 100,
        "maxSecurityGroupRules": -1,
        "maxSecurityGroups": -1,
        "maxServerGroups": 10,
        "maxServerGroupMembers": 10,
        "maxTotalCores": QUOTA_CORES,
        "maxTotalFloatingIps": -1,
        "maxTotalInstances": QUOTA_INSTANCES,
        "maxTotalRAMSize": QUOTA_RAM,
        "totalCoresUsed": cores,
        "totalRAMUsed": ram,
        "totalInstancesUsed": count,
        "totalFloatingIpsUsed": 0,
        "totalSecurityGroupsUsed": 0,
        "totalServerGroupsUsed": 0,
    }}})))
}

pub async fn availability_zones(_c: Caller) -> Result<Response> {
    Ok(ok(json!({"availabilityZoneInfo": [
        {"zoneName": "nova", "zoneState": {"available": true}, "hosts": null}
    ]})))
}

fn quota_set(id: &str) -> Value {
    json!({"quota_set": {
        "id": id,
        "instances": QUOTA_INSTANCES,
        "cores": QUOTA_CORES,
        "ram": QUOTA_RAM,
        "metadata_items": QUOTA_METADATA_ITEMS,
        "key_pairs": 100,
        "server_groups": 10,
        "server_group_members": 10,
        "injected_files": 5,
        "injected_file_content_bytes": 10240,
        "injected_file_path_bytes": 255,
        "fixed_ips": -1,
        "floating_ips": -1,
        "security_groups": -1,
        "security_group_rules": -1,
    }})
}

pub async fn quota_show(c: Caller, Path(p): Path<Vec<String>>) -> Result<Response> {
    let project = last(&p).to_owned();
    if !c.is_admin() && c.project_id.as_deref() != Some(project.as_str()) {
        return Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.",
        ));
    }
    Ok(ok(quota_set(&project)))
}

pub async fn quota_defaults(_c: Caller, Path(p): Path<Vec<String>>) -> Result<Response> {
    Ok(ok(quota_set(last(&p))))
}

pub async fn quota_update(c: Caller) -> Result<Response> {
    if !c.is_admin() {
        return Err(Error::forbidden(
            "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.",
        ));
    }
    Err(Error::conflict(
        "Changing compute quotas is not supported yet; the defaults apply to every project.",
    ))
}

pub async fn extensions(_c: Caller) -> Result<Response> {
    Ok(ok(json!({"extensions": []})))
}

pub async fn not_found() -> Result<Response> {
    Err(Error::not_found("The resource could not be found."))
}

fn image_detail(i: &ImageInfo, base: &BaseUrl) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "status": i.status.to_ascii_uppercase(),
        "progress": if i.status == "active" { 100 } else { 0 },
        "minRam": i.min_ram,
        "minDisk": i.min_disk,
        "metadata": i.properties,
        "OS-EXT-IMG-SIZE:size": i.size,
        "created": null,
        "updated": null,
        "links": links(base, "images", &i.id),
    })
}

pub async fn images(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
) -> Result<Response> {
    let list = svc.peers().image.list_images(&c, None).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|i| json!({"id": i.id, "name": i.name, "links": links(&base, "images", &i.id)}))
        .collect();
    Ok(ok(json!({ "images": items })))
}

pub async fn images_detail(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
) -> Result<Response> {
    let list = svc.peers().image.list_images(&c, None).await?;
    Ok(ok(
        json!({ "images": list.iter().map(|i| image_detail(i, &base)).collect::<Vec<_>>() }),
    ))
}

pub async fn image_show(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let id = last(&p);
    let i = svc
        .peers()
        .image
        .get_image(&c, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Image {id} could not be found.")))?;
    Ok(ok(json!({ "image": image_detail(&i, &base) })))
}

pub async fn image_delete(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    svc.peers().image.delete_image(&c, last(&p)).await?;
    Ok(no_content())
}
