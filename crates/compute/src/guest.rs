//! The whole guest the driver is given, assembled from the server's row,
//! its flavor, image, ports, volumes and metadata.

use ferro_api::AuthContext;
use ferro_virt::{ConfigDrive, DiskFile, Guest, GuestFlavor, Nic, RootDisk, VolumeDisk};
use serde_json::Value;

use crate::store::attachments;
use crate::store::instances::Instance;
use crate::ComputeService;

/// The context the worker reads a server's parts in: its owner's, as an
/// admin (an admin may have attached another project's volume, or booted
/// it from an image the owner cannot list).
pub(crate) fn admin_context(i: &Instance) -> AuthContext {
    let mut ctx = crate::worker::owner_context(i);
    ctx.roles.push("admin".into());
    ctx
}

fn flavor_of(flavor: &Value) -> GuestFlavor {
    let n = |k: &str| {
        flavor
            .get(k)
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0)
            .max(0) as u64
    };
    GuestFlavor {
        vcpus: u32::try_from(n("vcpus")).unwrap_or(1).max(1),
        memory_mb: n("ram"),
        root_gb: n("disk"),
        ephemeral_gb: n("ephemeral"),
        swap_mb: n("swap"),
    }
}

/// The image `image_id` as a disk file on this host.
pub(crate) async fn image_disk(
    svc: &ComputeService,
    ctx: &AuthContext,
    image_id: &str,
) -> Result<DiskFile, String> {
    let image = svc
        .peers()
        .image
        .get_image(ctx, image_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("Image {image_id} could not be found."))?;
    let path = image
        .data_path
        .ok_or_else(|| format!("Image {image_id} has no data to boot from."))?;
    Ok(DiskFile {
        path,
        format: image.disk_format.unwrap_or_else(|| "raw".into()),
    })
}

/// The guest of server `i`; `image` overrides the image its root disk is
/// made from (an unshelve boots from the shelved snapshot).
pub(crate) async fn guest_of(
    svc: &ComputeService,
    i: &Instance,
    image: Option<&str>,
) -> Result<Guest, String> {
    let ctx = admin_context(i);
    let db_err = |e: ferro_store::sqlx::Error| e.to_string();
    let mut root = RootDisk::None;
    let mut volumes = Vec::new();
    for a in attachments::of_instance(svc.db(), &i.id)
        .await
        .map_err(db_err)?
    {
        let Some(v) = svc
            .peers()
            .volume
            .get_volume(&ctx, &a.volume_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let Some(path) = v.data_path else {
            continue;
        };
        let file = volume_file(path);
        if a.boot_index == Some(0) {
            root = RootDisk::Volume {
                volume_id: v.id,
                file,
            };
        } else {
            volumes.push(VolumeDisk {
                volume_id: v.id,
                file,
                device: a.device,
                shared: v.multiattach,
            });
        }
    }
    if root == RootDisk::None && svc.driver().uses_disk_files() {
        let image_id = image.unwrap_or(&i.image_id);
        if !image_id.is_empty() {
            root = RootDisk::Image(image_disk(svc, &ctx, image_id).await?);
        }
    }
    let ports = svc
        .peers()
        .network
        .ports_of_device(&ctx, &i.id)
        .await
        .map_err(|e| e.to_string())?;
    let nics = ports.iter().map(nic_of).collect();
    let wants_drive = !i.config_drive.is_empty() || svc.config().force_config_drive;
    let config_drive = if wants_drive {
        let src = crate::metadata::Source::read(svc, i).await?;
        Some(ConfigDrive {
            files: crate::metadata::config_drive_files(&src),
        })
    } else {
        None
    };
    Ok(Guest {
        uuid: i.id.clone(),
        name: i.name.clone(),
        hostname: i.hostname.clone(),
        flavor: flavor_of(&i.flavor),
        root,
        volumes,
        nics,
        config_drive,
    })
}

/// A port as the guest's NIC.
pub(crate) fn nic_of(p: &ferro_api::services::PortInfo) -> Nic {
    Nic {
        port_id: p.id.clone(),
        mac: p.mac_address.clone(),
        network_id: p.network_id.clone(),
        fixed_ips: p.fixed_ips.iter().map(|f| f.1.clone()).collect(),
    }
}

/// A volume's data as a guest disk (the volume service keeps qcow2 files).
pub(crate) fn volume_file(path: std::path::PathBuf) -> DiskFile {
    DiskFile {
        path,
        format: "qcow2".into(),
    }
}
