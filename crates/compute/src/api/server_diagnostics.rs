//! `GET /servers/{id}/diagnostics` (admin): Nova's standard view from 2.48
//! (state, driver, CPUs, memory, NICs, disks), a flat dictionary before.
//!
//! The figures are the driver's (`ComputeDriver::diagnostics`): the QEMU
//! driver reads CPU time per vCPU, disk I/O, memory and tap traffic from
//! the running guest, and the view has the same keys and meanings as Nova's
//! libvirt driver gives. Where the driver has none (the fake driver, a
//! guest that is not running, a NIC on user networking) the counters are
//! `null`, which Nova's schema allows, and the rest comes from what compute
//! knows: the flavor, the server's ports and its disks.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::services::PortInfo;
use ferro_virt::{Diagnostics, NicCounters};
use serde_json::{json, Value};

use super::common::{load_server, ok, require_admin, Caller};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::state::vm;
use crate::store::attachments;
use crate::worker::owner_context;
use crate::ComputeService;

/// Nova's diagnostics `state` for a power state.
fn state_name(power_state: i64) -> &'static str {
    match power_state {
        1 => "running",
        3 => "paused",
        4 => "shutdown",
        6 => "crashed",
        7 => "suspended",
        _ => "pending",
    }
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-server-diagnostics")?;
    let i = load_server(&svc, &c, last(&p)).await?;
    if i.host.is_none()
        || [vm::BUILDING, vm::SHELVED_OFFLOADED, vm::DELETED].contains(&i.vm_state.as_str())
    {
        return Err(Error::conflict(format!(
            "Cannot 'get_diagnostics' instance {} while it is in vm_state {}",
            i.id, i.vm_state
        )));
    }
    let vcpus = i.flavor.get("vcpus").and_then(Value::as_i64).unwrap_or(1);
    let ram_mb = i.flavor.get("ram").and_then(Value::as_i64).unwrap_or(0);
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(&i), &i.id)
        .await?;
    let figures = svc.driver().diagnostics(&i.id).await;
    let d = figures.as_ref();
    let volumes = attachments::of_instance(svc.db(), &i.id).await?;
    let local_root = !super::server_shelve::volume_backed(&i);
    let flavor_has = |k: &str| i.flavor.get(k).and_then(Value::as_i64).unwrap_or(0) > 0;
    let config_drive = !i.config_drive.is_empty() || svc.config().force_config_drive;
    // The disks the guest's machine has, as libvirt lists them: root,
    // ephemeral, swap, volumes, config drive.
    let known_disks = usize::from(local_root)
        + usize::from(flavor_has("ephemeral"))
        + usize::from(flavor_has("swap"))
        + volumes.len()
        + usize::from(config_drive);
    let uptime = d.and_then(|d| d.uptime_s).or_else(|| {
        i.launched_at
            .map(|t| ((ferro_api::time::now_micros() - t) / 1_000_000).max(0))
    });
    let cpu_times: Vec<Option<u64>> = match d {
        Some(d) if !d.cpu_time_ns.is_empty() => d.cpu_time_ns.clone(),
        _ => vec![None; usize::try_from(vcpus.max(1)).unwrap_or(1)],
    };
    // Each port's counters, when the driver has them.
    let counters = |port_id: &str| {
        d.and_then(|d| d.nics.iter().find(|n| n.port_id == port_id))
            .and_then(|n| n.counters.clone())
    };
    if !v.at_least(2, 48) {
        return Ok(ok(Value::Object(flat(
            d, &cpu_times, ram_mb, &ports, &counters,
        ))));
    }
    let cpu: Vec<Value> = cpu_times
        .iter()
        .enumerate()
        .map(|(n, t)| json!({"id": n, "time": t, "utilisation": null}))
        .collect();
    let nics: Vec<Value> = ports
        .iter()
        .map(|p| {
            let c = counters(&p.id);
            let c = c.as_ref();
            json!({
                "mac_address": p.mac_address,
                "rx_octets": c.map(|c| c.rx_octets), "rx_errors": c.map(|c| c.rx_errors),
                "rx_drop": c.map(|c| c.rx_drop), "rx_packets": c.map(|c| c.rx_packets),
                "rx_rate": null,
                "tx_octets": c.map(|c| c.tx_octets), "tx_errors": c.map(|c| c.tx_errors),
                "tx_drop": c.map(|c| c.tx_drop), "tx_packets": c.map(|c| c.tx_packets),
                "tx_rate": null,
            })
        })
        .collect();
    let disks: Vec<Value> = match d {
        Some(d) => d
            .disks
            .iter()
            .map(|k| {
                json!({"read_bytes": k.read_bytes, "read_requests": k.read_requests,
                       "write_bytes": k.write_bytes, "write_requests": k.write_requests,
                       "errors_count": k.errors})
            })
            .collect(),
        // No figures: one entry per disk compute knows of.
        None => (0..known_disks)
            .map(|_| {
                json!({"read_bytes": null, "read_requests": null, "write_bytes": null,
                       "write_requests": null, "errors_count": null})
            })
            .collect(),
    };
    let used_mb = d.and_then(|d| d.memory_actual_kib).map(|k| k / 1024);
    Ok(ok(json!({
        "state": state_name(i.power_state),
        // Nova's schema names the driver family; ours drives QEMU as
        // libvirt's QEMU driver does.
        "driver": "libvirt",
        "hypervisor": svc.driver().host_resources().hypervisor_type.to_ascii_lowercase(),
        "hypervisor_os": "linux",
        "uptime": uptime,
        "config_drive": config_drive,
        "num_cpus": cpu.len(),
        "num_nics": nics.len(),
        "num_disks": disks.len(),
        "memory_details": {"maximum": ram_mb, "used": used_mb},
        "cpu_details": cpu,
        "nic_details": nics,
        "disk_details": disks,
    })))
}

/// The flat dictionary before 2.48, with the keys Nova's libvirt driver
/// gives: `cpu<N>_time` (ns), `<disk>_read`/`_read_req`/`_write`/
/// `_write_req`/`_errors`, `<tap>_rx`/`_rx_packets`/.../`_tx_drop`,
/// `memory` and `memory-<stat>` (KiB). Disks and NICs without figures are
/// left out, as libvirt leaves out devices it cannot read.
fn flat(
    d: Option<&Diagnostics>,
    cpu_times: &[Option<u64>],
    ram_mb: i64,
    ports: &[PortInfo],
    counters: &dyn Fn(&str) -> Option<NicCounters>,
) -> serde_json::Map<String, Value> {
    let mut flat = serde_json::Map::new();
    for (n, t) in cpu_times.iter().enumerate() {
        flat.insert(format!("cpu{n}_time"), json!(t));
    }
    for k in d.map(|d| d.disks.as_slice()).unwrap_or_default() {
        let name = &k.name;
        flat.insert(format!("{name}_read_req"), json!(k.read_requests));
        flat.insert(format!("{name}_read"), json!(k.read_bytes));
        flat.insert(format!("{name}_write_req"), json!(k.write_requests));
        flat.insert(format!("{name}_write"), json!(k.write_bytes));
        flat.insert(format!("{name}_errors"), json!(k.errors));
    }
    for p in ports {
        let Some(c) = counters(&p.id) else {
            continue;
        };
        let tap = nic_name(&p.id);
        for (suffix, n) in [
            ("rx", c.rx_octets),
            ("rx_packets", c.rx_packets),
            ("rx_errors", c.rx_errors),
            ("rx_drop", c.rx_drop),
            ("tx", c.tx_octets),
            ("tx_packets", c.tx_packets),
            ("tx_errors", c.tx_errors),
            ("tx_drop", c.tx_drop),
        ] {
            flat.insert(format!("{tap}_{suffix}"), json!(n));
        }
    }
    let max_kib = d.map_or(ram_mb * 1024, |d| {
        i64::try_from(d.memory_max_kib).unwrap_or(i64::MAX)
    });
    flat.insert("memory".into(), json!(max_kib));
    if let Some(d) = d {
        if let Some(a) = d.memory_actual_kib {
            flat.insert("memory-actual".into(), json!(a));
        }
        if let Some(r) = d.memory_rss_kib {
            flat.insert("memory-rss".into(), json!(r));
        }
    }
    flat
}

/// The tap name Nova's libvirt shows for a port.
fn nic_name(port_id: &str) -> String {
    let short: String = port_id.chars().take(11).collect();
    format!("tap{short}")
}
