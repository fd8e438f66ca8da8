//! Networks: shared / external / provider attributes, MTU, deletion rules.

use serde_json::{json, Value};

use super::{new_obj, owner_project, quotas, secgroups, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::state::{bool_of, str_of, Kind, Obj, State};

const CREATE_KEYS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "project_id",
    "tenant_id",
    "port_security_enabled",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "availability_zone_hints",
    "is_default",
    "tags",
];

const UPDATE_KEYS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "port_security_enabled",
    "is_default",
];

const NETWORK_TYPES: &[&str] = &["flat", "vlan", "vxlan", "geneve", "gre", "local"];

/// Ports Neutron removes with their network instead of refusing.
pub const AUTO_DELETE_OWNERS: &[&str] = &["network:dhcp"];

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_network")?;
    v::known_keys(body, CREATE_KEYS)?;
    let project = owner_project(body, ctx)?;
    for admin_attr in [
        "shared",
        "router:external",
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
    ] {
        if body.contains_key(admin_attr) && !ctx.admin {
            return Err(Error::policy(&format!("create_network:{admin_attr}")));
        }
    }
    // Upstream checks the policy only when the value differs from the default.
    if v::opt_bool(body, "is_default")? == Some(true) && !ctx.admin {
        return Err(Error::policy("create_network:is_default"));
    }
    quotas::check(st, &project, Kind::Network)?;
    let mut n = new_obj(&project);
    n.insert("name".into(), json!(""));
    n.insert("admin_state_up".into(), json!(true));
    n.insert("status".into(), json!("ACTIVE"));
    n.insert("shared".into(), json!(false));
    n.insert("router:external".into(), json!(false));
    n.insert("mtu".into(), json!(1500));
    n.insert("port_security_enabled".into(), json!(true));
    n.insert("availability_zone_hints".into(), json!([]));
    n.insert("availability_zones".into(), json!([]));
    n.insert("ipv4_address_scope".into(), json!(null));
    n.insert("ipv6_address_scope".into(), json!(null));
    n.insert("l2_adjacency".into(), json!(true));
    super::apply_name_desc(&mut n, body)?;
    apply_flags(&mut n, body)?;
    if let Some(hints) = v::opt_str_list(body, "availability_zone_hints")? {
        n.insert("availability_zone_hints".into(), json!(hints));
    }
    if let Some(p) = v::opt_bool(body, "port_security_enabled")? {
        n.insert("port_security_enabled".into(), json!(p));
    }
    provider(st, &mut n, body)?;
    apply_default(st, &mut n, body)?;
    let out = n.clone();
    st.put(Kind::Network, n);
    secgroups::ensure_default(st, &project)?;
    Ok(out)
}

fn apply_flags(n: &mut Obj, body: &Obj) -> Result<()> {
    for key in [
        "admin_state_up",
        "shared",
        "router:external",
        "port_security_enabled",
    ] {
        if let Some(b) = v::opt_bool(body, key)? {
            n.insert(key.into(), json!(b));
        }
    }
    if let Some(mtu) = v::opt_int(body, "mtu")? {
        match mtu {
            Some(m) if (68..=9216).contains(&m) => {
                n.insert("mtu".into(), json!(m));
            }
            _ => {
                return Err(Error::invalid_attr(
                    "mtu",
                    "the MTU must be an integer between 68 and 9216",
                ))
            }
        }
    }
    Ok(())
}

/// `is_default` (auto-allocated-topology): an attribute of external networks
/// only (dropped when the network becomes internal, ignored on internal
/// ones); at most one default external network at a time (409).
fn apply_default(st: &State, n: &mut Obj, body: &Obj) -> Result<()> {
    let want = v::opt_bool(body, "is_default")?;
    if !bool_of(n, "router:external") {
        n.remove("is_default");
        return Ok(());
    }
    if want == Some(true) {
        let id = str_of(n, "id");
        let other = st.iter(Kind::Network).find(|o| {
            str_of(o, "id") != id && bool_of(o, "router:external") && bool_of(o, "is_default")
        });
        if let Some(other) = other {
            return Err(Error::conflict(
                "DefaultExternalNetworkExists",
                format!(
                    "A default external network already exists: {}.",
                    str_of(other, "id")
                ),
            ));
        }
    }
    let current = bool_of(n, "is_default");
    n.insert("is_default".into(), json!(want.unwrap_or(current)));
    Ok(())
}

/// The MTU of a VXLAN network: a 1500-byte physical network less the
/// VXLAN/UDP/IPv4 overhead, as Neutron computes it.
const VXLAN_MTU: i64 = 1450;

/// The lowest VXLAN id no network uses.
fn free_vni(st: &State) -> i64 {
    let used: std::collections::BTreeSet<i64> = st
        .iter(Kind::Network)
        .filter(|n| str_of(n, "provider:network_type") == "vxlan")
        .filter_map(|n| n.get("provider:segmentation_id").and_then(Value::as_i64))
        .collect();
    (1..).find(|v| !used.contains(v)).unwrap_or(1)
}

/// Provider attributes, stored as given after upstream's checks.
fn provider(st: &State, n: &mut Obj, body: &Obj) -> Result<()> {
    let ntype = v::opt_str(body, "provider:network_type", 32)?;
    let phys = match v::opt_nullable_str(body, "provider:physical_network", 64)? {
        Some(Some(p)) if !p.is_empty() => Some(p),
        _ => None,
    };
    let seg = v::opt_int(body, "provider:segmentation_id")?.flatten();
    let Some(ntype) = ntype else {
        if phys.is_some() || seg.is_some() {
            return Err(Error::invalid_input("provider:network_type required"));
        }
        // A tenant network: VXLAN with the lowest free VNI, as ML2 with
        // `tenant_network_types = vxlan` (DevStack's) allocates — the id
        // other hosts will carry its traffic under.
        n.insert("provider:network_type".into(), json!("vxlan"));
        n.insert("provider:physical_network".into(), Value::Null);
        n.insert("provider:segmentation_id".into(), json!(free_vni(st)));
        if !body.contains_key("mtu") {
            n.insert("mtu".into(), json!(VXLAN_MTU));
        }
        return Ok(());
    };
    if !NETWORK_TYPES.contains(&ntype.as_str()) {
        return Err(Error::invalid_input(format!(
            "network_type value '{ntype}' not supported"
        )));
    }
    match ntype.as_str() {
        "flat" => {
            if phys.is_none() {
                return Err(Error::invalid_input(
                    "physical_network required for flat provider network",
                ));
            }
            if seg.is_some() {
                return Err(Error::invalid_input(
                    "segmentation_id prohibited for flat provider network",
                ));
            }
        }
        "vlan" => {
            if phys.is_none() {
                return Err(Error::invalid_input(
                    "physical_network required for VLAN provider network",
                ));
            }
            if !seg.is_some_and(|s| (1..=4094).contains(&s)) {
                return Err(Error::invalid_input(
                    "segmentation_id out of range (1 through 4094)",
                ));
            }
        }
        "local" => {
            if phys.is_some() || seg.is_some() {
                return Err(Error::invalid_input(
                    "local provider networks take no physical_network or segmentation_id",
                ));
            }
        }
        _ => {
            if phys.is_some() {
                return Err(Error::invalid_input(format!(
                    "provider:physical_network specified for {ntype} network"
                )));
            }
            if seg.is_some_and(|s| !(1..=16_777_215).contains(&s)) {
                return Err(Error::invalid_input(
                    "segmentation_id out of range (1 through 16777215)",
                ));
            }
        }
    }
    let seg = match (ntype.as_str(), seg) {
        ("vxlan", None) => Some(free_vni(st)),
        (_, seg) => seg,
    };
    if ntype != "local" {
        let clash = st.iter(Kind::Network).find(|o| {
            str_of(o, "provider:network_type") == ntype
                && o.get("provider:physical_network") == Some(&json!(phys))
                && o.get("provider:segmentation_id") == Some(&json!(seg))
        });
        if let Some(other) = clash {
            let (kind, what) = if ntype == "flat" {
                (
                    "FlatNetworkInUse",
                    format!(
                        "Unable to create the flat network. Physical network {} is in use.",
                        phys.clone().unwrap_or_default()
                    ),
                )
            } else {
                (
                    "SegmentationIdInUse",
                    format!(
                    "Unable to create the network. The segmentation id is in use by network {}.",
                    str_of(other, "id")
                ),
                )
            };
            return Err(Error::conflict(kind, what));
        }
    }
    n.insert("provider:network_type".into(), json!(ntype));
    n.insert("provider:physical_network".into(), json!(phys));
    n.insert("provider:segmentation_id".into(), json!(seg));
    Ok(())
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_network")?;
    let mut n = super::fetch_owned(st, Kind::Network, id, ctx, "update_network")?.clone();
    v::read_only(
        body,
        &[
            "id",
            "status",
            "subnets",
            "project_id",
            "tenant_id",
            "created_at",
            "updated_at",
            "revision_number",
        ],
    )?;
    v::known_keys(body, UPDATE_KEYS)?;
    for admin_attr in ["shared", "router:external", "is_default"] {
        if body.contains_key(admin_attr) && !ctx.admin {
            return Err(Error::policy(&format!("update_network:{admin_attr}")));
        }
    }
    super::apply_name_desc(&mut n, body)?;
    let was_shared = bool_of(&n, "shared");
    apply_flags(&mut n, body)?;
    apply_default(st, &mut n, body)?;
    if was_shared && !bool_of(&n, "shared") {
        let foreign = st.by(Kind::Port, "network_id", id).iter().any(|p| {
            str_of(p, "project_id") != str_of(&n, "project_id")
                && !str_of(p, "project_id").is_empty()
        });
        if foreign {
            return Err(Error::conflict(
                "InvalidSharedSetting",
                format!("Unable to reconfigure sharing settings for network {id}. Multiple tenants are using it."),
            ));
        }
    }
    if !bool_of(&n, "router:external")
        && !st
            .by(Kind::FloatingIp, "floating_network_id", id)
            .is_empty()
    {
        return Err(Error::conflict(
            "ExternalNetworkInUse",
            format!("External network {id} cannot be updated to internal: floating IPs use it."),
        ));
    }
    touch(&mut n);
    let out = n.clone();
    st.put(Kind::Network, n);
    Ok(out)
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_network")?;
    super::fetch_owned(st, Kind::Network, id, ctx, "delete_network")?;
    // Unassociated floating IPs go with their external network.
    let free_fips: Vec<(String, String)> = st
        .by(Kind::FloatingIp, "floating_network_id", id)
        .into_iter()
        .filter(|f| str_of(f, "port_id").is_empty())
        .map(|f| (str_of(f, "id").to_owned(), str_of(f, "_port").to_owned()))
        .collect();
    let ports = st.by(Kind::Port, "network_id", id);
    let blocking = ports.iter().any(|p| {
        let owner = str_of(p, "device_owner");
        let free_fip = owner == super::floatingips::OWNER
            && free_fips.iter().any(|(_, port)| port == str_of(p, "id"));
        !AUTO_DELETE_OWNERS.contains(&owner) && !free_fip
    });
    if blocking {
        return Err(Error::conflict(
            "NetworkInUse",
            format!("Unable to complete operation on network {id}. There are one or more ports still in use on the network."),
        ));
    }
    for (fip, _) in &free_fips {
        st.remove(Kind::FloatingIp, fip);
    }
    for pid in st.ids_by(Kind::Port, "network_id", id) {
        st.remove(Kind::Port, &pid);
    }
    for sid in st.ids_by(Kind::Subnet, "network_id", id) {
        st.remove(Kind::Subnet, &sid);
    }
    st.remove(Kind::Network, id);
    Ok(())
}
