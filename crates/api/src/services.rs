//! What services ask of each other, in process. Compute asks the image
//! service for images, the network service for ports, the volume service for
//! attachments; each service crate implements its trait and the binary wires
//! the implementations together. No service reads another's tables.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::{AuthContext, CommonError};

pub type ServiceResult<T> = Result<T, CommonError>;

/// An image as compute needs to see it.
#[derive(Clone, Debug, Default)]
pub struct ImageInfo {
    pub id: String,
    pub name: Option<String>,
    /// `queued`, `saving`, `active`, `killed`, `deleted`, `deactivated`.
    pub status: String,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub size: Option<i64>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub owner: Option<String>,
    pub visibility: String,
    /// Where the image data lives on this host, when it has data.
    pub data_path: Option<PathBuf>,
    /// Extra properties (`hw_*`, `os_*`, user keys).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Creation and last-update times, microseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new image made by compute (`createImage`, snapshots).
#[derive(Clone, Debug, Default)]
pub struct NewImage {
    pub name: String,
    pub disk_format: String,
    pub container_format: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[async_trait]
pub trait ImageApi: Send + Sync + 'static {
    /// The image if the caller may see it (404 semantics: `None`).
    async fn get_image(&self, ctx: &AuthContext, id: &str) -> ServiceResult<Option<ImageInfo>>;
    /// Images by id, those the caller may see.
    async fn list_images(
        &self,
        ctx: &AuthContext,
        ids: Option<&[String]>,
    ) -> ServiceResult<Vec<ImageInfo>>;
    /// Register an image in `queued` state owned by the caller's project.
    async fn create_image(&self, ctx: &AuthContext, image: NewImage) -> ServiceResult<ImageInfo>;
    /// Upload data for a queued image from a file on this host (copied).
    async fn upload_image_file(
        &self,
        ctx: &AuthContext,
        id: &str,
        path: PathBuf,
    ) -> ServiceResult<ImageInfo>;
    /// Delete an image the caller owns.
    async fn delete_image(&self, ctx: &AuthContext, id: &str) -> ServiceResult<()>;
}

/// A port as compute needs to see it.
#[derive(Clone, Debug, Default)]
pub struct PortInfo {
    pub id: String,
    pub network_id: String,
    pub network_name: String,
    pub mac_address: String,
    /// `(subnet_id, ip_address, ip_version)`.
    pub fixed_ips: Vec<(String, String, u8)>,
    pub device_id: String,
    pub device_owner: String,
    pub security_group_ids: Vec<String>,
    /// Floating IPs associated to this port.
    pub floating_ips: Vec<String>,
    pub status: String,
    /// Whether the port may carry security groups (`port_security_enabled`).
    pub port_security_enabled: bool,
    /// The network's MTU.
    pub network_mtu: Option<u32>,
    /// The subnets of the fixed IPs, each once, in fixed IP order.
    pub subnets: Vec<SubnetInfo>,
}

/// A subnet as a guest's network configuration needs it (Nova's network
/// info: `network_data.json`, the config drive).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubnetInfo {
    pub id: String,
    pub cidr: String,
    pub ip_version: u8,
    pub gateway_ip: Option<String>,
    pub enable_dhcp: bool,
    /// The address of the network's DHCP port on this subnet, if any.
    pub dhcp_server: Option<String>,
    pub dns_nameservers: Vec<String>,
    /// `(destination, nexthop)`.
    pub host_routes: Vec<(String, String)>,
    pub ipv6_address_mode: Option<String>,
    pub ipv6_ra_mode: Option<String>,
}

/// A device's ports and the names of their security groups (each once, in
/// port order), as the device's owner sees them.
#[derive(Clone, Debug, Default)]
pub struct DeviceNetwork {
    pub ports: Vec<PortInfo>,
    pub security_group_names: Vec<String>,
}

/// A security group as compute shows it (`os-security-groups` form).
#[derive(Clone, Debug, Default)]
pub struct SecurityGroupInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub project_id: String,
    pub rules: Vec<SecurityGroupRuleInfo>,
}

/// One rule of a security group, in Neutron's terms.
#[derive(Clone, Debug, Default)]
pub struct SecurityGroupRuleInfo {
    pub id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}

/// What compute asks for when a server needs a NIC.
#[derive(Clone, Debug, Default)]
pub struct PortRequest {
    /// Use this existing port (must be unbound) ...
    pub port_id: Option<String>,
    /// ... or create one on this network ...
    pub network_id: Option<String>,
    /// ... with this fixed IP if given.
    pub fixed_ip: Option<String>,
    /// Security group names or ids (default: the project's `default`).
    pub security_groups: Vec<String>,
}

#[async_trait]
pub trait NetworkApi: Send + Sync + 'static {
    /// Networks the caller may boot on when no network is named (`auto`):
    /// the project's own and shared ones.
    async fn bootable_networks(&self, ctx: &AuthContext) -> ServiceResult<Vec<String>>;
    /// Check, without changing anything, that a NIC request could be met:
    /// its port exists, is visible and unused; its network exists and is
    /// visible; its fixed IP lies in one of the network's subnets and is
    /// free. Errors: 404 (network, port, address), 409 (port or IP in use).
    async fn check_port_request(&self, ctx: &AuthContext, req: &PortRequest) -> ServiceResult<()>;
    /// Create (or claim) a port and bind it to `device_id` with
    /// `device_owner` (`compute:nova`). Errors: 404 unknown network/port,
    /// 409 port in use / IP taken / no free IP, 400 bad fixed IP.
    async fn allocate_port(
        &self,
        ctx: &AuthContext,
        req: &PortRequest,
        device_id: &str,
        device_owner: &str,
    ) -> ServiceResult<PortInfo>;
    /// Ports bound to a device.
    async fn ports_of_device(
        &self,
        ctx: &AuthContext,
        device_id: &str,
    ) -> ServiceResult<Vec<PortInfo>>;
    /// Ports and security group names of several devices in one read, for
    /// a page of servers: `devices[n]` is `(owner, device_id)`, the answer's
    /// `n`th entry is what that owner sees of that device.
    async fn device_networks(
        &self,
        devices: &[(AuthContext, String)],
    ) -> ServiceResult<Vec<DeviceNetwork>>;
    /// Release a device's ports: delete those compute created, unbind the
    /// ones the user passed in, and disassociate their floating IPs.
    async fn release_ports(&self, ctx: &AuthContext, device_id: &str) -> ServiceResult<()>;
    /// The caller's project's security group named (or with the id)
    /// `name_or_id`; `default` is created on first use. Errors: 404 no such
    /// group, 409 several groups with that name.
    async fn find_security_group(
        &self,
        ctx: &AuthContext,
        name_or_id: &str,
    ) -> ServiceResult<SecurityGroupInfo>;
    /// Security groups by id (those that still exist).
    async fn security_groups(
        &self,
        ctx: &AuthContext,
        ids: &[String],
    ) -> ServiceResult<Vec<SecurityGroupInfo>>;
    /// Replace a port's security groups (ids). Errors: 404 unknown port,
    /// 400 port security disabled.
    async fn set_port_security_groups(
        &self,
        ctx: &AuthContext,
        port_id: &str,
        group_ids: &[String],
    ) -> ServiceResult<()>;
    /// Detach one port (`os-interface` DELETE).
    async fn release_port(
        &self,
        ctx: &AuthContext,
        device_id: &str,
        port_id: &str,
    ) -> ServiceResult<()>;
    /// The caller's project's auto-allocated network (Neutron's
    /// `auto-allocated-topology`, for Nova's `"networks": "auto"`): its id,
    /// made on first use with a subnet and a router to the default external
    /// network. Errors: 409 when no default external network exists
    /// ("Deployment error: No default router:external network.") or the
    /// topology cannot be made; 403 without a project scope.
    async fn auto_allocated_network(&self, ctx: &AuthContext) -> ServiceResult<String>;
}

/// A volume as compute needs to see it.
#[derive(Clone, Debug, Default)]
pub struct VolumeInfo {
    pub id: String,
    pub status: String,
    pub size_gb: i64,
    pub bootable: bool,
    pub data_path: Option<PathBuf>,
    /// `(server_id, attachment_id, device)`.
    pub attachments: Vec<(String, String, String)>,
    /// Made from a type with `multiattach="<is> True"`: may be attached to
    /// several servers at once.
    pub multiattach: bool,
    /// The image its data came from (Cinder's `volume_image_metadata`
    /// `image_id`).
    pub image_id: Option<String>,
}

/// What a volume made for a server starts from.
#[derive(Clone, Debug)]
pub enum BootVolumeSource {
    Image(String),
    Snapshot(String),
    Blank,
}

#[async_trait]
pub trait VolumeApi: Send + Sync + 'static {
    async fn get_volume(&self, ctx: &AuthContext, id: &str) -> ServiceResult<Option<VolumeInfo>>;
    /// A snapshot the caller may see: `(status, size in GiB)`.
    async fn get_snapshot(
        &self,
        ctx: &AuthContext,
        id: &str,
    ) -> ServiceResult<Option<(String, i64)>>;
    /// `available → attaching` (a multiattach volume also from `in-use`);
    /// 409 otherwise, or when already attached to `server_id`. Returns an
    /// attachment id.
    async fn reserve(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        server_id: &str,
    ) -> ServiceResult<String>;
    /// `attaching → in-use` with the attachment recorded at `device`.
    async fn attach(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
        device: &str,
    ) -> ServiceResult<()>;
    /// Back to `available` after a failed reserve/attach.
    async fn unreserve(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
    ) -> ServiceResult<()>;
    /// `in-use → detaching → available`, removing the attachment.
    async fn detach(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        attachment_id: &str,
    ) -> ServiceResult<()>;
    /// Create a volume for a server's `block_device_mapping_v2` entry with
    /// `destination_type: volume` (from an image, a snapshot, or blank, of
    /// an optional volume type); waits until it is available.
    async fn create_boot_volume(
        &self,
        ctx: &AuthContext,
        source: BootVolumeSource,
        size_gb: i64,
        volume_type: Option<String>,
    ) -> ServiceResult<VolumeInfo>;
    async fn delete_volume(&self, ctx: &AuthContext, id: &str) -> ServiceResult<()>;
    /// Rewrite an attached (`in-use`) volume with an image's data, as
    /// Cinder's `os-reimage` does for Nova's rebuild of a volume-backed
    /// server; waits until the volume is `in-use` again.
    async fn reimage_volume(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        image_id: &str,
    ) -> ServiceResult<()>;
    /// Snapshot a volume, in use or not (Cinder's `force`), named `name`;
    /// waits until the snapshot is available and returns its id.
    async fn snapshot_volume(
        &self,
        ctx: &AuthContext,
        volume_id: &str,
        name: &str,
    ) -> ServiceResult<String>;
}
