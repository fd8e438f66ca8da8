//! `POST /servers`: check every field, reserve quota, record the servers
//! with their build tasks in one transaction, and answer 202. The worker
//! does the rest.
//!
//! - `body.rs`: the fields that need no lookup (checked first);
//! - `lookups.rs`: flavor, image, key pair, block devices, networks and
//!   security groups.

mod body;
mod lookups;

pub use body::user_data_value;
pub use lookups::{image_properties, key_data};

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{project_of, require_member, wrapped, Body, Caller};
use super::instance_actions::{record, ReqId};
use crate::error::Result;
use crate::microversion::ApiVersion;
use crate::quota;
use crate::state::vm;
use crate::store::instances::{self, Instance};
use crate::ComputeService;

pub async fn create(
    State(svc): State<ComputeService>,
    c: Caller,
    v: ApiVersion,
    base: BaseUrl,
    req: ReqId,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let project = project_of(&c)?;
    let top = body.object()?;
    super::server_fields::only_known(
        &top,
        &["server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"],
    )?;
    let hints = scheduler_hints(&top)?;
    let o = wrapped(&top, "server")?;
    let b = body::parse(&o, c.is_admin(), v)?;
    check_host(&svc, &c, &o)?;
    // The server lands in its host's zone; a requested zone must exist (one
    // host: the zone of this host).
    let zone = crate::zones::of_host(&svc, &svc.config().host).await?;
    if let Some(want) = &b.availability_zone {
        let known = crate::zones::all(&svc).await?;
        if !known.iter().any(|(z, _)| z == want) {
            return Err(crate::error::Error::bad_request(format!(
                "The requested availability zone is not available: {want}"
            )));
        }
    }
    let flavor = lookups::flavor(&svc, &c, &b.flavor_id).await?;
    let (mut bdms, boot_volume) = lookups::block_devices(&svc, &c, &o, v).await?;
    let image = lookups::image(&svc, &c, &o, &flavor, boot_volume).await?;
    // An image that says how to make its disks (a volume-backed server's
    // snapshot): its mappings join the request's, checked the same way.
    if let Some(merged) = image
        .as_ref()
        .and_then(|im| lookups::with_image_block_devices(im, &bdms))
    {
        let mut with = o.clone();
        with.insert("block_device_mapping_v2".into(), merged);
        bdms = lookups::block_devices(&svc, &c, &with, v).await?.0;
    }
    let key_data = match &b.key_name {
        Some(k) => Some(lookups::key_data(&svc, &c, k).await?),
        None => None,
    };
    let nets = lookups::networks(&svc, &c, &o, v).await?;
    lookups::check_security_groups(&svc, &c, &b.security_groups).await?;
    let max = b.max_count;
    quota::check_metadata_items(&svc, &project, b.metadata.len()).await?;
    quota::check_servers(&svc, &project, &c.user_id, max, flavor.vcpus, flavor.ram).await?;
    let group = super::server_groups::hinted_group(&svc, &c, &top, max).await?;
    let now = now_micros();
    let reservation_id = format!("r-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let image_props = image.as_ref().map_or_else(|| json!({}), image_properties);
    let image_id = image.map(|im| im.id).unwrap_or_default();
    let made: Vec<Instance> = (1..=max)
        .map(|n| {
            let id = uuid::Uuid::new_v4().to_string();
            let name = if max > 1 {
                format!("{}-{n}", b.name)
            } else {
                b.name.clone()
            };
            let hostname = match &b.hostname {
                Some(h) if max > 1 => format!("{h}-{n}"),
                Some(h) => h.clone(),
                None => super::server_fields::hostname_from_name(&name, &id),
            };
            Instance {
                id,
                name,
                hostname,
                reservation_id: reservation_id.clone(),
                launch_index: n - 1,
                description: b.description.clone(),
                trusted_certs: b.trusted_certs.clone(),
                pinned_az: b.availability_zone.clone(),
                scheduler_hints: hints.clone(),
                image_properties: image_props.clone(),
                shelved_image_id: None,
                project_id: project.clone(),
                user_id: c.user_id.clone(),
                image_id: image_id.clone(),
                flavor_id: flavor.id.clone(),
                flavor: serde_json::to_value(&flavor).unwrap_or(Value::Null),
                vm_state: vm::BUILDING.into(),
                task_state: Some("scheduling".into()),
                key_name: b.key_name.clone(),
                key_data: key_data.clone(),
                availability_zone: zone.clone(),
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
            }
        })
        .collect();
    instances::create_with_tasks(
        svc.db(),
        &made,
        &b.tags,
        group.as_ref().map(|g| g.id.as_str()),
    )
    .await?;
    for i in &made {
        record(&svc, &c, &i.id, "create", &req, false).await?;
    }
    svc.wake_worker();
    let ids: Vec<(String, String)> = made
        .iter()
        .map(|i| (i.id.clone(), b.admin_pass.clone()))
        .collect();
    if b.return_reservation_id {
        return Ok(super::common::accepted(
            json!({ "reservation_id": reservation_id }),
        ));
    }
    Ok(super::servers::created(
        &ids,
        &base,
        &b.security_groups,
        &b.disk_config,
    ))
}

/// The scheduler hints of a create body (either spelling), an object.
fn scheduler_hints(top: &serde_json::Map<String, Value>) -> Result<Value> {
    for key in ["os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"] {
        match top.get(key) {
            None => {}
            Some(h @ Value::Object(_)) => return Ok(h.clone()),
            Some(other) => {
                return Err(super::common::invalid(
                    key,
                    &format!("{other} is not of type 'object'"),
                ))
            }
        }
    }
    Ok(json!({}))
}

/// `host` / `hypervisor_hostname` (2.74, admins): must name this host.
fn check_host(svc: &ComputeService, c: &Caller, o: &serde_json::Map<String, Value>) -> Result<()> {
    for key in ["host", "hypervisor_hostname"] {
        let Some(h) = o.get(key) else { continue };
        super::common::require_admin(c, "compute:servers:create:requested_destination")?;
        let name = h.as_str().filter(|s| {
            !s.is_empty()
                && s.len() <= 255
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        });
        let Some(name) = name else {
            return Err(super::common::invalid(
                key,
                &format!("{h} is not a valid host name"),
            ));
        };
        if name != svc.config().host {
            return Err(crate::error::Error::bad_request(if key == "host" {
                format!("Compute host {name} could not be found.")
            } else {
                format!("Compute host node {name} could not be found.")
            }));
        }
    }
    Ok(())
}
