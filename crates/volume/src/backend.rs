//! The storage backend: one qcow2 file per volume and per snapshot in the
//! data dir, made and changed with `qemu-img`. Snapshots are full copies
//! (`qemu-img convert`), so volumes and snapshots never depend on each other.
//! Every file is written under a `.part` name and renamed when complete.

use std::path::{Path, PathBuf};

use tokio::process::Command;

#[derive(Clone, Debug)]
pub struct Backend {
    dir: PathBuf,
}

const GIB: i64 = 1024 * 1024 * 1024;

impl Backend {
    pub fn new(dir: PathBuf) -> Self {
        Backend { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn volume_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("volume-{id}.qcow2"))
    }

    pub fn snapshot_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("snapshot-{id}.qcow2"))
    }

    /// A backup's data (`data_id` is the id of the backup that made it).
    pub fn backup_path(&self, data_id: &str) -> PathBuf {
        self.dir.join(format!("backup-{data_id}.qcow2"))
    }

    fn part(path: &Path) -> PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(".part");
        PathBuf::from(s)
    }

    pub async fn ensure_dir(&self) -> Result<(), String> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))
    }

    /// A new empty qcow2 of `size_gb`.
    pub async fn create_blank(&self, dest: &Path, size_gb: i64) -> Result<(), String> {
        let tmp = Self::part(dest);
        let size = format!("{}", size_gb * GIB);
        let out = qemu_img(&["create", "-q", "-f", "qcow2", path_str(&tmp)?, &size]).await;
        self.finish(out, &tmp, dest).await
    }

    /// A full qcow2 copy of `src` (of format `src_format`), grown to `size_gb`.
    pub async fn copy_from(
        &self,
        src: &Path,
        src_format: &str,
        dest: &Path,
        size_gb: i64,
    ) -> Result<(), String> {
        self.convert(src, src_format, dest, size_gb, false).await
    }

    /// A copy of volume file `src` that a running guest may have open
    /// (a snapshot or clone of an in-use volume): read without QEMU's image
    /// lock, so it holds what the guest had written to disk — crash
    /// consistent, as an LVM snapshot of a live volume is.
    pub async fn copy_live(&self, src: &Path, dest: &Path, size_gb: i64) -> Result<(), String> {
        self.convert(src, "qcow2", dest, size_gb, true).await
    }

    async fn convert(
        &self,
        src: &Path,
        src_format: &str,
        dest: &Path,
        size_gb: i64,
        shared: bool,
    ) -> Result<(), String> {
        let tmp = Self::part(dest);
        let mut args = vec!["convert", "-q"];
        if shared {
            args.push("-U");
        }
        args.extend([
            "-f",
            src_format,
            "-O",
            "qcow2",
            path_str(src)?,
            path_str(&tmp)?,
        ]);
        let mut out = qemu_img(&args).await;
        if out.is_ok() {
            let virt = self.virtual_size(&tmp).await;
            out = match virt {
                Ok(v) if v > size_gb * GIB => Err(format!(
                    "the source is {v} bytes, larger than the requested {size_gb} GiB"
                )),
                Ok(v) if v < size_gb * GIB => self.resize_raw(&tmp, size_gb).await,
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
        }
        self.finish(out, &tmp, dest).await
    }

    /// A copy of a volume in another disk format (`raw`, `qcow2`, `vmdk`,
    /// `vdi`, `vhd`, `vhdx`, `ploop`), written at `dest` (upload to image).
    pub async fn export(&self, src: &Path, dest: &Path, disk_format: &str) -> Result<(), String> {
        let fmt = match disk_format {
            "vhd" => "vpc",
            "ploop" => "parallels",
            other => other,
        };
        qemu_img(&[
            "convert",
            "-q",
            "-f",
            "qcow2",
            "-O",
            fmt,
            path_str(src)?,
            path_str(dest)?,
        ])
        .await
    }

    pub async fn resize(&self, path: &Path, size_gb: i64) -> Result<(), String> {
        self.resize_raw(path, size_gb).await
    }

    async fn resize_raw(&self, path: &Path, size_gb: i64) -> Result<(), String> {
        let size = format!("{}", size_gb * GIB);
        qemu_img(&["resize", "-q", "-f", "qcow2", path_str(path)?, &size]).await
    }

    pub async fn virtual_size(&self, path: &Path) -> Result<i64, String> {
        let out = Command::new("qemu-img")
            .args(["info", "--output=json", "-U", path_str(path)?])
            .output()
            .await
            .map_err(|e| format!("cannot run qemu-img: {e}"))?;
        if !out.status.success() {
            return Err(stderr_of(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("qemu-img info printed no JSON: {e}"))?;
        v.get("virtual-size")
            .and_then(|s| s.as_i64())
            .ok_or_else(|| "qemu-img info gave no virtual-size".to_owned())
    }

    async fn finish(&self, out: Result<(), String>, tmp: &Path, dest: &Path) -> Result<(), String> {
        match out {
            Ok(()) => tokio::fs::rename(tmp, dest)
                .await
                .map_err(|e| format!("cannot rename {}: {e}", tmp.display())),
            Err(e) => {
                let _ = tokio::fs::remove_file(tmp).await;
                Err(e)
            }
        }
    }

    pub async fn remove(&self, path: &Path) {
        if let Err(e) = tokio::fs::remove_file(path).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a volume file");
            }
        }
    }
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("path {} is not UTF-8", p.display()))
}

fn stderr_of(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    if s.is_empty() {
        "qemu-img failed".to_owned()
    } else {
        format!(
            "qemu-img failed: {}",
            s.chars().take(400).collect::<String>()
        )
    }
}

async fn qemu_img(args: &[&str]) -> Result<(), String> {
    let out = Command::new("qemu-img")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run qemu-img: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(stderr_of(&out.stderr))
    }
}

/// What the one backend reports to the scheduler (Cinder's capabilities).
const CAPABILITIES: &[(&str, &str)] = &[
    ("volume_backend_name", "qcow2"),
    ("vendor_name", "Ferrostack"),
    ("storage_protocol", "qcow2"),
    ("driver_version", "1.0"),
    ("multiattach", "True"),
    ("thin_provisioning_support", "True"),
    ("thick_provisioning_support", "False"),
];

/// The value this backend reports for a capability.
pub fn capability(key: &str) -> Option<&'static str> {
    CAPABILITIES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// One requirement (Cinder's extra-spec operators `<is>`, `<in>`, `<or>`,
/// `==`, or a plain value) against one capability value.
fn satisfies(cap: &str, req: &str) -> bool {
    let req = req.trim();
    if let Some(v) = req.strip_prefix("<is>") {
        return v.trim().eq_ignore_ascii_case(cap);
    }
    if let Some(v) = req.strip_prefix("<in>") {
        return cap.contains(v.trim());
    }
    if req.starts_with("<or>") {
        return req
            .split("<or>")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .any(|alt| alt == cap);
    }
    if let Some(v) = req.strip_prefix("==").or_else(|| req.strip_prefix("s==")) {
        return v.trim() == cap;
    }
    if req.starts_with('<') || req.starts_with('>') || req.starts_with("!=") {
        return true; // numeric and other operators: not judged here
    }
    req == cap
}

/// Whether a volume type's extra specs can be served by this backend: each
/// unscoped (or `capabilities:`) key naming a capability we report must be
/// satisfied; other keys are not judged.
pub fn accepts(extra_specs: &serde_json::Map<String, serde_json::Value>) -> bool {
    extra_specs.iter().all(|(key, req)| {
        let key = key.strip_prefix("capabilities:").unwrap_or(key);
        let Some((_, cap)) = CAPABILITIES.iter().find(|(k, _)| *k == key) else {
            return true;
        };
        match req.as_str() {
            Some(r) => satisfies(cap, r),
            None => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(pairs: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect()
    }

    #[test]
    fn extra_specs_against_capabilities() {
        assert!(accepts(&specs(&[])));
        assert!(accepts(&specs(&[("vendor_name", "Ferrostack")])));
        assert!(accepts(&specs(&[("multiattach", "<is> True")])));
        assert!(accepts(&specs(&[(
            "capabilities:storage_protocol",
            "<or> iSCSI <or> qcow2"
        )])));
        assert!(accepts(&specs(&[("volume_backend_name", "<in> qco")])));
        assert!(accepts(&specs(&[
            ("vendor:anything", "x"),
            ("unknown_key", "y")
        ])));
        assert!(!accepts(&specs(&[("vendor_name", "Nobody")])));
        assert!(!accepts(&specs(&[("multiattach", "<is> False")])));
        assert!(!accepts(&specs(&[("storage_protocol", "iSCSI")])));
    }
}
