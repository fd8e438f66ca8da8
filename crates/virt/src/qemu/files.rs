//! The instance directory (`DATA/instances/<uuid>/`) and the shared base
//! images (`DATA/instances/_base/`).
//!
//! - `guest.json`: the guest as last launched (what `list_guests`, volume
//!   hot-plug and base-image cleanup read);
//! - `disk` (root, a qcow2 overlay on a base image), `disk.eph0`,
//!   `disk.swap`, `disk.config` (ISO), `disk.rescue`, `disk.resize-backup`;
//! - `state.save`: a suspended guest's memory and device state;
//! - `disk.base`, `rescue-base`: the base image the root and rescue disks
//!   sit on (an unshelved guest's is the shelved snapshot, not its image);
//! - `console.log` (serial console, appended across boots), `qemu.log`
//!   (QEMU's own messages), `qmp.sock`, `qemu.pid`; `off`: the guest was
//!   stopped on purpose (no `off` and no process: it crashed, and
//!   `crash.reported` marks that the crash was logged once).

use std::path::{Path, PathBuf};

use crate::{DiskFile, DriverError, DriverResult, Guest, RootDisk};

pub struct Layout {
    root: PathBuf,
}

pub const BASE_DIR: &str = "_base";

fn io(what: &str) -> impl Fn(std::io::Error) -> DriverError + '_ {
    move |e| DriverError(format!("{what}: {e}"))
}

impl Layout {
    pub fn new(root: PathBuf) -> Self {
        Layout { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, uuid: &str) -> PathBuf {
        self.root.join(uuid)
    }

    pub fn file(&self, uuid: &str, name: &str) -> PathBuf {
        self.dir(uuid).join(name)
    }

    /// Make the instance directory (private to us: it holds the QMP socket).
    pub fn create(&self, uuid: &str) -> DriverResult<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.dir(uuid);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io("cannot make the instance directory"))?;
        Ok(dir)
    }

    pub fn save_guest(&self, guest: &Guest) -> DriverResult<()> {
        let data = serde_json::to_vec_pretty(guest)
            .map_err(|e| DriverError(format!("cannot encode guest: {e}")))?;
        let path = self.file(&guest.uuid, "guest.json");
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, data).map_err(io("cannot write guest.json"))?;
        std::fs::rename(&tmp, &path).map_err(io("cannot write guest.json"))
    }

    pub fn load_guest(&self, uuid: &str) -> Option<Guest> {
        let data = std::fs::read(self.file(uuid, "guest.json")).ok()?;
        serde_json::from_slice(&data).ok()
    }

    /// The uuids that have a directory here.
    pub fn uuids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n != BASE_DIR)
            .collect()
    }

    /// The image file as a base of our own: a hard link (no copy) into
    /// `_base/`, so deleting the image from Glance never pulls a running
    /// guest's backing file away; a copy when linking is not possible.
    pub fn base_of(&self, image: &DiskFile) -> DriverResult<DiskFile> {
        let name = image
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| DriverError("image file has no name".into()))?;
        let dir = self.root.join(BASE_DIR);
        std::fs::create_dir_all(&dir).map_err(io("cannot make the base image directory"))?;
        let base = dir.join(name);
        if !base.exists() {
            let tmp = base.with_extension("part");
            let _ = std::fs::remove_file(&tmp);
            if std::fs::hard_link(&image.path, &tmp).is_err() {
                std::fs::copy(&image.path, &tmp).map_err(io("cannot copy the image"))?;
            }
            std::fs::rename(&tmp, &base).map_err(io("cannot place the base image"))?;
        }
        Ok(DiskFile {
            path: base,
            format: image.format.clone(),
        })
    }

    /// Record which base image a disk of guest `uuid` sits on.
    pub fn record_base(&self, uuid: &str, record: &str, base: &DiskFile) -> DriverResult<()> {
        std::fs::write(
            self.file(uuid, record),
            base.path.to_string_lossy().as_bytes(),
        )
        .map_err(io("cannot record the base image"))
    }

    /// Remove the base images no remaining guest is built on.
    pub fn prune_bases(&self) {
        let mut used = Vec::new();
        for uuid in self.uuids() {
            // What the disks really sit on (`disk.base`, `rescue-base`);
            // guest.json for a guest made before those records existed.
            for record in ["disk.base", "rescue-base"] {
                if let Ok(base) = std::fs::read_to_string(self.file(&uuid, record)) {
                    used.extend(Path::new(base.trim()).file_name().map(|n| n.to_owned()));
                }
            }
            if let Some(g) = self.load_guest(&uuid) {
                if let RootDisk::Image(f) = &g.root {
                    used.extend(f.path.file_name().map(|n| n.to_owned()));
                }
            }
        }
        let Ok(entries) = std::fs::read_dir(self.root.join(BASE_DIR)) else {
            return;
        };
        for e in entries.filter_map(|e| e.ok()) {
            if !used.contains(&e.file_name()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
