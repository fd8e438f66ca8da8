//! Extra spec validation from microversion 2.86, after Nova's validator
//! registry: a key in a namespace Nova knows (`hw:`, `hw_rng:`,
//! `hw_video:`, `os:`, `resources…:`, `trait…:`, `quota:`) must be a key
//! Nova defines there and its value of the right kind; keys without a
//! namespace, or in namespaces Nova does not know, pass as they are.
//!
//! The table covers the libvirt-relevant keys of those namespaces; keys
//! of other drivers' namespaces (`vmware:`, `powervm:`, …) are not checked.

use regex::Regex;

use crate::error::{Error, Result};

/// The value a key takes.
enum Kind {
    Bool,
    Int(i64),
    Enum(&'static [&'static str]),
    Pattern(&'static str),
    Text,
}

const CPU_LIST: &str = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*";

fn hw_key(name: &str) -> Option<Kind> {
    use Kind::*;
    Some(match name {
        "cpu_realtime"
        | "hide_hypervisor_id"
        | "locked_memory"
        | "boot_menu"
        | "vif_multiqueue_enabled"
        | "mem_encryption"
        | "pmu"
        | "virtio_packed_ring"
        | "ephemeral_encryption" => Bool,
        "cpu_realtime_mask" => Pattern(r"(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"),
        "cpu_dedicated_mask" => Pattern(CPU_LIST),
        "cpu_policy" => Enum(&["dedicated", "shared", "mixed"]),
        "cpu_thread_policy" => Enum(&["prefer", "isolate", "require"]),
        "emulator_threads_policy" => Enum(&["share", "isolate"]),
        "mem_page_size" => Pattern(r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"),
        "numa_nodes" | "cpu_sockets" | "cpu_cores" | "cpu_threads" | "cpu_max_sockets"
        | "cpu_max_cores" | "cpu_max_threads" => Int(1),
        "pci_numa_affinity_policy" => Enum(&["required", "preferred", "legacy", "socket"]),
        "serial_port_count" | "redirected_usb_ports" => Int(0),
        "pmem" => Pattern("([a-zA-Z0-9_]+(,)?)+"),
        "mem_encryption_model"
        | "tpm_model"
        | "tpm_version"
        | "tpm_secret_security"
        | "watchdog_action"
        | "viommu_model"
        | "sound_model"
        | "usb_model"
        | "ephemeral_encryption_format" => Text,
        _ => {
            let (prefix, n) = name.split_once('.')?;
            if !n.bytes().all(|b| b.is_ascii_digit()) || n.is_empty() {
                return None;
            }
            match prefix {
                "numa_cpus" => Pattern(CPU_LIST),
                "numa_mem" => Int(1),
                _ => return None,
            }
        }
    })
}

/// The rule for `name`, `None` when the key is unknown in a namespace Nova
/// validates, `Some(None)` when Nova does not validate it at all.
fn rule(name: &str) -> Option<Option<Kind>> {
    let Some((ns, key)) = name.split_once(':') else {
        return Some(None);
    };
    let group = |prefix: &str| {
        ns.strip_prefix(prefix).is_some_and(|g| {
            g.len() <= 64
                && g.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    };
    let upper = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    match ns {
        "hw" => hw_key(key).map(Some),
        "hw_rng" => match key {
            "allowed" => Some(Some(Kind::Bool)),
            "rate_bytes" | "rate_period" => Some(Some(Kind::Int(0))),
            _ => None,
        },
        "hw_video" => (key == "ram_max_mb").then_some(Some(Kind::Int(0))),
        "os" => (key == "secure_boot")
            .then_some(Some(Kind::Enum(&["required", "disabled", "optional"]))),
        "quota" => Some(Some(Kind::Text)),
        _ if group("resources") => upper.then_some(Some(Kind::Int(0))),
        _ if group("trait") => upper.then_some(Some(Kind::Enum(&["required", "forbidden"]))),
        _ => Some(None),
    }
}

fn bool_ok(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "1" | "0" | "yes" | "no" | "on" | "off" | "t" | "f" | "y" | "n"
    )
}

/// Nova's `validators.validate(name, value)`: a 400 naming the key.
pub fn validate(name: &str, value: &str) -> Result<()> {
    let fail = |why: String| Err(Error::bad_request(format!("Validation failed; {why}")));
    let kind = match rule(name) {
        None => {
            return fail(format!(
                "extra spec '{name}' does not appear to be a valid extra spec."
            ))
        }
        Some(None) => return Ok(()),
        Some(Some(k)) => k,
    };
    let good = match kind {
        Kind::Bool => bool_ok(value),
        Kind::Int(min) => value.trim().parse::<i64>().is_ok_and(|n| n >= min),
        Kind::Enum(values) => values.contains(&value),
        Kind::Pattern(p) => Regex::new(&format!("^(?:{p})$")).is_ok_and(|r| r.is_match(value)),
        Kind::Text => true,
    };
    if good {
        Ok(())
    } else {
        fail(format!(
            "value '{value}' is not valid for extra spec '{name}'."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn known_and_unknown_keys() {
        assert!(validate("hw:cpu_policy", "shared").is_ok());
        assert!(validate("hw:cpu_policy", "sharing").is_err());
        assert!(validate("hw:numa_nodes", "1").is_ok());
        assert!(validate("hw:numa_nodes", "0").is_err());
        assert!(validate("hw:numa_cpus.0", "0-3,^2").is_ok());
        assert!(validate("hw:mem_page_size", "2MiB").is_ok());
        assert!(validate("hw:foo", "1").is_err());
        assert!(validate("foo:bar", "baz").is_ok());
        assert!(validate("plain", "x").is_ok());
        assert!(validate("resources:VCPU", "2").is_ok());
        assert!(validate("resources1:CUSTOM_X", "x").is_err());
        assert!(validate("trait:HW_CPU_X86_AVX", "required").is_ok());
        assert!(validate("trait:HW_CPU_X86_AVX", "maybe").is_err());
        assert!(validate("hw_rng:allowed", "True").is_ok());
        assert!(validate("os:secure_boot", "required").is_ok());
    }
}
