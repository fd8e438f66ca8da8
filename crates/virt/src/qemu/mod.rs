//! The QEMU driver: every guest is a `qemu-system-x86_64` process of its
//! own, started daemonized (so guests outlive a restart of Ferrostack and
//! are adopted again by their pid file and QMP socket), driven over QMP.
//!
//! - `files.rs`: the instance directory and the base images.
//! - `launch.rs`: the command line and the process (start, stop, alive).
//! - `qmp.rs`: the QMP client.
//! - `img.rs`: disks with `qemu-img`.
//! - `configdrive.rs`: config drives with `genisoimage`.
//! - `stats.rs`: a running guest's figures (server diagnostics).
//!
//! NICs: each port is a virtio NIC with the port's MAC — with the data
//! plane on, a tap `tap<port id>` in the namespace QEMU runs in (the data
//! plane bridges it); without, QEMU user networking with `restrict=on` (the
//! guest can reach nothing outside its own QEMU process).

mod configdrive;
mod files;
mod img;
mod launch;
mod qmp;
mod stats;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::accel::Accel;
use crate::{
    ComputeDriver, Diagnostics, DiskFile, DriverError, DriverResult, Guest, GuestStatus,
    HostResources, Nic, PowerState, RootDisk, VolumeDisk,
};
use files::Layout;
use launch::{Boot, Process};
use qmp::Qmp;

/// How often the ACPI power button is pressed again during a clean
/// shutdown.
const POWERDOWN_RETRY: Duration = Duration::from_secs(3);

/// How long a hot-unplugged disk may take the guest to release.
const DETACH_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the unplug request is repeated until then: a guest that was not
/// listening yet (early in its boot, e.g. just after a reboot or rebuild)
/// never sees the first ACPI hot-unplug request, and QEMU accepts it again.
const DETACH_RETRY: Duration = Duration::from_secs(3);

pub struct QemuDriver {
    binary: PathBuf,
    accel: Accel,
    layout: Layout,
    version: i64,
    /// One lock per guest: operations on a guest never overlap.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// With a data plane: the namespace guests run in, each NIC a tap
    /// (`tap<port id>`) there that the data plane puts in its network's
    /// bridge. Without: QEMU user networking, `restrict=on`.
    netns: Option<String>,
    /// Held while a base image is taken into use (until the guest's files
    /// name it) and while unused bases are removed, so a guest being built
    /// never loses its base to another guest's removal.
    bases: tokio::sync::Mutex<()>,
}

impl QemuDriver {
    /// One QMP command without arguments, under the guest's lock.
    async fn one_command(&self, uuid: &str, command: &str) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        self.qmp(uuid)
            .await?
            .execute(command, None)
            .await
            .map(|_| ())
    }

    /// `binary`: the `qemu-system-x86_64` to run; `instances`: where guests'
    /// files live (`DATA/instances`).
    pub async fn new(binary: PathBuf, accel: Accel, instances: PathBuf) -> DriverResult<Self> {
        std::fs::create_dir_all(&instances)
            .map_err(|e| DriverError(format!("cannot make {}: {e}", instances.display())))?;
        let version = launch::version(&binary).await?;
        Ok(QemuDriver {
            binary,
            accel,
            layout: Layout::new(instances),
            version,
            locks: Mutex::new(HashMap::new()),
            netns: None,
            bases: tokio::sync::Mutex::new(()),
        })
    }

    /// Run guests in network namespace `ns`, NICs as taps there.
    pub fn with_network_namespace(mut self, ns: String) -> Self {
        self.netns = Some(ns);
        self
    }

    pub fn accel(&self) -> Accel {
        self.accel
    }

    /// QEMU's version, as Nova encodes it (10.0.2 → 10000002).
    pub fn version(&self) -> i64 {
        self.version
    }

    fn lock_of(&self, uuid: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.locks.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(uuid.to_owned()).or_default().clone()
    }

    /// Remove the base images no guest uses any more.
    async fn prune_bases(&self) {
        let _b = self.bases.lock().await;
        self.layout.prune_bases();
    }

    fn process(&self, uuid: &str) -> Process {
        Process::new(self.layout.dir(uuid), uuid)
    }

    async fn qmp(&self, uuid: &str) -> DriverResult<Qmp> {
        Qmp::connect(&self.layout.dir(uuid)).await
    }

    /// Make what the guest's boot needs and is missing: its directory,
    /// root disk, ephemeral and swap disks, config drive.
    async fn prepare(&self, guest: &Guest) -> DriverResult<()> {
        let dir = self.layout.create(&guest.uuid)?;
        if let RootDisk::Image(image) = &guest.root {
            let disk = dir.join("disk");
            if !disk.exists() {
                let _b = self.bases.lock().await;
                let base = self.layout.base_of(image)?;
                self.layout.record_base(&guest.uuid, "disk.base", &base)?;
                img::overlay(&base, &disk, guest.flavor.root_gb).await?;
                self.layout.save_guest(guest)?;
            }
        }
        let eph = dir.join("disk.eph0");
        if guest.flavor.ephemeral_gb > 0 && !eph.exists() {
            img::blank(&eph, guest.flavor.ephemeral_gb * 1024).await?;
        }
        let swap = dir.join("disk.swap");
        if guest.flavor.swap_mb > 0 && !swap.exists() {
            img::blank(&swap, guest.flavor.swap_mb).await?;
        }
        let config = dir.join("disk.config");
        if let Some(drive) = &guest.config_drive {
            if !config.exists() {
                configdrive::build(drive, &config).await?;
            }
        }
        self.layout.save_guest(guest)
    }

    /// Start QEMU for `guest` as `boot` says, and wait until QMP answers.
    async fn start(&self, guest: &Guest, boot: Boot) -> DriverResult<()> {
        let dir = self.layout.dir(&guest.uuid);
        let _ = std::fs::remove_file(dir.join("off"));
        let _ = std::fs::remove_file(dir.join("crash.reported"));
        let args = launch::command_line(&dir, guest, self.accel, &boot, self.netns.is_some());
        launch::start(&self.binary, &dir, &args, self.netns.as_deref()).await?;
        let mut q = self.qmp(&guest.uuid).await?;
        if let Boot::Incoming(state) = &boot {
            let uri = format!("file:{}", state.display());
            q.execute("migrate-incoming", Some(json!({ "uri": uri })))
                .await?;
            wait_migration(&mut q).await?;
            q.execute("cont", None).await?;
        }
        Ok(())
    }

    /// Stop the QEMU process now (no guest shutdown), marking it stopped
    /// on purpose.
    async fn halt(&self, uuid: &str) -> DriverResult<()> {
        let dir = self.layout.dir(uuid);
        if dir.exists() {
            std::fs::write(dir.join("off"), b"")
                .map_err(|e| DriverError(format!("cannot mark the guest off: {e}")))?;
        }
        let p = self.process(uuid);
        if p.alive() {
            if let Ok(mut q) = self.qmp(uuid).await {
                let _ = q.execute("quit", None).await;
            }
            p.wait_gone(Duration::from_secs(5)).await;
            p.kill();
            p.wait_gone(Duration::from_secs(5)).await;
        }
        p.forget();
        Ok(())
    }

    /// ACPI power-down, then `halt` after `timeout` at the latest.
    async fn shutdown(&self, uuid: &str, timeout: Duration) -> DriverResult<()> {
        let p = self.process(uuid);
        if p.alive() && !timeout.is_zero() {
            if let Ok(mut q) = self.qmp(uuid).await {
                let running = q.status().await.map(|s| s == "running").unwrap_or(false);
                if running && q.execute("system_powerdown", None).await.is_ok() {
                    // A guest still booting misses the power button: press
                    // it again now and then, as Nova's libvirt driver does.
                    let deadline = tokio::time::Instant::now() + timeout;
                    let mut next_press = tokio::time::Instant::now() + POWERDOWN_RETRY;
                    while tokio::time::Instant::now() < deadline {
                        match q.status().await {
                            Ok(s) if s == "shutdown" => break,
                            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                            Err(_) => break,
                        }
                        if tokio::time::Instant::now() >= next_press {
                            let _ = q.execute("system_powerdown", None).await;
                            next_press += POWERDOWN_RETRY;
                        }
                    }
                }
            }
        }
        self.halt(uuid).await
    }

    fn state_of(&self, uuid: &str) -> PowerState {
        let dir = self.layout.dir(uuid);
        if !dir.exists() {
            return PowerState::NoState;
        }
        if dir.join("state.save").exists() {
            return PowerState::Suspended;
        }
        if dir.join("off").exists() {
            return PowerState::Shutdown;
        }
        PowerState::Crashed
    }

    async fn live_state(&self, uuid: &str) -> PowerState {
        if !self.process(uuid).alive() {
            let state = self.state_of(uuid);
            if state == PowerState::Crashed {
                self.report_crash(uuid);
            }
            return state;
        }
        let status = match self.qmp(uuid).await {
            Ok(mut q) => q.status().await,
            Err(e) => Err(e),
        };
        match status.as_deref() {
            Ok("running") => PowerState::Running,
            Ok("shutdown") => PowerState::Shutdown,
            Ok("guest-panicked" | "internal-error" | "io-error") => PowerState::Crashed,
            Ok("postmigrate" | "finish-migrate") => PowerState::Suspended,
            Ok(_) => PowerState::Paused,
            Err(_) => PowerState::NoState,
        }
    }

    /// Log, once per crash, that a guest's QEMU is gone without being
    /// stopped, with the end of what QEMU said (`qemu.log`).
    fn report_crash(&self, uuid: &str) {
        let marker = self.layout.file(uuid, "crash.reported");
        if marker.exists() {
            return;
        }
        let said =
            std::fs::read_to_string(self.layout.file(uuid, launch::QEMU_LOG)).unwrap_or_default();
        let lines: Vec<&str> = said.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        tracing::warn!(instance = uuid, qemu_log = %tail, "QEMU is gone without being stopped");
        let _ = std::fs::write(marker, b"");
    }

    fn root_disk(&self, guest: &Guest) -> Option<DiskFile> {
        match &guest.root {
            RootDisk::Image(_) => Some(DiskFile {
                path: self.layout.file(&guest.uuid, "disk"),
                format: "qcow2".into(),
            }),
            RootDisk::Volume { file, .. } => Some(file.clone()),
            RootDisk::None => None,
        }
    }

    async fn boot_normal(&self, guest: &Guest) -> DriverResult<()> {
        self.prepare(guest).await?;
        self.start(guest, Boot::Normal).await
    }
}

/// Wait for an incoming or outgoing migration (to or from a file) to end.
async fn wait_migration(q: &mut Qmp) -> DriverResult<()> {
    for _ in 0..1200 {
        let r = q.execute("query-migrate", None).await?;
        match r["status"].as_str() {
            Some("completed") => return Ok(()),
            Some("failed" | "cancelled") => {
                let why = r["error-desc"].as_str().unwrap_or("migration failed");
                return Err(DriverError(format!("saving or loading guest state: {why}")));
            }
            // Before an incoming load starts, query-migrate is empty.
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    Err(DriverError(
        "saving or loading guest state timed out".into(),
    ))
}

/// QMP names for a volume's block node and device.
/// Ask the guest to release device `dev` (ACPI hot-unplug) until QEMU says
/// it is gone, asking again now and then (a guest still booting ignores
/// the first request); `what` names it in the error.
async fn unplug(q: &mut Qmp, dev: &str, what: &str) -> DriverResult<()> {
    let deadline = tokio::time::Instant::now() + DETACH_TIMEOUT;
    loop {
        match q.execute("device_del", Some(json!({ "id": dev }))).await {
            Ok(_) => {}
            // Already gone (e.g. unplugged before a crash, or just now).
            Err(e) if e.0.contains("not found") => return Ok(()),
            // The previous request is still pending: wait on.
            Err(e) if e.0.contains("process of unplug") => {}
            Err(e) => return Err(e),
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(DriverError(format!(
                "the guest did not release {what} within {} s",
                DETACH_TIMEOUT.as_secs()
            )));
        }
        let released = q
            .wait_event("DEVICE_DELETED", left.min(DETACH_RETRY), |d| {
                d["device"].as_str() == Some(dev)
            })
            .await;
        if released.is_ok() {
            return Ok(());
        }
    }
}

fn volume_ids(volume_id: &str) -> (String, String) {
    let compact: String = volume_id.chars().filter(|c| *c != '-').take(24).collect();
    (format!("vol-{compact}"), format!("dev-vol-{compact}"))
}

#[async_trait]
impl ComputeDriver for QemuDriver {
    fn name(&self) -> &'static str {
        "qemu"
    }

    fn host_resources(&self) -> HostResources {
        crate::host::probe(self.layout.root(), "QEMU", self.version)
    }

    async fn spawn(&self, guest: &Guest) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        if self.process(&guest.uuid).alive() {
            return Ok(());
        }
        self.boot_normal(guest).await
    }

    async fn destroy(&self, uuid: &str) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        self.halt(uuid).await?;
        let dir = self.layout.dir(uuid);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| DriverError(format!("cannot remove {}: {e}", dir.display())))?;
        }
        self.prune_bases().await;
        Ok(())
    }

    async fn power_off(&self, uuid: &str, timeout: Duration) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        self.shutdown(uuid, timeout).await
    }

    async fn power_on(&self, guest: &Guest) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        if self.process(&guest.uuid).alive() {
            if let Ok(mut q) = self.qmp(&guest.uuid).await {
                if q.status().await.is_ok_and(|s| s == "running") {
                    return Ok(());
                }
            }
            self.halt(&guest.uuid).await?;
        }
        self.boot_normal(guest).await
    }

    async fn reboot(&self, guest: &Guest, hard: bool, timeout: Duration) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        let wait = if hard { Duration::ZERO } else { timeout };
        self.shutdown(&guest.uuid, wait).await?;
        self.boot_normal(guest).await
    }

    async fn pause(&self, uuid: &str) -> DriverResult<()> {
        self.one_command(uuid, "stop").await
    }

    async fn unpause(&self, uuid: &str) -> DriverResult<()> {
        self.one_command(uuid, "cont").await
    }

    /// The guest's CPUs stop, its memory and device state go to
    /// `state.save` (QEMU's migration to a file), and the process ends.
    async fn suspend(&self, uuid: &str) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let dir = self.layout.dir(uuid);
        if dir.join("state.save").exists() && !self.process(uuid).alive() {
            return Ok(());
        }
        let tmp = dir.join("state.part");
        let _ = std::fs::remove_file(&tmp);
        let mut q = self.qmp(uuid).await?;
        q.execute("stop", None).await?;
        let uri = format!("file:{}", tmp.display());
        q.execute("migrate", Some(json!({ "uri": uri }))).await?;
        if let Err(e) = wait_migration(&mut q).await {
            let _ = q.execute("cont", None).await;
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        drop(q);
        std::fs::rename(&tmp, dir.join("state.save"))
            .map_err(|e| DriverError(format!("cannot keep the saved state: {e}")))?;
        self.halt(uuid).await
    }

    async fn resume(&self, guest: &Guest) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        let state = self.layout.file(&guest.uuid, "state.save");
        if self.process(&guest.uuid).alive() {
            return Ok(());
        }
        if !state.exists() {
            return self.boot_normal(guest).await;
        }
        self.prepare(guest).await?;
        let result = self.start(guest, Boot::Incoming(state.clone())).await;
        if result.is_err() {
            self.halt(&guest.uuid).await?;
        }
        let _ = std::fs::remove_file(&state);
        result
    }

    async fn rescue(&self, guest: &Guest, image: &DiskFile) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        self.shutdown(&guest.uuid, Duration::ZERO).await?;
        self.prepare(guest).await?;
        let rescue = self.layout.file(&guest.uuid, "disk.rescue");
        if !rescue.exists() {
            let _b = self.bases.lock().await;
            let base = self.layout.base_of(image)?;
            self.layout.record_base(&guest.uuid, "rescue-base", &base)?;
            img::overlay(&base, &rescue, 0).await?;
        }
        let root = self.root_disk(guest);
        self.start(guest, Boot::Rescue { rescue, root }).await
    }

    async fn unrescue(&self, guest: &Guest) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        self.halt(&guest.uuid).await?;
        let _ = std::fs::remove_file(self.layout.file(&guest.uuid, "disk.rescue"));
        let _ = std::fs::remove_file(self.layout.file(&guest.uuid, "rescue-base"));
        self.prune_bases().await;
        self.boot_normal(guest).await
    }

    /// The guest is powered off, its root disk kept aside (a revert puts
    /// it back) and grown to the new flavor, and booted with the new
    /// flavor's memory and CPUs.
    async fn resize(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        self.halt(&guest.uuid).await?;
        let disk = self.layout.file(&guest.uuid, "disk");
        let backup = self.layout.file(&guest.uuid, "disk.resize-backup");
        if disk.exists() && !backup.exists() {
            let tmp = backup.with_extension("part");
            std::fs::copy(&disk, &tmp)
                .and_then(|_| std::fs::rename(&tmp, &backup))
                .map_err(|e| DriverError(format!("cannot keep the disk for a revert: {e}")))?;
        }
        if disk.exists() {
            img::grow(&disk, guest.flavor.root_gb).await?;
        }
        self.prepare(guest).await?;
        if running {
            self.start(guest, Boot::Normal).await?;
        }
        Ok(())
    }

    async fn confirm_resize(&self, uuid: &str) -> DriverResult<()> {
        let _ = std::fs::remove_file(self.layout.file(uuid, "disk.resize-backup"));
        Ok(())
    }

    async fn revert_resize(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        self.halt(&guest.uuid).await?;
        let backup = self.layout.file(&guest.uuid, "disk.resize-backup");
        if backup.exists() {
            std::fs::rename(&backup, self.layout.file(&guest.uuid, "disk"))
                .map_err(|e| DriverError(format!("cannot restore the disk: {e}")))?;
        }
        self.prepare(guest).await?;
        if running {
            self.start(guest, Boot::Normal).await?;
        }
        Ok(())
    }

    async fn rebuild(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        let lock = self.lock_of(&guest.uuid);
        let _g = lock.lock().await;
        self.halt(&guest.uuid).await?;
        for name in [
            "disk",
            "disk.base",
            "disk.config",
            "state.save",
            "disk.resize-backup",
        ] {
            let _ = std::fs::remove_file(self.layout.file(&guest.uuid, name));
        }
        self.prepare(guest).await?;
        self.prune_bases().await;
        if running {
            self.start(guest, Boot::Normal).await?;
        }
        Ok(())
    }

    /// A running guest is paused while its disk is copied (pausing flushes
    /// QEMU's writes), so the copy is consistent; then it runs on.
    async fn snapshot(&self, uuid: &str, out: &Path) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let guest = self
            .layout
            .load_guest(uuid)
            .ok_or_else(|| DriverError(format!("no guest {uuid} on this host")))?;
        let disk = self
            .root_disk(&guest)
            .ok_or_else(|| DriverError("the guest has no root disk".into()))?;
        let mut resume = None;
        if self.process(uuid).alive() {
            let mut q = self.qmp(uuid).await?;
            if q.status().await? == "running" {
                q.execute("stop", None).await?;
                resume = Some(q);
            }
        }
        let result = img::flatten(&disk, out).await;
        if let Some(mut q) = resume {
            q.execute("cont", None).await?;
        }
        result
    }

    async fn attach_volume(&self, uuid: &str, volume: &VolumeDisk) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let mut guest = self
            .layout
            .load_guest(uuid)
            .ok_or_else(|| DriverError(format!("no guest {uuid} on this host")))?;
        if self.process(uuid).alive()
            && !guest
                .volumes
                .iter()
                .any(|v| v.volume_id == volume.volume_id)
        {
            let (node, dev) = volume_ids(&volume.volume_id);
            let mut q = self.qmp(uuid).await?;
            let format = img::qemu_format(&volume.file.format)?;
            q.execute(
                "blockdev-add",
                Some(launch::volume_blockdev(&node, volume, format)),
            )
            .await?;
            let serial: String = volume.volume_id.chars().take(20).collect();
            let added = q
                .execute(
                    "device_add",
                    Some(json!({"driver": "virtio-blk-pci", "drive": node, "id": dev, "serial": serial})),
                )
                .await;
            if let Err(e) = added {
                let _ = q
                    .execute("blockdev-del", Some(json!({ "node-name": node })))
                    .await;
                return Err(e);
            }
        }
        guest.volumes.retain(|v| v.volume_id != volume.volume_id);
        guest.volumes.push(volume.clone());
        self.layout.save_guest(&guest)
    }

    async fn detach_volume(&self, uuid: &str, volume_id: &str) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let Some(mut guest) = self.layout.load_guest(uuid) else {
            return Ok(());
        };
        if self.process(uuid).alive() && guest.volumes.iter().any(|v| v.volume_id == volume_id) {
            let (node, dev) = volume_ids(volume_id);
            let mut q = self.qmp(uuid).await?;
            unplug(&mut q, &dev, &format!("volume {volume_id}")).await?;
            let _ = q
                .execute("blockdev-del", Some(json!({ "node-name": node })))
                .await;
        }
        guest.volumes.retain(|v| v.volume_id != volume_id);
        self.layout.save_guest(&guest)
    }

    async fn attach_interface(&self, uuid: &str, nic: &Nic) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let mut guest = self
            .layout
            .load_guest(uuid)
            .ok_or_else(|| DriverError(format!("no guest {uuid} on this host")))?;
        if self.process(uuid).alive() && !guest.nics.iter().any(|n| n.port_id == nic.port_id) {
            let mut q = self.qmp(uuid).await?;
            let netdev = launch::nic_netdev(nic, self.netns.is_some());
            q.execute("netdev_add", Some(netdev)).await?;
            if let Err(e) = q.execute("device_add", Some(launch::nic_device(nic))).await {
                let (id, _) = launch::nic_ids(&nic.port_id);
                let _ = q.execute("netdev_del", Some(json!({ "id": id }))).await;
                return Err(e);
            }
        }
        guest.nics.retain(|n| n.port_id != nic.port_id);
        guest.nics.push(nic.clone());
        self.layout.save_guest(&guest)
    }

    async fn detach_interface(&self, uuid: &str, port_id: &str) -> DriverResult<()> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let Some(mut guest) = self.layout.load_guest(uuid) else {
            return Ok(());
        };
        if self.process(uuid).alive() && guest.nics.iter().any(|n| n.port_id == port_id) {
            let (netdev, dev) = launch::nic_ids(port_id);
            let mut q = self.qmp(uuid).await?;
            unplug(&mut q, &dev, &format!("port {port_id}")).await?;
            let _ = q.execute("netdev_del", Some(json!({ "id": netdev }))).await;
        }
        guest.nics.retain(|n| n.port_id != port_id);
        self.layout.save_guest(&guest)
    }

    async fn power_state(&self, uuid: &str) -> PowerState {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        self.live_state(uuid).await
    }

    async fn list_guests(&self) -> Vec<GuestStatus> {
        let mut out = Vec::new();
        for uuid in self.layout.uuids() {
            let power = self.power_state(&uuid).await;
            out.push(GuestStatus { uuid, power });
        }
        out
    }

    async fn diagnostics(&self, uuid: &str) -> Option<Diagnostics> {
        let lock = self.lock_of(uuid);
        let _g = lock.lock().await;
        let pid = self.process(uuid).live_pid()?;
        let guest = self.layout.load_guest(uuid)?;
        let mut q = self.qmp(uuid).await.ok()?;
        Some(stats::read(&mut q, pid, &guest, self.netns.is_some()).await)
    }

    async fn console_output(&self, uuid: &str) -> String {
        let path = self.layout.file(uuid, "console.log");
        let bytes = tokio::fs::read(&path).await.unwrap_or_default();
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }
}
