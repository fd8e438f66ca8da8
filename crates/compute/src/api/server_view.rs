//! The server view, per microversion (Nova's view builder): one function
//! renders every answer that shows a server — show, `/servers/detail`,
//! update and rebuild — from the row, the page's [`Extras`] and a [`Shape`]
//! that says which attribute groups the request shows.

use std::collections::HashMap;

use ferro_api::services::DeviceNetwork;
use ferro_api::time::{iso_naive_micros, iso_seconds};
use ferro_api::{AuthContext, BaseUrl};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha224};

use super::common::{bookmark, links};
use crate::error::Result;
use crate::microversion::ApiVersion;
use crate::state::{self, vm};
use crate::store::instances::Instance;
use crate::store::{attachments, server_groups, tags};
use crate::worker::owner_context;
use crate::ComputeService;

/// Which groups of attributes an answer shows (Nova's `show_*` switches).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub version: ApiVersion,
    /// Everything a `GET` shows: zone, config drive, usage times, groups,
    /// extended status and volumes, MAC and type of each address, the
    /// admin-only attributes. Update and rebuild answers show it from 2.75.
    pub full: bool,
    pub key_name: bool,
    /// The server's group (2.71; not in `/servers/detail`).
    pub server_groups: bool,
    /// `OS-EXT-SRV-ATTR:user_data` among the admin attributes (rebuild adds
    /// `user_data` itself instead).
    pub user_data: bool,
}

impl Shape {
    pub fn show(v: ApiVersion) -> Shape {
        Shape {
            version: v,
            full: true,
            key_name: true,
            server_groups: v.at_least(2, 71),
            user_data: true,
        }
    }

    pub fn detail(v: ApiVersion) -> Shape {
        Shape {
            server_groups: false,
            ..Shape::show(v)
        }
    }

    pub fn update(v: ApiVersion) -> Shape {
        let full = v.at_least(2, 75);
        Shape {
            version: v,
            full,
            key_name: full,
            server_groups: v.at_least(2, 71),
            user_data: true,
        }
    }

    pub fn rebuild(v: ApiVersion) -> Shape {
        Shape {
            key_name: v.at_least(2, 54),
            user_data: false,
            ..Shape::update(v)
        }
    }
}

/// What views need besides the rows: ports and their groups' names (from
/// the network service), attached volumes, tags and (for one server) its
/// group. Read once for a whole page of servers.
pub struct Extras {
    net: HashMap<String, DeviceNetwork>,
    volumes: HashMap<String, Vec<(String, bool)>>,
    tags: HashMap<String, Vec<String>>,
    groups: HashMap<String, String>,
}

impl Extras {
    pub async fn load(svc: &ComputeService, servers: &[Instance], shape: Shape) -> Result<Extras> {
        let devices: Vec<(AuthContext, String)> = servers
            .iter()
            .map(|i| (owner_context(i), i.id.clone()))
            .collect();
        let nets = svc.peers().network.device_networks(&devices).await?;
        let ids: Vec<String> = devices.into_iter().map(|(_, id)| id).collect();
        let volumes = if shape.full {
            attachments::volumes_of_instances(svc.db(), &ids).await?
        } else {
            HashMap::new()
        };
        let tags = if shape.version.at_least(2, 26) {
            tags::of_instances(svc.db(), &ids).await?
        } else {
            HashMap::new()
        };
        let mut groups = HashMap::new();
        if shape.server_groups {
            for id in &ids {
                if let Some(g) = server_groups::group_of(svc.db(), id).await? {
                    groups.insert(id.clone(), g.id);
                }
            }
        }
        Ok(Extras {
            net: ids.into_iter().zip(nets).collect(),
            volumes,
            tags,
            groups,
        })
    }
}

/// Nova's `hostId`: a hash of the project and the host, empty without one.
fn host_id(i: &Instance) -> String {
    match &i.host {
        Some(h) => {
            let digest = Sha224::digest(format!("{}{h}", i.project_id).as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        }
        None => String::new(),
    }
}

/// `{"net-name": [{"version", "addr", ...}]}` from the server's ports;
/// `extended` adds each address's MAC and type.
fn addresses(net: Option<&DeviceNetwork>, extended: bool) -> Value {
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
            if extended {
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

/// The flavor: a link before 2.47, the flavor's own values from 2.47.
fn flavor(i: &Instance, base: &BaseUrl, v: ApiVersion) -> Value {
    if !v.at_least(2, 47) {
        return json!({"id": i.flavor_id, "links": bookmark(base, "flavors", &i.flavor_id)});
    }
    let f = &i.flavor;
    let n = |k: &str| f[k].as_i64().unwrap_or(0);
    json!({
        "vcpus": n("vcpus"),
        "ram": n("ram"),
        "disk": n("disk"),
        "ephemeral": n("ephemeral"),
        "swap": n("swap"),
        "original_name": f["name"].as_str().unwrap_or_default(),
        "extra_specs": f.get("extra_specs").cloned().unwrap_or_else(|| json!({})),
    })
}

/// The image: `""` for a server booted from a volume; `properties` (the
/// image's properties at boot) from 2.98.
fn image(i: &Instance, base: &BaseUrl, v: ApiVersion) -> Value {
    if i.image_id.is_empty() {
        return json!("");
    }
    let mut img = json!({"id": i.image_id, "links": bookmark(base, "images", &i.image_id)});
    if v.at_least(2, 98) {
        img["properties"] = i.image_properties.clone();
    }
    img
}

/// A server's view from its row and the page's [`Extras`].
pub fn render_with(
    ctx: &AuthContext,
    i: &Instance,
    base: &BaseUrl,
    shape: Shape,
    extras: &Extras,
) -> Value {
    let v = shape.version;
    let net = extras.net.get(&i.id);
    let status = state::status(&i.vm_state, i.task_state.as_deref());
    // Nova hides the addresses of a server that is still building.
    let addresses = if i.vm_state == vm::BUILDING {
        json!({})
    } else {
        addresses(net, shape.full)
    };
    let mut s = json!({
        "id": i.id,
        "name": i.name,
        "status": status,
        "tenant_id": i.project_id,
        "user_id": i.user_id,
        "metadata": i.metadata,
        "hostId": host_id(i),
        "image": image(i, base, v),
        "flavor": flavor(i, base, v),
        "created": iso_seconds(i.created_at),
        "updated": iso_seconds(i.updated_at),
        "addresses": addresses,
        "accessIPv4": i.access_ipv4,
        "accessIPv6": i.access_ipv6,
        "links": links(base, "servers", &i.id),
        "OS-DCF:diskConfig": i.disk_config,
    });
    if matches!(
        status,
        "ACTIVE" | "BUILD" | "REBUILD" | "RESIZE" | "VERIFY_RESIZE" | "MIGRATING"
    ) {
        s["progress"] = json!(if status == "BUILD" { 0 } else { i.progress });
    }
    if matches!(status, "ERROR" | "DELETED") {
        if let Some(f) = &i.fault {
            s["fault"] = f.clone();
        }
    }
    if shape.full {
        full_attributes(&mut s, ctx, i, shape, extras);
    }
    if shape.key_name {
        s["key_name"] = json!(i.key_name);
    }
    versioned_attributes(&mut s, ctx, i, shape, extras);
    s
}

/// What a `GET` shows besides the basics.
fn full_attributes(s: &mut Value, ctx: &AuthContext, i: &Instance, shape: Shape, e: &Extras) {
    let with_delete_flag = shape.version.at_least(2, 3);
    let volumes: Vec<Value> = e
        .volumes
        .get(&i.id)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|(id, dot)| {
            if with_delete_flag {
                json!({"id": id, "delete_on_termination": dot})
            } else {
                json!({"id": id})
            }
        })
        .collect();
    merge(
        s,
        json!({
            "OS-SRV-USG:launched_at": i.launched_at.map(iso_naive_micros),
            "OS-SRV-USG:terminated_at": i.terminated_at.map(iso_naive_micros),
            "OS-EXT-AZ:availability_zone": i.availability_zone,
            "OS-EXT-STS:task_state": i.task_state,
            "OS-EXT-STS:vm_state": i.vm_state,
            "OS-EXT-STS:power_state": i.power_state,
            "os-extended-volumes:volumes_attached": volumes,
            "config_drive": i.config_drive,
        }),
    );
    // Nova shows the ports' groups, by name, and no key when there are none.
    let groups = e
        .net
        .get(&i.id)
        .map_or(&[][..], |n| &n.security_group_names);
    if !groups.is_empty() {
        let names: Vec<Value> = groups.iter().map(|g| json!({ "name": g })).collect();
        s["security_groups"] = Value::Array(names);
    }
    if ctx.is_admin() {
        admin_attributes(s, i, shape);
        if shape.version.at_least(2, 16) {
            // The one host this process runs is up while it answers.
            s["host_status"] = json!(if i.host.is_some() { "UP" } else { "" });
        }
    }
}

/// `OS-EXT-SRV-ATTR:*` (admins only by Nova's default policy).
fn admin_attributes(s: &mut Value, i: &Instance, shape: Shape) {
    merge(
        s,
        json!({
            "OS-EXT-SRV-ATTR:host": i.host,
            "OS-EXT-SRV-ATTR:instance_name": format!("instance-{}", &i.id[..8.min(i.id.len())]),
            "OS-EXT-SRV-ATTR:hypervisor_hostname": i.host,
        }),
    );
    if !shape.version.at_least(2, 3) {
        return;
    }
    merge(
        s,
        json!({
            "OS-EXT-SRV-ATTR:hostname": i.hostname,
            "OS-EXT-SRV-ATTR:kernel_id": "",
            "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:launch_index": i.launch_index,
            "OS-EXT-SRV-ATTR:reservation_id": i.reservation_id,
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
        }),
    );
    if shape.user_data {
        s["OS-EXT-SRV-ATTR:user_data"] = json!(i.user_data);
    }
}

/// The attributes later microversions added, each from its version on.
fn versioned_attributes(s: &mut Value, ctx: &AuthContext, i: &Instance, shape: Shape, e: &Extras) {
    let v = shape.version;
    if v.at_least(2, 9) {
        s["locked"] = json!(i.locked);
    }
    if v.at_least(2, 19) {
        s["description"] = json!(i.description);
    }
    if v.at_least(2, 26) {
        s["tags"] = json!(e.tags.get(&i.id).cloned().unwrap_or_default());
    }
    if v.at_least(2, 63) {
        s["trusted_image_certificates"] = json!(i.trusted_certs);
    }
    if shape.server_groups {
        let g: Vec<&String> = e.groups.get(&i.id).into_iter().collect();
        s["server_groups"] = json!(g);
    }
    if v.at_least(2, 73) {
        s["locked_reason"] = json!(i.locked_reason);
    }
    if v.at_least(2, 90) && !(shape.full && ctx.is_admin()) {
        s["OS-EXT-SRV-ATTR:hostname"] = json!(i.hostname);
    }
    if v.at_least(2, 96) && shape.full {
        s["pinned_availability_zone"] = json!(i.pinned_az);
    }
    if v.at_least(2, 100) {
        s["scheduler_hints"] = i.scheduler_hints.clone();
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// One server's view, reading what it needs besides the row.
pub async fn render(
    svc: &ComputeService,
    ctx: &AuthContext,
    i: &Instance,
    base: &BaseUrl,
    shape: Shape,
) -> Result<Value> {
    let extras = Extras::load(svc, std::slice::from_ref(i), shape).await?;
    Ok(render_with(ctx, i, base, shape, &extras))
}
