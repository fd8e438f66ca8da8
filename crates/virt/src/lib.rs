//! What runs guests: the `ComputeDriver` trait that compute's worker acts
//! through, the instant `fake` driver and the `qemu` driver.
//!
//! - `lib.rs`: the trait and the whole-guest description drivers are given.
//! - `fake.rs`: in-memory guests (CI users who want instant servers).
//! - `qemu/`: real QEMU guests — launching, QMP, disks, config drives.
//! - `accel.rs`: choosing KVM or TCG (KVM only when a probe guest really runs).
//! - `host.rs`: this host's CPUs, memory and disk, as hypervisor views show.
//!
//! The compute crate sees only the trait; API handlers never reach a driver
//! directly for anything that changes a guest (the worker does).

pub mod accel;
pub mod fake;
pub mod host;
pub mod qemu;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use fake::FakeDriver;
pub use host::HostResources;
pub use qemu::QemuDriver;

/// Nova's power states (the numbers the API shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerState {
    NoState = 0,
    Running = 1,
    Paused = 3,
    Shutdown = 4,
    Crashed = 6,
    Suspended = 7,
}

impl PowerState {
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// A failure reported by a driver (becomes the instance fault).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

impl DriverError {
    pub fn new(msg: impl Into<String>) -> Self {
        DriverError(msg.into())
    }
}

pub type DriverResult<T> = Result<T, DriverError>;

/// The resources a guest gets (from its flavor).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuestFlavor {
    pub vcpus: u32,
    pub memory_mb: u64,
    /// Root disk size; 0: the image's own size.
    pub root_gb: u64,
    pub ephemeral_gb: u64,
    pub swap_mb: u64,
}

/// A disk file on this host and its format (`qcow2`, `raw`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskFile {
    pub path: PathBuf,
    pub format: String,
}

/// What the guest's root disk is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum RootDisk {
    /// No disk (the fake driver's guests, or an image without data).
    #[default]
    None,
    /// A copy-on-write disk of its own, on top of this image file.
    Image(DiskFile),
    /// A Cinder volume's file, used in place (boot from volume).
    Volume { volume_id: String, file: DiskFile },
}

/// A volume attached to the guest (besides a boot volume).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeDisk {
    pub volume_id: String,
    pub file: DiskFile,
    /// Where the API says it is (`/dev/vdb`).
    pub device: String,
    /// A multiattach volume: other guests may have the file open read-write
    /// too, so it is opened without QEMU's image locking.
    #[serde(default)]
    pub shared: bool,
}

/// A NIC: one per Neutron port, with the port's MAC.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    pub port_id: String,
    pub mac: String,
    pub network_id: String,
    pub fixed_ips: Vec<String>,
}

/// The files of a config drive (`openstack/latest/meta_data.json`, ...),
/// by path inside the drive; the driver lays them out on an ISO 9660
/// image labelled `config-2`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigDrive {
    pub files: Vec<(String, Vec<u8>)>,
}

/// Everything a driver needs to run one guest.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Guest {
    /// The server's id (also the guest's SMBIOS UUID).
    pub uuid: String,
    pub name: String,
    pub hostname: String,
    pub flavor: GuestFlavor,
    pub root: RootDisk,
    pub volumes: Vec<VolumeDisk>,
    pub nics: Vec<Nic>,
    /// Not kept in the instance directory's record.
    #[serde(skip)]
    pub config_drive: Option<ConfigDrive>,
}

/// A guest's figures as its hypervisor counts them (Nova's server
/// diagnostics). What the driver cannot tell is `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    /// Seconds since the guest's machine started.
    pub uptime_s: Option<i64>,
    /// CPU time each vCPU used so far, nanoseconds, by vCPU index.
    pub cpu_time_ns: Vec<Option<u64>>,
    /// Memory the guest was given, KiB.
    pub memory_max_kib: u64,
    /// Memory the guest has now (the balloon's size), KiB.
    pub memory_actual_kib: Option<u64>,
    /// Resident memory of the guest's process on the host, KiB.
    pub memory_rss_kib: Option<u64>,
    /// Every disk the guest has, in the order the guest sees them.
    pub disks: Vec<DiskStats>,
    /// One per NIC.
    pub nics: Vec<NicStats>,
}

/// One disk's I/O since the guest started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskStats {
    /// The guest's name for it, as libvirt shows it (`vda`, `hdd`).
    pub name: String,
    pub read_bytes: u64,
    pub read_requests: u64,
    pub write_bytes: u64,
    pub write_requests: u64,
    /// Failed reads and writes.
    pub errors: u64,
}

/// One NIC; `counters` as the guest sees them (what it received is `rx`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NicStats {
    pub port_id: String,
    pub mac: String,
    /// The host device behind the NIC (`tap…`), when there is one.
    pub device: Option<String>,
    pub counters: Option<NicCounters>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NicCounters {
    pub rx_octets: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_drop: u64,
    pub tx_octets: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_drop: u64,
}

/// A guest as the driver finds it on this host.
#[derive(Clone, Debug, PartialEq)]
pub struct GuestStatus {
    pub uuid: String,
    pub power: PowerState,
}

#[async_trait]
pub trait ComputeDriver: Send + Sync + 'static {
    /// `fake` or `qemu`.
    fn name(&self) -> &'static str;
    /// Whether guests run on real disk files (image files, volume paths):
    /// when not, callers need not fetch them.
    fn uses_disk_files(&self) -> bool {
        true
    }
    /// What this host offers guests (the hypervisor's capacity).
    fn host_resources(&self) -> HostResources;
    /// Whether the driver takes snapshots of attached file-based volumes
    /// for the volume service (Nova's `os-assisted-volume-snapshots`).
    fn assisted_volume_snapshots(&self) -> bool {
        false
    }

    /// Create the guest's disks (unless they exist) and boot it. Idempotent:
    /// a guest already running is left as it is.
    async fn spawn(&self, guest: &Guest) -> DriverResult<()>;
    /// Stop the guest and remove everything it had on this host; fine if it
    /// does not exist.
    async fn destroy(&self, uuid: &str) -> DriverResult<()>;
    /// Ask the guest to power off (ACPI), then stop it hard after `timeout`.
    async fn power_off(&self, uuid: &str, timeout: Duration) -> DriverResult<()>;
    /// Boot a guest that is off, from the disks it has.
    async fn power_on(&self, guest: &Guest) -> DriverResult<()>;
    /// `hard`: stop and boot again at once; soft: power off cleanly first.
    async fn reboot(&self, guest: &Guest, hard: bool, timeout: Duration) -> DriverResult<()>;
    /// Stop the guest's CPUs (its memory stays).
    async fn pause(&self, uuid: &str) -> DriverResult<()>;
    async fn unpause(&self, uuid: &str) -> DriverResult<()>;
    /// Save the guest's state to disk and stop it.
    async fn suspend(&self, uuid: &str) -> DriverResult<()>;
    /// Boot the guest again from its saved state.
    async fn resume(&self, guest: &Guest) -> DriverResult<()>;
    /// Boot the guest from `image` with its own root disk attached second.
    async fn rescue(&self, guest: &Guest, image: &DiskFile) -> DriverResult<()>;
    /// Back to the guest's own disk, running; the rescue disk is removed.
    async fn unrescue(&self, guest: &Guest) -> DriverResult<()>;
    /// Give the guest `guest.flavor` (its disk grown to it), keeping what
    /// a revert needs; it runs afterwards when `running`.
    async fn resize(&self, guest: &Guest, running: bool) -> DriverResult<()>;
    /// Forget what a revert would need.
    async fn confirm_resize(&self, uuid: &str) -> DriverResult<()>;
    /// Back to the disk from before the resize, with `guest.flavor` (the old
    /// one); it runs afterwards when `running`.
    async fn revert_resize(&self, guest: &Guest, running: bool) -> DriverResult<()>;
    /// A fresh root disk from `guest.root` (the new image), booted when
    /// `running`; volumes, NICs and id stay.
    async fn rebuild(&self, guest: &Guest, running: bool) -> DriverResult<()>;
    /// Write the guest's root disk, consistent, as a standalone qcow2 file
    /// at `out`.
    async fn snapshot(&self, uuid: &str, out: &Path) -> DriverResult<()>;
    /// Hot-plug a volume into a running guest (or only record it when off).
    async fn attach_volume(&self, uuid: &str, volume: &VolumeDisk) -> DriverResult<()>;
    /// Unplug a volume; returns once the guest released it.
    async fn detach_volume(&self, uuid: &str, volume_id: &str) -> DriverResult<()>;
    /// Hot-plug a NIC into a running guest (or only record it when off).
    async fn attach_interface(&self, uuid: &str, nic: &Nic) -> DriverResult<()>;
    /// Unplug a NIC; returns once the guest released it.
    async fn detach_interface(&self, uuid: &str, port_id: &str) -> DriverResult<()>;
    /// What the guest is doing now (`NoState` when it does not exist).
    async fn power_state(&self, uuid: &str) -> PowerState;
    /// Every guest this driver has on this host.
    async fn list_guests(&self) -> Vec<GuestStatus>;
    /// The guest's serial console so far.
    async fn console_output(&self, uuid: &str) -> String;
    /// What the hypervisor counts for a running guest (CPU time, disk and
    /// NIC traffic, memory); `None` when the driver counts nothing or the
    /// guest does not run.
    async fn diagnostics(&self, _uuid: &str) -> Option<Diagnostics> {
        None
    }
}
