//! This host as a hypervisor: its real CPUs, memory and disk, and the CPU
//! description libvirt-backed Nova shows as `cpu_info`.

use std::path::Path;

use serde_json::{json, Value};

/// A hypervisor's capacity and identity, as `os-hypervisors` shows it.
#[derive(Clone, Debug)]
pub struct HostResources {
    pub vcpus: i64,
    pub memory_mb: i64,
    pub local_gb: i64,
    /// Free space where instance disks live.
    pub free_disk_gb: i64,
    pub hypervisor_type: &'static str,
    pub hypervisor_version: i64,
    /// The CPU description as libvirt reports it (`arch`, `model`,
    /// `vendor`, `topology`, `features`).
    pub cpu_info: Value,
}

/// This machine, with instance disks under `dir`; `hypervisor_version` as
/// Nova encodes it (major * 1_000_000 + minor * 1_000 + micro).
pub fn probe(dir: &Path, hypervisor_type: &'static str, hypervisor_version: i64) -> HostResources {
    let vcpus = std::thread::available_parallelism()
        .map(|n| n.get() as i64)
        .unwrap_or(1);
    let memory_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| meminfo_kib(&m, "MemTotal"))
        .map(|kib| kib / 1024)
        .unwrap_or(0);
    let (local_gb, free_disk_gb) = disk_gb(dir);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    HostResources {
        vcpus,
        memory_mb,
        local_gb,
        free_disk_gb,
        hypervisor_type,
        hypervisor_version,
        cpu_info: cpu_info(&cpuinfo, vcpus),
    }
}

fn meminfo_kib(meminfo: &str, key: &str) -> Option<i64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Total and free GiB of the file system holding `dir` (its nearest
/// existing ancestor).
fn disk_gb(dir: &Path) -> (i64, i64) {
    let mut at = Some(dir);
    while let Some(p) = at {
        if let Ok(s) = nix::sys::statvfs::statvfs(p) {
            let frag = s.fragment_size() as u128;
            let gib = 1u128 << 30;
            let total = (s.blocks() as u128 * frag / gib) as i64;
            let free = (s.blocks_available() as u128 * frag / gib) as i64;
            return (total, free);
        }
        at = p.parent();
    }
    (0, 0)
}

/// libvirt's host CPU description from `/proc/cpuinfo`.
fn cpu_info(cpuinfo: &str, vcpus: i64) -> Value {
    let field = |k: &str| {
        cpuinfo.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == k).then(|| value.trim().to_owned())
        })
    };
    let vendor = match field("vendor_id").as_deref() {
        Some("GenuineIntel") => "Intel",
        Some("AuthenticAMD") => "AMD",
        Some(_) | None => "Unknown",
    };
    let sockets = {
        let mut ids: Vec<String> = cpuinfo
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "physical id").then(|| v.trim().to_owned())
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids.len().max(1) as i64
    };
    let cores = field("cpu cores")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or((vcpus / sockets).max(1));
    let threads = (vcpus / (sockets * cores)).max(1);
    let features: Vec<String> = field("flags")
        .map(|f| f.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    json!({
        "arch": std::env::consts::ARCH,
        "model": field("model name").unwrap_or_else(|| "qemu64".into()),
        "vendor": vendor,
        "topology": {"cells": 1, "sockets": sockets, "cores": cores, "threads": threads},
        "features": features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_meminfo_and_cpuinfo() {
        let m = "MemTotal:       24576000 kB\nMemFree: 1 kB\n";
        assert_eq!(meminfo_kib(m, "MemTotal"), Some(24_576_000));
        let c = "vendor_id\t: GenuineIntel\nmodel name\t: Test CPU\nphysical id\t: 0\n\
                 cpu cores\t: 2\nflags\t\t: fpu sse2 lm\n";
        let info = cpu_info(c, 2);
        assert_eq!(info["vendor"], "Intel");
        assert_eq!(info["topology"]["cores"], 2);
        assert_eq!(info["features"][2], "lm");
    }

    #[test]
    fn this_host_has_resources() {
        let r = probe(Path::new("/nonexistent/dir"), "QEMU", 10_000_002);
        assert!(r.vcpus >= 1 && r.memory_mb > 0 && r.local_gb > 0);
    }
}
