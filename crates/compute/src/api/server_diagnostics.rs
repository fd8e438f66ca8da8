//! `GET /servers/{id}/diagnostics` (admin): Nova's standard view from 2.48
//! (state, driver, CPUs, memory, NICs, disks), a flat dictionary before.
//!
//! Built from what compute knows: the flavor, the server's ports and its
//! disks. Counters the hypervisor would have to be asked for (CPU time,
//! bytes through NICs and disks) are `null`, which Nova's schema allows;
//! reading them from QEMU (QMP `query-blockstats`, `query-cpus-fast`) is
//! not done yet.

use axum::extract::{Path, State};
use axum::response::Response;
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
    let volumes = attachments::of_instance(svc.db(), &i.id).await?;
    let local_root = !super::server_shelve::volume_backed(&i);
    let num_disks = volumes.len() + usize::from(local_root);
    let uptime = i
        .launched_at
        .map(|t| ((ferro_api::time::now_micros() - t) / 1_000_000).max(0));
    if !v.at_least(2, 48) {
        let mut flat = serde_json::Map::new();
        flat.insert("memory".into(), json!(ram_mb * 1024));
        for n in 0..vcpus {
            flat.insert(format!("cpu{n}_time"), Value::Null);
        }
        for p in &ports {
            flat.insert(format!("{}_mac", nic_name(&p.id)), json!(p.mac_address));
        }
        return Ok(ok(Value::Object(flat)));
    }
    let cpu: Vec<Value> = (0..vcpus)
        .map(|n| json!({"id": n, "time": null, "utilisation": null}))
        .collect();
    let nics: Vec<Value> = ports
        .iter()
        .map(|p| {
            json!({
                "mac_address": p.mac_address,
                "rx_octets": null, "rx_errors": null, "rx_drop": null, "rx_packets": null,
                "rx_rate": null, "tx_octets": null, "tx_errors": null, "tx_drop": null,
                "tx_packets": null, "tx_rate": null,
            })
        })
        .collect();
    let disks: Vec<Value> = (0..num_disks)
        .map(|_| {
            json!({"read_bytes": null, "read_requests": null, "write_bytes": null,
                   "write_requests": null, "errors_count": null})
        })
        .collect();
    Ok(ok(json!({
        "state": state_name(i.power_state),
        // Nova's schema names the driver family; ours drives QEMU as
        // libvirt's QEMU driver does.
        "driver": "libvirt",
        "hypervisor": svc.driver().host_resources().hypervisor_type.to_ascii_lowercase(),
        "hypervisor_os": "linux",
        "uptime": uptime,
        "config_drive": !i.config_drive.is_empty(),
        "num_cpus": vcpus,
        "num_nics": nics.len(),
        "num_disks": num_disks,
        "memory_details": {"maximum": ram_mb, "used": null},
        "cpu_details": cpu,
        "nic_details": nics,
        "disk_details": disks,
    })))
}

/// The tap name Nova's libvirt shows for a port.
fn nic_name(port_id: &str) -> String {
    let short: String = port_id.chars().take(11).collect();
    format!("tap{short}")
}
