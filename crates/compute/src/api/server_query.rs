//! The query strings of `GET /servers`, `/servers/detail` and
//! `/servers/{id}` per microversion (Nova's query schemas): the parameters a
//! version knows; from 2.75 (lists) and 2.102 (show) any other is a 400, and
//! from 2.38 an unknown `status` is a 400.

use super::common::{query_get, QueryParams};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;

/// Parameters every version of the list takes (many are admin filters
/// that a project member's request may carry and Nova ignores).
const BASE: &[&str] = &[
    "user_id",
    "project_id",
    "tenant_id",
    "launch_index",
    "image_ref",
    "image",
    "kernel_id",
    "ramdisk_id",
    "hostname",
    "key_name",
    "power_state",
    "vm_state",
    "task_state",
    "host",
    "node",
    "flavor",
    "reservation_id",
    "launched_at",
    "terminated_at",
    "availability_zone",
    "name",
    "display_name",
    "description",
    "display_description",
    "locked_by",
    "uuid",
    "root_device_name",
    "config_drive",
    "access_ip_v4",
    "access_ip_v6",
    "auto_disk_config",
    "progress",
    "sort_key",
    "sort_dir",
    "all_tenants",
    "soft_deleted",
    "deleted",
    "status",
    "changes-since",
    "ip",
    "ip6",
    "created_at",
    "block_device_mapping",
    "services",
    "metadata",
    "system_metadata",
    "info_cache",
    "security_groups",
    "pci_devices",
    "limit",
    "marker",
];

/// The statuses a list may filter on (2.38 refuses others).
const STATUSES: &[&str] = &[
    "ACTIVE",
    "BUILD",
    "DELETED",
    "ERROR",
    "HARD_REBOOT",
    "MIGRATING",
    "PASSWORD",
    "PAUSED",
    "REBOOT",
    "REBUILD",
    "RESCUE",
    "RESIZE",
    "REVERT_RESIZE",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "SHUTOFF",
    "SOFT_DELETED",
    "SUSPENDED",
    "UNKNOWN",
    "VERIFY_RESIZE",
];

fn known(key: &str, v: ApiVersion) -> bool {
    BASE.contains(&key)
        || key.starts_with('_')
        || (v.at_least(2, 26) && ["tags", "tags-any", "not-tags", "not-tags-any"].contains(&key))
        || (v.at_least(2, 66) && key == "changes-before")
        || (v.at_least(2, 73) && key == "locked")
}

/// Check a list request's query for version `v`.
pub fn check(q: &QueryParams, v: ApiVersion, _admin: bool) -> Result<()> {
    if v.at_least(2, 75) {
        if let Some((k, _)) = q.0.iter().find(|(k, _)| !known(k, v)) {
            return Err(Error::bad_request(format!(
                "Invalid input for query parameters {k}. Value: {k}. Additional properties are \
                 not allowed ('{k}' was unexpected)"
            )));
        }
    }
    if v.at_least(2, 38) {
        if let Some(s) = query_get(q, "status") {
            if !STATUSES.contains(&s.to_ascii_uppercase().as_str()) {
                return Err(Error::bad_request(format!("Invalid status value: {s}")));
            }
        }
    }
    Ok(())
}

/// Check a show request's query: from 2.102 it takes no parameters.
pub fn check_show(q: &QueryParams, v: ApiVersion) -> Result<()> {
    if let (true, Some((k, _))) = (v.at_least(2, 102), q.0.first()) {
        return Err(Error::bad_request(format!(
            "Invalid input for query parameters {k}. Value: {k}. Additional properties are not \
             allowed ('{k}' was unexpected)"
        )));
    }
    Ok(())
}
