//! Config drives: the files compute gives, laid out as an ISO 9660 image
//! labelled `config-2` (OpenStack's layout), made with Debian's
//! `genisoimage` — the tool Nova itself runs, so guests see the same
//! Rock Ridge/Joliet names a Nova-built drive has.

use std::path::Path;

use tokio::process::Command;

use crate::{ConfigDrive, DriverError, DriverResult};

/// Write `drive` as an ISO at `out` (through a temporary name).
pub async fn build(drive: &ConfigDrive, out: &Path) -> DriverResult<()> {
    let staging = out.with_extension("staging");
    let _ = std::fs::remove_dir_all(&staging);
    let result = write_iso(drive, &staging, out).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

async fn write_iso(drive: &ConfigDrive, staging: &Path, out: &Path) -> DriverResult<()> {
    let io = |e: std::io::Error| DriverError(format!("cannot write the config drive: {e}"));
    for (name, data) in &drive.files {
        let rel = Path::new(name);
        if rel.is_absolute() || rel.components().any(|c| c.as_os_str() == "..") {
            return Err(DriverError(format!("bad config drive path {name}")));
        }
        let path = staging.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, data).map_err(io)?;
    }
    std::fs::create_dir_all(staging).map_err(io)?;
    let tmp = out.with_extension("part");
    let output = Command::new("genisoimage")
        .args(["-o"])
        .arg(&tmp)
        .args([
            "-ldots",
            "-allow-lowercase",
            "-allow-multidot",
            "-l",
            "-publisher",
            "Ferrostack",
            "-quiet",
            "-J",
            "-r",
            "-V",
            "config-2",
        ])
        .arg(staging)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            DriverError(format!(
                "cannot run genisoimage (install the genisoimage package for config drives): {e}"
            ))
        })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(DriverError(format!(
            "genisoimage failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    std::fs::rename(&tmp, out).map_err(io)
}
