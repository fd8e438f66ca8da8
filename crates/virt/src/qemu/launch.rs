//! The QEMU process: its command line, starting it daemonized, knowing
//! whether it still runs, stopping it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use tokio::process::Command;

use crate::accel::Accel;
use crate::{DiskFile, DriverError, DriverResult, Guest, Nic, RootDisk, VolumeDisk};

/// How the guest boots.
pub enum Boot {
    /// From its own disks.
    Normal,
    /// Loading the state saved by a suspend, then running on.
    Incoming(PathBuf),
    /// From the rescue disk, its own root disk second.
    Rescue {
        rescue: PathBuf,
        root: Option<DiskFile>,
    },
}

/// QEMU's version as Nova encodes it (major * 1e6 + minor * 1e3 + micro).
pub async fn version(binary: &Path) -> DriverResult<i64> {
    let out = Command::new(binary)
        .arg("--version")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| DriverError(format!("cannot run {}: {e}", binary.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("0.0.0");
    let mut parts = v.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<i64>()
            .unwrap_or(0)
    });
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    Ok(a * 1_000_000 + b * 1_000 + c)
}

/// A `-blockdev` / `blockdev-add` definition: a format node on a file.
pub fn blockdev(node: &str, path: &Path, format: &str, read_only: bool) -> Value {
    json!({
        "driver": format,
        "node-name": node,
        "read-only": read_only,
        "file": {"driver": "file", "filename": path.to_string_lossy(), "read-only": read_only},
    })
}

/// `blockdev` for an attached volume: a multiattach one is not locked (the
/// other guests' QEMU processes hold the same file open read-write).
pub fn volume_blockdev(node: &str, volume: &VolumeDisk, format: &str) -> Value {
    let mut b = blockdev(node, &volume.file.path, format, false);
    if volume.shared {
        b["file"]["locking"] = json!("off");
    }
    b
}

fn disk_args(args: &mut Vec<String>, node: &str, path: &Path, format: &str, device: Value) {
    blockdev_args(args, node, blockdev(node, path, format, false), device);
}

fn blockdev_args(args: &mut Vec<String>, node: &str, bdev: Value, device: Value) {
    args.push("-blockdev".into());
    args.push(bdev.to_string());
    let mut dev = json!({"driver": "virtio-blk-pci", "drive": node});
    if let (Some(d), Some(extra)) = (dev.as_object_mut(), device.as_object()) {
        d.extend(extra.clone());
    }
    args.push("-device".into());
    args.push(dev.to_string());
}

/// The QEMU ids of a port's NIC: `(netdev, device)`.
pub fn nic_ids(port_id: &str) -> (String, String) {
    let compact: String = port_id.chars().filter(|c| *c != '-').take(24).collect();
    (format!("net-{compact}"), format!("nic-{compact}"))
}

/// A NIC's back end: the port's tap (`tap` + 11 characters of its id,
/// Neutron's name; the data plane puts it in the network's bridge), or
/// user networking that reaches nothing (`restrict=on`) without a data
/// plane. The same JSON serves `-netdev` and QMP's `netdev_add`.
pub fn nic_netdev(nic: &Nic, taps: bool) -> Value {
    let (id, _) = nic_ids(&nic.port_id);
    if taps {
        json!({"type": "tap", "id": id, "ifname": tap_name(&nic.port_id),
               "script": "no", "downscript": "no"})
    } else {
        json!({"type": "user", "id": id, "restrict": true})
    }
}

/// QEMU's own messages (its stderr once daemonized), in the instance directory.
pub const QEMU_LOG: &str = "qemu.log";

/// The tap of a port: `tap` and the first 11 characters of its id.
pub fn tap_name(port_id: &str) -> String {
    let short: String = port_id.chars().take(11).collect();
    format!("tap{short}")
}

/// A NIC's virtio device, with the port's MAC (`-device` or `device_add`).
pub fn nic_device(nic: &Nic) -> Value {
    let (netdev, id) = nic_ids(&nic.port_id);
    json!({"driver": "virtio-net-pci", "netdev": netdev, "mac": nic.mac, "id": id})
}

/// The command line (after the binary) for `guest` in `dir`.
pub fn command_line(
    dir: &Path,
    guest: &Guest,
    accel: Accel,
    boot: &Boot,
    taps: bool,
) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| (*s).to_owned()));
    push(&["-daemonize", "-pidfile"]);
    a.push(dir.join("qemu.pid").to_string_lossy().into_owned());
    // With a log file QEMU keeps its stderr there after daemonizing
    // (otherwise /dev/null), so what it says when a guest dies is kept.
    a.extend([
        "-D".into(),
        dir.join(QEMU_LOG).to_string_lossy().into_owned(),
        "-msg".into(),
        "timestamp=on".into(),
    ]);
    a.extend([
        "-name".into(),
        format!("guest={},process=qemu-{}", guest.uuid, guest.uuid),
    ]);
    a.extend(["-uuid".into(), guest.uuid.clone()]);
    a.extend([
        "-smbios".into(),
        format!(
            "type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial={},family=Virtual Machine",
            guest.uuid
        ),
    ]);
    a.extend(["-machine".into(), "pc".into()]);
    match accel {
        Accel::Kvm => a.extend(["-accel".into(), "kvm".into(), "-cpu".into(), "host".into()]),
        Accel::Tcg => a.extend(["-accel".into(), "tcg,tb-size=16".into()]),
    }
    a.extend(["-m".into(), guest.flavor.memory_mb.max(16).to_string()]);
    a.extend(["-smp".into(), guest.flavor.vcpus.max(1).to_string()]);
    a.extend(
        [
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-shutdown",
            // Relative to the instance directory (QEMU's working directory
            // until it has made its sockets): unix socket paths are short.
            "-qmp",
            "unix:qmp.sock,server=on,wait=off",
            "-chardev",
        ]
        .map(str::to_owned),
    );
    a.push(format!(
        "file,id=serial0,path={},append=on",
        dir.join("console.log").to_string_lossy()
    ));
    a.extend(["-serial".into(), "chardev:serial0".into()]);

    let mut boot_index = 0;
    let own_root = match &guest.root {
        RootDisk::Image(_) => Some(DiskFile {
            path: dir.join("disk"),
            format: "qcow2".into(),
        }),
        RootDisk::Volume { file, .. } => Some(file.clone()),
        RootDisk::None => None,
    };
    let root = match boot {
        Boot::Rescue { rescue, root } => {
            disk_args(
                &mut a,
                "rescue",
                rescue,
                "qcow2",
                json!({"id": "dev-rescue", "bootindex": boot_index}),
            );
            boot_index += 1;
            root.clone()
        }
        _ => own_root,
    };
    if let Some(root) = root {
        let format = crate::qemu::img::qemu_format(&root.format).unwrap_or("raw");
        let serial: Value = match &guest.root {
            RootDisk::Volume { volume_id, .. } => {
                json!(volume_id.chars().take(20).collect::<String>())
            }
            _ => Value::Null,
        };
        let mut dev = json!({"id": "dev-root", "bootindex": boot_index});
        if !serial.is_null() {
            dev["serial"] = serial;
        }
        disk_args(&mut a, "root", &root.path, format, dev);
    }
    for (name, node) in [("disk.eph0", "eph0"), ("disk.swap", "swap")] {
        let path = dir.join(name);
        if path.exists() {
            disk_args(
                &mut a,
                node,
                &path,
                "qcow2",
                json!({ "id": format!("dev-{node}") }),
            );
        }
    }
    if !matches!(boot, Boot::Rescue { .. }) {
        for v in &guest.volumes {
            let (node, dev) = super::volume_ids(&v.volume_id);
            let format = crate::qemu::img::qemu_format(&v.file.format).unwrap_or("raw");
            let serial: String = v.volume_id.chars().take(20).collect();
            blockdev_args(
                &mut a,
                &node,
                volume_blockdev(&node, v, format),
                json!({"id": dev, "serial": serial}),
            );
        }
    }
    let config = dir.join("disk.config");
    if config.exists() {
        a.push("-drive".into());
        a.push(format!(
            "file={},format=raw,if=ide,media=cdrom,readonly=on",
            config.to_string_lossy().replace(',', ",,")
        ));
    }
    for nic in &guest.nics {
        a.extend(["-netdev".into(), nic_netdev(nic, taps).to_string()]);
        a.extend(["-device".into(), nic_device(nic).to_string()]);
    }
    if let Boot::Incoming(_) = boot {
        a.extend(["-S".into(), "-incoming".into(), "defer".into()]);
    }
    a
}

/// Start QEMU (it daemonizes once its devices and sockets are set up), in
/// network namespace `netns` when given.
pub async fn start(
    binary: &Path,
    dir: &Path,
    args: &[String],
    netns: Option<&str>,
) -> DriverResult<()> {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let child = cmd
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .map_err(|_| DriverError("QEMU did not start within 60 s".into()))?
        .map_err(|e| DriverError(format!("cannot run {}: {e}", binary.display())))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(DriverError(format!("QEMU failed to start: {}", msg.trim())));
    }
    Ok(())
}

/// The guest's QEMU process, known by its pid file and its command line.
pub struct Process {
    dir: PathBuf,
    uuid: String,
}

impl Process {
    pub fn new(dir: PathBuf, uuid: &str) -> Self {
        Process {
            dir,
            uuid: uuid.to_owned(),
        }
    }

    fn pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.dir.join("qemu.pid")).ok()?;
        text.trim().parse().ok()
    }

    /// The pid in the pid file, if that process is this guest's QEMU (a
    /// reused pid or a zombie does not count).
    pub fn alive(&self) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let needle = format!("qemu-{}", self.uuid);
        cmdline
            .split(|b| *b == 0)
            .any(|arg| String::from_utf8_lossy(arg).contains(&needle))
    }

    /// The pid of the guest's QEMU while it runs.
    pub fn live_pid(&self) -> Option<i32> {
        if self.alive() {
            self.pid()
        } else {
            None
        }
    }

    pub fn kill(&self) {
        if let (true, Some(pid)) = (self.alive(), self.pid()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    pub async fn wait_gone(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.alive() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drop the pid file and the socket of a process that is gone.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(self.dir.join("qemu.pid"));
        let _ = std::fs::remove_file(self.dir.join("qmp.sock"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_multiattach_volume_is_opened_without_locking() {
        let mut v = VolumeDisk {
            volume_id: "v1".into(),
            file: DiskFile {
                path: PathBuf::from("/vols/v1"),
                format: "qcow2".into(),
            },
            device: "/dev/vdb".into(),
            shared: false,
        };
        let b = volume_blockdev("vol-v1", &v, "qcow2");
        assert_eq!(b["file"]["filename"], "/vols/v1");
        assert!(b["file"].get("locking").is_none());
        v.shared = true;
        assert_eq!(
            volume_blockdev("vol-v1", &v, "qcow2")["file"]["locking"],
            "off"
        );
    }
}
