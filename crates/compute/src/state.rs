//! Nova's three state axes and the `status` derived from them.

/// Hypervisor power state, with Nova's numeric codes.
pub use ferro_virt::PowerState;

pub mod vm {
    pub const BUILDING: &str = "building";
    pub const ACTIVE: &str = "active";
    pub const STOPPED: &str = "stopped";
    pub const PAUSED: &str = "paused";
    pub const SUSPENDED: &str = "suspended";
    pub const ERROR: &str = "error";
    pub const RESCUED: &str = "rescued";
    pub const SHELVED: &str = "shelved";
    pub const SHELVED_OFFLOADED: &str = "shelved_offloaded";
    pub const DELETED: &str = "deleted";
}

/// The API `status` for a vm_state and task_state (Nova's state map).
pub fn status(vm_state: &str, task_state: Option<&str>) -> &'static str {
    match (vm_state, task_state) {
        ("building", _) => "BUILD",
        ("active", Some("rebooting" | "reboot_pending" | "reboot_started")) => "REBOOT",
        ("active", Some("rebooting_hard" | "reboot_pending_hard" | "reboot_started_hard")) => {
            "HARD_REBOOT"
        }
        ("active", Some("rebuilding" | "rebuild_block_device_mapping" | "rebuild_spawning")) => {
            "REBUILD"
        }
        (
            "active",
            Some("resize_prep" | "resize_migrating" | "resize_migrated" | "resize_finish"),
        ) => "RESIZE",
        ("active", Some("migrating")) => "MIGRATING",
        ("active", Some("updating_password")) => "PASSWORD",
        ("active", _) => "ACTIVE",
        ("stopped", Some("rebuilding")) => "REBUILD",
        ("stopped", _) => "SHUTOFF",
        ("paused", _) => "PAUSED",
        ("suspended", _) => "SUSPENDED",
        ("resized", Some("resize_reverting")) => "REVERT_RESIZE",
        ("resized", _) => "VERIFY_RESIZE",
        ("rescued", _) => "RESCUE",
        ("shelved", _) => "SHELVED",
        ("shelved_offloaded", _) => "SHELVED_OFFLOADED",
        ("soft-delete", _) => "SOFT_DELETED",
        ("deleted", _) => "DELETED",
        ("error", _) => "ERROR",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::status;

    #[test]
    fn state_map() {
        assert_eq!(status("building", Some("scheduling")), "BUILD");
        assert_eq!(status("active", None), "ACTIVE");
        assert_eq!(status("active", Some("rebooting_hard")), "HARD_REBOOT");
        assert_eq!(status("stopped", None), "SHUTOFF");
        assert_eq!(status("error", None), "ERROR");
        assert_eq!(status("active", Some("rescuing")), "ACTIVE");
        assert_eq!(status("rescued", Some("unrescuing")), "RESCUE");
        assert_eq!(status("active", Some("shelving")), "ACTIVE");
        assert_eq!(
            status("shelved_offloaded", Some("unshelving")),
            "SHELVED_OFFLOADED"
        );
    }
}
