//! `GET /v2.0/extensions`: exactly the extensions this service implements.

use axum::extract::Path;
use axum::Json;
use serde_json::{json, Value};

use super::Caller;
use crate::error::{Error, Result};

const UPDATED: &str = "2024-01-01T00:00:00-00:00";

/// (alias, name, description).
pub const EXTENSIONS: &[(&str, &str, &str)] = &[
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("auto-allocated-topology", "Auto Allocated Topology Services", "Auto Allocated Topology Services."),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)"),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when listing ports"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."),
    ("security-group", "security-group", "The security groups extension."),
    ("service-type", "Neutron Service Type Management", "API for retrieving service providers for Neutron advanced services"),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip", "Enables to set tag on resources with standard attribute."),
    ("tag", "Tag support", "Enables to set tag on resources."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
    ("subnet_allocation", "Subnet Allocation", "Subnet pools: subnets get their CIDR from a pool's prefixes."),
    ("subnetpool-prefix-ops", "Subnet Pool Prefix Operations", "Adds add_prefixes and remove_prefixes actions to subnet pools."),
    ("default-subnetpools", "Default Subnetpools", "A default subnet pool per IP version (use_default_subnetpool)."),
    ("address-scope", "Address scope", "Address scopes group subnet pools whose addresses do not overlap."),
];

fn entry(alias: &str, name: &str, description: &str) -> Value {
    json!({"alias": alias, "name": name, "description": description, "updated": UPDATED, "links": []})
}

pub async fn list(_caller: Caller) -> Json<Value> {
    let list: Vec<Value> = EXTENSIONS.iter().map(|(a, n, d)| entry(a, n, d)).collect();
    Json(json!({"extensions": list}))
}

pub async fn show(_caller: Caller, Path(alias): Path<String>) -> Result<Json<Value>> {
    let alias = alias.strip_suffix(".json").unwrap_or(&alias);
    EXTENSIONS
        .iter()
        .find(|(a, _, _)| *a == alias)
        .map(|(a, n, d)| Json(json!({"extension": entry(a, n, d)})))
        .ok_or_else(|| {
            Error::not_found(
                "HTTPNotFound",
                format!("Extension with alias {alias} does not exist"),
            )
        })
}

/// No advanced services are configured, so there are no providers.
pub async fn service_providers(_caller: Caller) -> Json<Value> {
    Json(json!({"service_providers": []}))
}

/// The fake data plane runs no agents.
pub async fn agents(_caller: Caller) -> Json<Value> {
    Json(json!({"agents": []}))
}
