//! The network data plane: on or off (`[network] dataplane`), its
//! namespace prefix, and the loop that reconciles after every network
//! write (and every few seconds, to repair what someone else changed).

use std::path::Path;
use std::time::Duration;

use ferro_compute::ComputeService;
use ferro_netplane::Netplane;
use ferro_network::NetworkService;

/// How often the reconciler runs when nothing changed.
const REPAIR_INTERVAL: Duration = Duration::from_secs(10);

pub struct Choice {
    /// The namespace guests run in (their taps live there), when on.
    pub guest_namespace: Option<String>,
    /// One line for the banner.
    pub summary: String,
    /// The reconciler to run, its prefix and directory (when on).
    plane: Option<(Netplane, String, std::path::PathBuf)>,
}

/// This deployment's namespace prefix: `fs` and a stable hash of the data
/// directory, so several deployments on one host never meet.
fn prefix(data_dir: &Path) -> String {
    let path = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    // FNV-1a: stable across builds (the std hasher is not promised to be).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.to_string_lossy().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fs{:08x}", h as u32)
}

/// Decide; the reconciler starts with `Choice::run`, once the rest of the
/// process came up (a start that fails leaves no namespace behind).
pub async fn choose(
    setting: &str,
    data_dir: &Path,
    fake_guests: bool,
    bridge_mappings: &[String],
) -> anyhow::Result<Choice> {
    let check = match Netplane::check().await {
        // Fake guests have no NICs: their ports would only ever be DOWN.
        Ok(()) if fake_guests && setting == "auto" => {
            Err("the fake compute driver's guests have no NICs".to_owned())
        }
        other => other,
    };
    let off = |why: String| {
        Choice {
        guest_namespace: None,
        summary: format!(
            "off ({why}): networks are bookkeeping, guests' NICs use QEMU user networking (restrict=on)"
        ),
        plane: None,
    }
    };
    match (setting, check) {
        ("off", _) => return Ok(off("dataplane = \"off\"".into())),
        ("auto", Err(why)) => return Ok(off(format!("dataplane = \"auto\": {why}"))),
        ("on", Err(why)) => anyhow::bail!("network.dataplane = \"on\" but {why}"),
        _ => {}
    }
    let prefix = prefix(data_dir);
    let uplinks: std::collections::BTreeMap<String, String> = bridge_mappings
        .iter()
        .filter_map(|m| m.split_once(':'))
        .map(|(p, b)| (p.to_owned(), b.to_owned()))
        .collect();
    let uplink_note = if uplinks.is_empty() {
        String::new()
    } else {
        let pairs: Vec<String> = uplinks.iter().map(|(p, b)| format!("{p}→{b}")).collect();
        format!("; uplinks to host bridges {}", pairs.join(", "))
    };
    let plane = Netplane::new(prefix.clone(), data_dir.join("netplane")).with_uplinks(uplinks);
    Ok(Choice {
        summary: format!(
            "on (namespaces {prefix}-*: bridges, taps, DHCP, metadata, routers{uplink_note})"
        ),
        guest_namespace: Some(plane.bridge_namespace()),
        plane: Some((plane, prefix, data_dir.join("netplane"))),
    })
}

impl Choice {
    /// Start reconciling (when the data plane is on), and serving the
    /// metadata service where the reconciler says.
    pub fn run(
        &mut self,
        host: &str,
        network: &NetworkService,
        compute: &ComputeService,
    ) -> anyhow::Result<()> {
        let Some((plane, prefix, dir)) = self.plane.take() else {
            return Ok(());
        };
        std::fs::create_dir_all(&dir)?;
        // For operators and tests: which namespaces are this deployment's.
        std::fs::write(dir.join("prefix"), format!("{prefix}\n"))?;
        let network = network.clone();
        let host = host.to_owned();
        let mut changes = network.subscribe();
        let mut metadata = crate::metadata::Sites::new(compute.clone(), network.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = network.ensure_dhcp_ports(&host).await {
                    tracing::warn!(error = ?e, "could not make DHCP ports");
                }
                match network.dataplane_snapshot().await {
                    Ok(want) => match plane.reconcile(&want).await {
                        Ok(seen) => {
                            for e in &seen.errors {
                                tracing::warn!(error = %e, "data plane: not built (retried)");
                            }
                            if let Err(e) = network.dataplane_observed(&seen).await {
                                tracing::warn!(error = ?e, "could not record port statuses");
                            }
                            metadata.update(&seen.metadata_sites).await;
                        }
                        Err(e) => tracing::warn!(error = %e, "data plane reconcile failed"),
                    },
                    Err(e) => tracing::warn!(error = ?e, "could not read the network state"),
                }
                let _ = tokio::time::timeout(REPAIR_INTERVAL, changes.changed()).await;
            }
        });
        Ok(())
    }
}
