//! `GET /extensions` and `/extensions/{alias}`: the legacy v2 extension
//! catalogue. Since v2.1 every extension is part of the API (microversions
//! took over); Nova still answers with the fixed list of what v2.1 folded
//! in, and clients (and tempest) look names up in it.

use axum::extract::Path;
use axum::response::Response;
use serde_json::{json, Value};

use super::common::{ok, Caller, QueryParams};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;

/// The namespace and date Nova gives every v2.1 extension.
const NAMESPACE: &str = "http://docs.openstack.org/compute/ext/fake_xml";
const UPDATED: &str = "2014-12-03T00:00:00Z";

/// (alias, name, what it adds).
const EXTENSIONS: &[(&str, &str, &str)] = &[
    ("NMN", "Multinic", "Add and remove fixed IPs of a server."),
    (
        "OS-DCF",
        "DiskConfig",
        "The disk partitioning mode of a server (AUTO or MANUAL).",
    ),
    (
        "OS-EXT-AZ",
        "ExtendedAvailabilityZone",
        "A server's availability zone in its view.",
    ),
    (
        "OS-EXT-IMG-SIZE",
        "ImageSize",
        "An image's size in its view.",
    ),
    (
        "OS-EXT-IPS",
        "ExtendedIps",
        "The type (fixed or floating) of each server address.",
    ),
    (
        "OS-EXT-IPS-MAC",
        "ExtendedIpsMac",
        "The MAC address of each server address.",
    ),
    (
        "OS-EXT-SRV-ATTR",
        "ExtendedServerAttributes",
        "Host, hypervisor and instance name of a server, for admins.",
    ),
    (
        "OS-EXT-STS",
        "ExtendedStatus",
        "Task, VM and power states of a server.",
    ),
    (
        "OS-FLV-DISABLED",
        "FlavorDisabled",
        "Whether a flavor is disabled.",
    ),
    (
        "OS-FLV-EXT-DATA",
        "FlavorExtraData",
        "Ephemeral disk size of a flavor.",
    ),
    (
        "OS-SCH-HNT",
        "SchedulerHints",
        "Scheduler hints on server create.",
    ),
    (
        "OS-SRV-USG",
        "ServerUsage",
        "Launch and termination times of a server.",
    ),
    (
        "os-access-ips",
        "AccessIPs",
        "IPv4 and IPv6 access addresses of a server.",
    ),
    (
        "os-admin-actions",
        "AdminActions",
        "Reset a server's state and network.",
    ),
    (
        "os-admin-password",
        "AdminPassword",
        "Change a server's administrator password.",
    ),
    ("os-agents", "Agents", "Guest agent builds (removed)."),
    ("os-aggregates", "Aggregates", "Host aggregates."),
    (
        "os-assisted-volume-snapshots",
        "AssistedVolumeSnapshots",
        "Volume snapshots taken by the hypervisor for the volume service.",
    ),
    (
        "os-attach-interfaces",
        "AttachInterfaces",
        "Attach and detach network interfaces.",
    ),
    (
        "os-availability-zone",
        "AvailabilityZone",
        "Availability zones.",
    ),
    (
        "os-baremetal-ext-status",
        "BareMetalExtStatus",
        "Bare-metal node status (removed).",
    ),
    (
        "os-baremetal-nodes",
        "BareMetalNodes",
        "Bare-metal nodes (proxy to the bare-metal service).",
    ),
    (
        "os-block-device-mapping",
        "BlockDeviceMapping",
        "Block device mappings on server create.",
    ),
    (
        "os-block-device-mapping-v2-boot",
        "BlockDeviceMappingV2Boot",
        "Boot from a block device mapping (v2).",
    ),
    (
        "os-cell-capacities",
        "CellCapacities",
        "Cell capacities (removed).",
    ),
    ("os-cells", "Cells", "Cells (removed)."),
    (
        "os-certificates",
        "Certificates",
        "Root and x509 certificates (removed).",
    ),
    ("os-cloudpipe", "Cloudpipe", "VPN instances (removed)."),
    (
        "os-cloudpipe-update",
        "CloudpipeUpdate",
        "VPN instance updates (removed).",
    ),
    ("os-config-drive", "ConfigDrive", "Config drives."),
    (
        "os-console-auth-tokens",
        "ConsoleAuthTokens",
        "Console connection details by token.",
    ),
    (
        "os-console-output",
        "ConsoleOutput",
        "A server's console log.",
    ),
    ("os-consoles", "Consoles", "Interactive consoles."),
    (
        "os-create-backup",
        "CreateBackup",
        "Rotated server backups.",
    ),
    (
        "os-create-server-ext",
        "Createserverext",
        "Extended server create.",
    ),
    (
        "os-deferred-delete",
        "DeferredDelete",
        "Restore and force-delete soft-deleted servers.",
    ),
    (
        "os-evacuate",
        "Evacuate",
        "Rebuild a server of a failed host elsewhere.",
    ),
    (
        "os-extended-evacuate-find-host",
        "ExtendedEvacuateFindHost",
        "Evacuate without naming a host.",
    ),
    (
        "os-extended-floating-ips",
        "ExtendedFloatingIps",
        "A fixed address for floating IP association.",
    ),
    (
        "os-extended-hypervisors",
        "ExtendedHypervisors",
        "Hypervisor host IP.",
    ),
    (
        "os-extended-networks",
        "ExtendedNetworks",
        "Extended network attributes.",
    ),
    (
        "os-extended-quotas",
        "ExtendedQuotas",
        "Delete quotas; quota details.",
    ),
    (
        "os-extended-rescue-with-image",
        "ExtendedRescueWithImage",
        "Rescue with a chosen image.",
    ),
    (
        "os-extended-services",
        "ExtendedServices",
        "Disable services with a reason.",
    ),
    (
        "os-extended-services-delete",
        "ExtendedServicesDelete",
        "Delete services.",
    ),
    (
        "os-extended-volumes",
        "ExtendedVolumes",
        "Volumes attached to a server in its view.",
    ),
    ("os-fixed-ips", "FixedIPs", "Fixed IPs (removed)."),
    (
        "os-flavor-access",
        "FlavorAccess",
        "Private flavors and their projects.",
    ),
    (
        "os-flavor-extra-specs",
        "FlavorExtraSpecs",
        "Flavor extra specs.",
    ),
    (
        "os-flavor-manage",
        "FlavorManage",
        "Create and delete flavors.",
    ),
    ("os-flavor-rxtx", "FlavorRxtx", "Flavor rxtx factor."),
    ("os-flavor-swap", "FlavorSwap", "Flavor swap size."),
    (
        "os-floating-ip-dns",
        "FloatingIpDns",
        "Floating IP DNS (removed).",
    ),
    (
        "os-floating-ip-pools",
        "FloatingIpPools",
        "Floating IP pools.",
    ),
    ("os-floating-ips", "FloatingIps", "Floating IPs."),
    (
        "os-floating-ips-bulk",
        "FloatingIpsBulk",
        "Bulk floating IPs (removed).",
    ),
    ("os-fping", "Fping", "Ping servers (removed)."),
    (
        "os-hide-server-addresses",
        "HideServerAddresses",
        "Hide addresses of servers in some states.",
    ),
    ("os-hosts", "Hosts", "Compute hosts."),
    (
        "os-hypervisor-status",
        "HypervisorStatus",
        "Hypervisor status and state.",
    ),
    ("os-hypervisors", "Hypervisors", "Hypervisors."),
    (
        "os-instance-actions",
        "InstanceActions",
        "Actions taken on a server.",
    ),
    (
        "os-instance_usage_audit_log",
        "OSInstanceUsageAuditLog",
        "Usage audit logs.",
    ),
    ("os-keypairs", "Keypairs", "SSH key pairs."),
    ("os-lock-server", "LockServer", "Lock and unlock servers."),
    (
        "os-migrate-server",
        "MigrateServer",
        "Cold and live migration.",
    ),
    ("os-migrations", "Migrations", "Migrations."),
    (
        "os-multiple-create",
        "MultipleCreate",
        "Create several servers at once.",
    ),
    (
        "os-networks",
        "Networks",
        "Networks (proxy to the network service).",
    ),
    (
        "os-networks-associate",
        "NetworkAssociationSupport",
        "Network associations (removed).",
    ),
    (
        "os-pause-server",
        "PauseServer",
        "Pause and unpause servers.",
    ),
    (
        "os-personality",
        "Personality",
        "Files injected into a server.",
    ),
    (
        "os-preserve-ephemeral-rebuild",
        "PreserveEphemeralOnRebuild",
        "Keep the ephemeral disk on rebuild.",
    ),
    ("os-quota-class-sets", "QuotaClasses", "Quota classes."),
    ("os-quota-sets", "Quotas", "Quotas."),
    ("os-rescue", "Rescue", "Rescue and unrescue servers."),
    (
        "os-security-group-default-rules",
        "SecurityGroupDefaultRules",
        "Default security group rules (removed).",
    ),
    (
        "os-security-groups",
        "SecurityGroups",
        "Security groups (proxy to the network service).",
    ),
    (
        "os-server-diagnostics",
        "ServerDiagnostics",
        "Server diagnostics.",
    ),
    (
        "os-server-external-events",
        "ServerExternalEvents",
        "Events from other services about servers.",
    ),
    (
        "os-server-group-quotas",
        "ServerGroupQuotas",
        "Server group quotas.",
    ),
    ("os-server-groups", "ServerGroups", "Server groups."),
    (
        "os-server-list-multi-status",
        "ServerListMultiStatus",
        "Filter servers by several statuses.",
    ),
    (
        "os-server-password",
        "ServerPassword",
        "Encrypted server passwords.",
    ),
    (
        "os-server-sort-keys",
        "ServerSortKeys",
        "Sort server lists.",
    ),
    (
        "os-server-start-stop",
        "ServerStartStop",
        "Start and stop servers.",
    ),
    ("os-services", "Services", "Compute services."),
    ("os-shelve", "Shelve", "Shelve and unshelve servers."),
    (
        "os-simple-tenant-usage",
        "SimpleTenantUsage",
        "Usage per project.",
    ),
    (
        "os-suspend-server",
        "SuspendServer",
        "Suspend and resume servers.",
    ),
    (
        "os-tenant-networks",
        "OSTenantNetworks",
        "A project's networks (proxy to the network service).",
    ),
    (
        "os-used-limits",
        "UsedLimits",
        "Used resources in the limits view.",
    ),
    (
        "os-used-limits-for-admin",
        "UsedLimitsForAdmin",
        "Used resources of other projects, for admins.",
    ),
    ("os-user-data", "UserData", "User data on server create."),
    ("os-user-quotas", "UserQuotas", "Quotas per user."),
    (
        "os-virtual-interfaces",
        "VirtualInterfaces",
        "Virtual interfaces of a server.",
    ),
    (
        "os-volume-attachment-update",
        "VolumeAttachmentUpdate",
        "Swap an attached volume.",
    ),
    (
        "os-volumes",
        "Volumes",
        "Volumes, snapshots and attachments.",
    ),
];

fn view(&(alias, name, description): &(&str, &str, &str)) -> Value {
    json!({
        "alias": alias,
        "name": name,
        "description": description,
        "namespace": NAMESPACE,
        "updated": UPDATED,
        "links": [],
    })
}

pub async fn list(v: ApiVersion, _c: Caller, q: QueryParams) -> Result<Response> {
    super::listing::no_query_from_2_102(v, &q)?;
    let items: Vec<Value> = EXTENSIONS.iter().map(view).collect();
    Ok(ok(json!({ "extensions": items })))
}

pub async fn show(_c: Caller, axum::extract::Path(p): Path<Vec<String>>) -> Result<Response> {
    let alias = last(&p);
    let e = EXTENSIONS
        .iter()
        .find(|(a, _, _)| *a == alias)
        .ok_or_else(|| Error::not_found(format!("Extension {alias} could not be found.")))?;
    Ok(ok(json!({ "extension": view(e) })))
}
