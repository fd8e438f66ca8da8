//! Disk files, made and changed with `qemu-img`.

use std::path::Path;

use serde_json::Value;
use tokio::process::Command;

use crate::{DiskFile, DriverError, DriverResult};

const GIB: u64 = 1 << 30;

async fn run(args: &[&str]) -> DriverResult<Vec<u8>> {
    let out = Command::new("qemu-img")
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| DriverError(format!("cannot run qemu-img: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(DriverError(format!(
            "qemu-img {} failed: {}",
            args.first().copied().unwrap_or_default(),
            msg.trim()
        )));
    }
    Ok(out.stdout)
}

fn s(p: &Path) -> DriverResult<&str> {
    p.to_str()
        .ok_or_else(|| DriverError(format!("path is not UTF-8: {}", p.display())))
}

/// What `qemu-img info` finds: `(format, virtual size in bytes)`.
pub async fn info(path: &Path, format: Option<&str>) -> DriverResult<(String, u64)> {
    let mut args = vec!["info", "--output=json", "-U"];
    if let Some(f) = format {
        args.extend(["-f", f]);
    }
    args.push(s(path)?);
    let out = run(&args).await?;
    let v: Value = serde_json::from_slice(&out)
        .map_err(|e| DriverError(format!("qemu-img info printed no JSON: {e}")))?;
    let fmt = v["format"].as_str().unwrap_or("raw").to_owned();
    let size = v["virtual-size"].as_u64().unwrap_or(0);
    Ok((fmt, size))
}

/// Check an image file is what its `disk_format` says (a corrupt qcow2
/// fails here, not in a half-booted guest); its virtual size.
pub async fn check_image(image: &DiskFile) -> DriverResult<u64> {
    let format = qemu_format(&image.format)?;
    let (found, size) = info(&image.path, Some(format))
        .await
        .map_err(|e| DriverError(format!("Image is not a valid {format} disk: {e}")))?;
    if format == "qcow2" && found != "qcow2" {
        return Err(DriverError(format!(
            "Image is not a valid qcow2 disk (found {found})"
        )));
    }
    Ok(size)
}

/// The QEMU block driver for a Glance `disk_format`.
pub fn qemu_format(disk_format: &str) -> DriverResult<&'static str> {
    match disk_format {
        "qcow2" => Ok("qcow2"),
        "raw" | "" | "ami" => Ok("raw"),
        "vmdk" => Ok("vmdk"),
        "vdi" => Ok("vdi"),
        "vhd" | "vhdx" => Ok("vpc"),
        other => Err(DriverError(format!(
            "Image disk format {other} cannot be booted by this driver"
        ))),
    }
}

/// A qcow2 overlay at `out` on `base`, grown to `size_gb` when that is
/// larger than the base (0: the base's size). Written to a temporary name
/// first, so a crash never leaves half a disk under the real name.
pub async fn overlay(base: &DiskFile, out: &Path, size_gb: u64) -> DriverResult<()> {
    let virtual_size = check_image(base).await?;
    let want = size_gb * GIB;
    if size_gb > 0 && virtual_size > want {
        return Err(DriverError(format!(
            "Flavor's disk is too small for requested image. Flavor disk is {want} bytes, image is {virtual_size} bytes."
        )));
    }
    let tmp = out.with_extension("part");
    let format = qemu_format(&base.format)?;
    let mut args = vec![
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        s(&base.path)?,
        "-F",
        format,
        s(&tmp)?,
    ];
    let size = want.to_string();
    if want > virtual_size {
        args.push(&size);
    }
    run(&args).await?;
    std::fs::rename(&tmp, out).map_err(|e| DriverError(format!("cannot place disk: {e}")))
}

/// A blank qcow2 of `size_mb` MiB (ephemeral and swap disks).
pub async fn blank(out: &Path, size_mb: u64) -> DriverResult<()> {
    let tmp = out.with_extension("part");
    let size = format!("{}", size_mb * (1 << 20));
    run(&["create", "-q", "-f", "qcow2", s(&tmp)?, &size]).await?;
    std::fs::rename(&tmp, out).map_err(|e| DriverError(format!("cannot place disk: {e}")))
}

/// Grow a qcow2 to `size_gb` when it is smaller (disks never shrink).
pub async fn grow(path: &Path, size_gb: u64) -> DriverResult<()> {
    let (_, size) = info(path, Some("qcow2")).await?;
    let want = size_gb * GIB;
    if size_gb == 0 || want <= size {
        return Ok(());
    }
    run(&["resize", "-q", "-f", "qcow2", s(path)?, &want.to_string()]).await?;
    Ok(())
}

/// A standalone qcow2 copy of `disk` (its backing chain flattened) at
/// `out`. `-U`: the guest may hold the disk open; the caller has paused
/// it so the copy is consistent.
pub async fn flatten(disk: &DiskFile, out: &Path) -> DriverResult<()> {
    let format = qemu_format(&disk.format)?;
    run(&[
        "convert",
        "-U",
        "-q",
        "-f",
        format,
        "-O",
        "qcow2",
        s(&disk.path)?,
        s(out)?,
    ])
    .await?;
    Ok(())
}
