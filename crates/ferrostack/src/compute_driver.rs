//! Choosing what runs servers (`[compute] driver` and `accel`), and saying
//! why in the start-up banner.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use ferro_compute::driver::{ComputeDriver, FakeDriver, QemuDriver};

use crate::config::ComputeSection;

pub struct Choice {
    pub driver: Arc<dyn ComputeDriver>,
    /// One line for the banner: the driver, the accelerator, and why.
    pub summary: String,
}

/// An executable named `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `guest_namespace`: where guests run when the network data plane is on.
pub async fn choose(
    cfg: &ComputeSection,
    data_dir: &Path,
    guest_namespace: Option<String>,
) -> anyhow::Result<Choice> {
    let qemu = match &cfg.qemu_binary {
        Some(p) => p.exists().then(|| p.clone()),
        None => on_path("qemu-system-x86_64"),
    };
    let fake = |why: String| Choice {
        driver: Arc::new(FakeDriver::new(cfg.fake_delay_ms)),
        summary: format!("fake driver ({why})"),
    };
    let (qemu, why) = match (cfg.driver.as_str(), qemu) {
        ("fake", _) => return Ok(fake("driver = \"fake\"".into())),
        ("auto", None) => {
            return Ok(fake(
                "driver = \"auto\" and qemu-system-x86_64 was not found: servers are not real \
                 machines; install qemu-system-x86 for real guests"
                    .into(),
            ))
        }
        (_, None) => anyhow::bail!(
            "compute.driver = \"qemu\" but {} was not found: install the qemu-system-x86 package \
             (see the README) or set compute.driver = \"fake\"",
            cfg.qemu_binary
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "qemu-system-x86_64 (on PATH)".into())
        ),
        (setting, Some(q)) => (q, format!("driver = \"{setting}\"")),
    };
    let accel = ferro_virt::accel::choose(&qemu, &cfg.accel)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut driver = QemuDriver::new(qemu.clone(), accel.accel, data_dir.join("instances"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("starting the qemu driver")?;
    if let Some(ns) = guest_namespace {
        driver = driver.with_network_namespace(ns);
    }
    Ok(Choice {
        summary: format!(
            "qemu driver ({why}; {}), accelerator {} ({})",
            qemu.display(),
            accel.accel,
            accel.reason
        ),
        driver: Arc::new(driver),
    })
}
