//! `POST /servers`: check every field, reserve quota, record the servers
//! with their build tasks in one transaction, and answer 202. The worker
//! does the rest.
//!
//! - `body.rs`: the fields that need no lookup (checked first);
//! - `lookups.rs`: flavor, image, key pair, block devices, networks and
//!   security groups.

mod body;
mod lookups;

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{project_of, require_member, wrapped, Body, Caller};
use super::instance_actions::{record, ReqId};
use crate::error::Result;
use crate::quota;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::ComputeService;

pub async fn create(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    req: ReqId,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let project = project_of(&c)?;
    let top = body.object()?;
    let o = wrapped(&top, "server")?;
    let b = body::parse(&o, c.is_admin())?;
    let flavor = lookups::flavor(&svc, &c, &b.flavor_id).await?;
    let (bdms, boot_volume) = lookups::block_devices(&svc, &c, &o).await?;
    let image_id = lookups::image(&svc, &c, &o, &flavor, boot_volume).await?;
    let key_data = match &b.key_name {
        Some(k) => Some(lookups::key_data(&svc, &c, k).await?),
        None => None,
    };
    let nets = lookups::networks(&svc, &c, &o).await?;
    lookups::check_security_groups(&svc, &c, &b.security_groups).await?;
    let max = b.max_count;
    quota::check_metadata_items(&svc, &project, b.metadata.len()).await?;
    quota::check_servers(&svc, &project, &c.user_id, max, flavor.vcpus, flavor.ram).await?;
    let group = super::server_groups::hinted_group(&svc, &c, &top, max).await?;
    let now = now_micros();
    let made: Vec<Instance> = (1..=max)
        .map(|n| Instance {
            id: uuid::Uuid::new_v4().to_string(),
            name: if max > 1 {
                format!("{}-{n}", b.name)
            } else {
                b.name.clone()
            },
            project_id: project.clone(),
            user_id: c.user_id.clone(),
            image_id: image_id.clone(),
            flavor_id: flavor.id.clone(),
            flavor: serde_json::to_value(&flavor).unwrap_or(Value::Null),
            vm_state: vm::BUILDING.into(),
            task_state: Some("scheduling".into()),
            key_name: b.key_name.clone(),
            key_data: key_data.clone(),
            availability_zone: "nova".into(),
            metadata: b.metadata.clone(),
            user_data: b.user_data.clone(),
            security_groups: b.security_groups.clone(),
            requested_networks: nets.clone(),
            block_devices: bdms.clone(),
            access_ipv4: b.access_ipv4.clone(),
            access_ipv6: b.access_ipv6.clone(),
            disk_config: b.disk_config.clone(),
            config_drive: b.config_drive.clone(),
            created_at: now,
            updated_at: now,
            ..Default::default()
        })
        .collect();
    instances::create_with_tasks(svc.db(), &made, group.as_ref().map(|g| g.id.as_str())).await?;
    for i in &made {
        record(&svc, &c, &i.id, "create", &req, false).await?;
    }
    svc.wake_worker();
    let ids: Vec<(String, String)> = made
        .iter()
        .map(|i| (i.id.clone(), b.admin_pass.clone()))
        .collect();
    if o.get("return_reservation_id").and_then(Value::as_bool) == Some(true) {
        return Ok(super::common::accepted(
            json!({"reservation_id": format!("r-{}", &ids[0].0[..8])}),
        ));
    }
    Ok(super::servers::created(
        &ids,
        &base,
        &b.security_groups,
        &b.disk_config,
    ))
}
