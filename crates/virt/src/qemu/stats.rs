//! A running guest's figures for Nova's server diagnostics, as libvirt
//! would report them for the same machine:
//!
//! - CPU time per vCPU: QMP `query-cpus-fast` names each vCPU's host
//!   thread; its time is the thread's run time
//!   (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds; `stat` when absent).
//! - Disks: QMP `query-blockstats` (bytes, requests, failed requests).
//! - Memory: the balloon's size (`query-balloon`, when the guest has a
//!   balloon, else all it was given) and the process's resident set.
//! - NICs: QEMU has no traffic counters of its own for a netdev (QMP
//!   `query-stats` only carries KVM's and crypto devices' statistics), so
//!   a tap NIC's counters are the tap's, read in QEMU's network namespace
//!   (`/proc/<pid>/net/dev`) and turned round to the guest's side (what the
//!   host's tap sends, the guest receives). User networking has none.
//! - Uptime: since the QEMU process started (`/proc/<pid>/stat`).

use serde_json::Value;

use super::qmp::Qmp;
use crate::{Diagnostics, DiskStats, Guest, NicCounters, NicStats};

/// Everything the guest of `pid` (its QMP connection `q`, its last launch
/// `guest`, its NICs as taps when `taps`) counts now.
pub async fn read(q: &mut Qmp, pid: i32, guest: &Guest, taps: bool) -> Diagnostics {
    let mut d = Diagnostics {
        memory_max_kib: guest.flavor.memory_mb.max(16) * 1024,
        ..Diagnostics::default()
    };
    let hz = clock_ticks();
    d.uptime_s = process_uptime(pid, hz);
    if let Ok(cpus) = q.execute("query-cpus-fast", None).await {
        d.cpu_time_ns = cpu_times(pid, &cpus, hz);
    }
    if d.cpu_time_ns.is_empty() {
        d.cpu_time_ns = vec![None; guest.flavor.vcpus.max(1) as usize];
    }
    d.memory_actual_kib = match q.execute("query-balloon", None).await {
        Ok(b) => b["actual"].as_u64().map(|bytes| bytes / 1024),
        // No balloon device: the guest has all it was given.
        Err(_) => Some(d.memory_max_kib),
    };
    d.memory_rss_kib = rss_kib(pid);
    if let Ok(stats) = q.execute("query-blockstats", None).await {
        d.disks = disks(&stats, guest);
    }
    let net_dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    d.nics = guest
        .nics
        .iter()
        .map(|n| {
            let device = taps.then(|| super::launch::tap_name(&n.port_id));
            let counters = device.as_deref().and_then(|t| tap_counters(&net_dev, t));
            NicStats {
                port_id: n.port_id.clone(),
                mac: n.mac.clone(),
                device,
                counters,
            }
        })
        .collect();
    d
}

/// Clock ticks per second of `/proc` times (USER_HZ).
fn clock_ticks() -> u64 {
    use nix::unistd::{sysconf, SysconfVar};
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 100,
    }
}

/// The fields of a `/proc/.../stat` line after the command name (which may
/// hold spaces): the first is field 3, `state`.
fn stat_fields(text: &str) -> Vec<&str> {
    match text.rfind(')') {
        Some(end) => text[end + 1..].split_whitespace().collect(),
        None => Vec::new(),
    }
}

fn process_uptime(pid: i32, hz: u64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22: start time, in ticks after the host booted.
    let start: u64 = stat_fields(&stat).get(19)?.parse().ok()?;
    let up = std::fs::read_to_string("/proc/uptime").ok()?;
    let host_up: f64 = up.split_whitespace().next()?.parse().ok()?;
    Some((host_up - start as f64 / hz as f64).max(0.0) as i64)
}

/// Each vCPU's CPU time in ns, by index, from `query-cpus-fast`'s answer.
fn cpu_times(pid: i32, cpus: &Value, hz: u64) -> Vec<Option<u64>> {
    let Some(list) = cpus.as_array() else {
        return Vec::new();
    };
    let count = list
        .iter()
        .filter_map(|c| c["cpu-index"].as_u64())
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut out = vec![None; count];
    for c in list {
        let (Some(idx), Some(tid)) = (c["cpu-index"].as_u64(), c["thread-id"].as_u64()) else {
            continue;
        };
        if let Some(slot) = out.get_mut(idx as usize) {
            *slot = thread_time_ns(pid, tid, hz);
        }
    }
    out
}

fn thread_time_ns(pid: i32, tid: u64, hz: u64) -> Option<u64> {
    let task = format!("/proc/{pid}/task/{tid}");
    if let Ok(s) = std::fs::read_to_string(format!("{task}/schedstat")) {
        if let Some(ns) = s.split_whitespace().next().and_then(|f| f.parse().ok()) {
            return Some(ns);
        }
    }
    let stat = std::fs::read_to_string(format!("{task}/stat")).ok()?;
    let f = stat_fields(&stat);
    // Fields 14 and 15: user and system time, in ticks.
    let user: u64 = f.get(11)?.parse().ok()?;
    let system: u64 = f.get(12)?.parse().ok()?;
    Some((user + system) * (1_000_000_000 / hz.max(1)))
}

fn rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The disks in `query-blockstats`' answer with the guest's names for
/// them: virtio disks `vda`, `vdb`, ... in the order the machine has them
/// (an attached volume by the device the API gave it), the config drive
/// (an IDE CD-ROM) `hdd` and last, as Nova's libvirt driver lays them out.
fn disks(stats: &Value, guest: &Guest) -> Vec<DiskStats> {
    let Some(list) = stats.as_array() else {
        return Vec::new();
    };
    let mut virtio = Vec::new();
    let mut cdrom = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for b in list {
        let qdev = b["qdev"].as_str().unwrap_or("");
        let device = b["device"].as_str().unwrap_or("");
        let s = &b["stats"];
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        let disk = DiskStats {
            name: String::new(),
            read_bytes: n("rd_bytes"),
            read_requests: n("rd_operations"),
            write_bytes: n("wr_bytes"),
            write_requests: n("wr_operations"),
            errors: n("failed_rd_operations") + n("failed_wr_operations"),
        };
        if let Some(id) = peripheral_id(qdev) {
            let volume = guest.volumes.iter().find(|v| {
                let (_, dev) = super::volume_ids(&v.volume_id);
                dev == id
            });
            let name = volume
                .and_then(|v| v.device.rsplit('/').next())
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            if let Some(n) = &name {
                taken.push(n.clone());
            }
            virtio.push((name, disk));
        } else if !device.is_empty() || !qdev.is_empty() {
            cdrom.push(disk);
        }
    }
    let mut letters = (b'a'..=b'z').map(|c| format!("vd{}", c as char));
    let mut out = Vec::new();
    for (name, mut disk) in virtio {
        disk.name = match name {
            Some(n) => n,
            None => letters
                .by_ref()
                .find(|l| !taken.contains(l))
                .unwrap_or_default(),
        };
        out.push(disk);
    }
    for mut disk in cdrom {
        disk.name = "hdd".into();
        out.push(disk);
    }
    out
}

/// `dev-root` from `/machine/peripheral/dev-root/virtio-backend`.
fn peripheral_id(qdev: &str) -> Option<&str> {
    qdev.strip_prefix("/machine/peripheral/")?.split('/').next()
}

/// Tap `tap`'s counters in `/proc/net/dev` text, from the guest's side.
fn tap_counters(net_dev: &str, tap: &str) -> Option<NicCounters> {
    let line = net_dev.lines().find_map(|l| {
        let (name, rest) = l.split_once(':')?;
        (name.trim() == tap).then_some(rest)
    })?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    if f.len() < 12 {
        return None;
    }
    // The host's receive columns come first (bytes, packets, errs, drop,
    // ...), its transmit columns from the ninth on.
    Some(NicCounters {
        rx_octets: f[8],
        rx_packets: f[9],
        rx_errors: f[10],
        rx_drop: f[11],
        tx_octets: f[0],
        tx_packets: f[1],
        tx_errors: f[2],
        tx_drop: f[3],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tap_counts_the_other_way_round_for_the_guest() {
        let text = "Inter-|   Receive                            |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n\
tap1234567890a:    1000      10    1    2    0     0          0         0     5000      50    3    4    0     0       0          0\n";
        let c = tap_counters(text, "tap1234567890a").unwrap();
        assert_eq!(
            (c.rx_octets, c.rx_packets, c.rx_errors, c.rx_drop),
            (5000, 50, 3, 4)
        );
        assert_eq!(
            (c.tx_octets, c.tx_packets, c.tx_errors, c.tx_drop),
            (1000, 10, 1, 2)
        );
        assert!(tap_counters(text, "tap-other").is_none());
    }

    #[test]
    fn disks_are_named_as_the_guest_sees_them() {
        let mut guest = Guest::default();
        guest.volumes.push(crate::VolumeDisk {
            volume_id: "11111111-2222-3333-4444-555555555555".into(),
            device: "/dev/vdb".into(),
            ..Default::default()
        });
        let (_, vol_dev) = super::super::volume_ids("11111111-2222-3333-4444-555555555555");
        let stats = json!([
            {"device": "", "qdev": "/machine/peripheral/dev-root/virtio-backend",
             "stats": {"rd_bytes": 7, "rd_operations": 2, "wr_bytes": 0, "wr_operations": 0,
                       "failed_rd_operations": 1, "failed_wr_operations": 1}},
            {"device": "ide1-cd0", "qdev": "/machine/unattached/device[23]", "stats": {}},
            {"device": "", "qdev": format!("/machine/peripheral/{vol_dev}/virtio-backend"),
             "stats": {"wr_bytes": 9}},
            {"device": "", "qdev": "/machine/peripheral/dev-eph0/virtio-backend", "stats": {}},
        ]);
        let d = disks(&stats, &guest);
        let names: Vec<&str> = d.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["vda", "vdb", "vdc", "hdd"]);
        assert_eq!(
            (d[0].read_bytes, d[0].read_requests, d[0].errors),
            (7, 2, 2)
        );
        assert_eq!(d[1].write_bytes, 9);
    }

    #[test]
    fn stat_fields_skip_a_command_name_with_spaces() {
        let f = stat_fields("42 (qemu system) S 1 2 3");
        assert_eq!(f, ["S", "1", "2", "3"]);
    }
}
