//! The standard catalog written into an empty database at first start:
//! the resource types OpenStack services describe with metadata and a few
//! namespaces under the names clients look for. The definitions are this
//! project's own short descriptions of the properties Nova and Glance read.

use serde_json::{json, Value};

use super::{Association, Item, Namespace, PROPERTY};

pub const RESOURCE_TYPES: &[&str] = &[
    "OS::Cinder::Volume",
    "OS::Glance::Image",
    "OS::Nova::Aggregate",
    "OS::Nova::Flavor",
    "OS::Nova::Server",
];

/// A property of a seeded namespace: name, title, type, description,
/// allowed values (empty: any).
type Prop = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

struct Def {
    namespace: &'static str,
    display_name: &'static str,
    description: &'static str,
    /// (resource type, prefix)
    associations: &'static [(&'static str, Option<&'static str>)],
    properties: &'static [Prop],
}

const DEFS: &[Def] = &[
    Def {
        namespace: "OS::Compute::Hypervisor",
        display_name: "Hypervisor Selection",
        description: "Which hypervisor and virtual machine mode an image needs.",
        associations: &[("OS::Glance::Image", None)],
        properties: &[
            (
                "hypervisor_type",
                "Hypervisor Type",
                "string",
                "The hypervisor an image must run on.",
                &["hyperv", "ironic", "lxc", "qemu", "kvm", "vmware", "xen"],
            ),
            (
                "vm_mode",
                "VM Mode",
                "string",
                "The virtual machine ABI the image expects.",
                &["hvm", "xen", "exe", "uml"],
            ),
        ],
    },
    Def {
        namespace: "OS::Compute::Libvirt",
        display_name: "libvirt Driver Options",
        description: "Guest hardware the libvirt compute driver builds for an image.",
        associations: &[("OS::Glance::Image", None)],
        properties: &[
            (
                "hw_machine_type",
                "Machine Type",
                "string",
                "The emulated machine type, such as q35 or pc.",
                &[],
            ),
            (
                "hw_disk_bus",
                "Disk Bus",
                "string",
                "The bus disks are attached to.",
                &["scsi", "virtio", "uml", "xen", "ide", "usb", "sata"],
            ),
            (
                "hw_vif_model",
                "Virtual Network Interface",
                "string",
                "The model of the guest's network interfaces.",
                &["e1000", "e1000e", "ne2k_pci", "pcnet", "rtl8139", "virtio"],
            ),
            (
                "hw_video_model",
                "Video Model",
                "string",
                "The model of the guest's video adapter.",
                &["vga", "cirrus", "vmvga", "xen", "qxl", "virtio", "none"],
            ),
            (
                "hw_firmware_type",
                "Firmware Type",
                "string",
                "Whether the guest boots with BIOS or UEFI firmware.",
                &["bios", "uefi"],
            ),
        ],
    },
    Def {
        namespace: "OS::Compute::Watchdog",
        display_name: "Watchdog Behavior",
        description: "What the hypervisor does when the guest's watchdog fires.",
        associations: &[
            ("OS::Glance::Image", None),
            ("OS::Cinder::Volume", None),
            ("OS::Nova::Flavor", Some("hw:")),
        ],
        properties: &[(
            "hw_watchdog_action",
            "Watchdog Action",
            "string",
            "The action taken when the guest stops answering its watchdog.",
            &["disabled", "reset", "poweroff", "pause", "none"],
        )],
    },
    Def {
        namespace: "OS::Compute::RandomNumberGenerator",
        display_name: "Random Number Generator",
        description: "A virtual random number generator device for the guest.",
        associations: &[("OS::Glance::Image", None), ("OS::Nova::Flavor", None)],
        properties: &[
            (
                "hw_rng:allowed",
                "Random Number Generator Allowed",
                "string",
                "Whether guests may have a random number generator device.",
                &["true", "false"],
            ),
            (
                "hw_rng:rate_bytes",
                "Random Number Generator Rate Bytes",
                "integer",
                "Bytes the guest may read from the device per period.",
                &[],
            ),
            (
                "hw_rng:rate_period",
                "Random Number Generator Rate Period",
                "integer",
                "The period, in milliseconds, the byte rate applies to.",
                &[],
            ),
        ],
    },
    Def {
        namespace: "OS::Compute::GuestShutdownBehavior",
        display_name: "Shutdown Behavior",
        description: "How long a guest is given to shut down cleanly.",
        associations: &[("OS::Glance::Image", None)],
        properties: &[(
            "os_shutdown_timeout",
            "Shutdown timeout",
            "integer",
            "Seconds the guest may take to power off before it is stopped.",
            &[],
        )],
    },
    Def {
        namespace: "OS::Glance::CommonImageProperties",
        display_name: "Common Image Properties",
        description: "Properties that describe an image's operating system and boot files.",
        associations: &[],
        properties: &[
            (
                "os_distro",
                "OS Distro",
                "string",
                "The operating system distribution, in lower case (such as ubuntu or fedora).",
                &[],
            ),
            (
                "os_version",
                "OS Version",
                "string",
                "The version of the operating system distribution.",
                &[],
            ),
            (
                "kernel_id",
                "Kernel ID",
                "string",
                "The image holding the kernel to boot an AMI-style image with.",
                &[],
            ),
            (
                "ramdisk_id",
                "Ramdisk ID",
                "string",
                "The image holding the ramdisk to boot an AMI-style image with.",
                &[],
            ),
            (
                "instance_uuid",
                "Instance ID",
                "string",
                "The server this image is a snapshot of.",
                &[],
            ),
        ],
    },
    Def {
        namespace: "OS::Compute::VirtCPUTopology",
        display_name: "Virtual CPU Topology",
        description: "How the guest's virtual CPUs are laid out in sockets, cores and threads.",
        associations: &[
            ("OS::Glance::Image", None),
            ("OS::Nova::Flavor", Some("hw:")),
        ],
        properties: &[
            (
                "hw_cpu_sockets",
                "vCPU Sockets",
                "integer",
                "Preferred number of sockets.",
                &[],
            ),
            (
                "hw_cpu_cores",
                "vCPU Cores",
                "integer",
                "Preferred number of cores per socket.",
                &[],
            ),
            (
                "hw_cpu_threads",
                "vCPU Threads",
                "integer",
                "Preferred number of threads per core.",
                &[],
            ),
        ],
    },
];

/// A seeded namespace with its associations and (kind, item) contents.
pub type Seeded = (Namespace, Vec<Association>, Vec<(&'static str, Item)>);

/// The seeded namespaces with their associations and properties.
pub fn namespaces(now: i64) -> Vec<Seeded> {
    DEFS.iter()
        .map(|d| {
            let ns = Namespace {
                namespace: d.namespace.into(),
                display_name: Some(d.display_name.into()),
                description: Some(d.description.into()),
                visibility: "public".into(),
                protected: true,
                owner: None,
                created_at: now,
                updated_at: now,
            };
            let assocs = d
                .associations
                .iter()
                .map(|(rt, prefix)| Association {
                    name: (*rt).into(),
                    prefix: prefix.map(str::to_owned),
                    properties_target: None,
                    created_at: now,
                    updated_at: now,
                })
                .collect();
            let props = d
                .properties
                .iter()
                .map(|(name, title, kind, description, allowed)| {
                    let mut body =
                        json!({ "title": title, "type": kind, "description": description });
                    if !allowed.is_empty() {
                        body["enum"] = Value::from(allowed.to_vec());
                    }
                    (
                        PROPERTY,
                        Item {
                            name: (*name).into(),
                            body,
                            created_at: now,
                            updated_at: now,
                        },
                    )
                })
                .collect();
            (ns, assocs, props)
        })
        .collect()
}
