//! Configuration: defaults, then the TOML file, then `FERROSTACK_*`
//! variables and flags (clap merges those two).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::{CommonArgs, ServeArgs};

/// Everything `serve` needs, after merging all sources.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: String,
    pub public_url: Option<String>,
    pub admin_password: Option<String>,
    pub database_url: Option<String>,
    pub region: String,
    /// Largest JSON request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    pub classic_ports: bool,
    pub ports: ClassicPorts,
    pub identity: IdentitySection,
    pub compute: ComputeSection,
    pub network: NetworkSection,
    pub image: ImageSection,
    /// Log filter (tracing's EnvFilter syntax); RUST_LOG overrides it.
    pub log: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassicPorts {
    pub identity: u16,
    pub compute: u16,
    pub network: u16,
    pub image: u16,
    pub block_storage: u16,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentitySection {
    /// Token lifetime in seconds.
    pub token_expiration: i64,
    /// bcrypt cost for passwords (upstream default 12).
    pub password_hash_rounds: u32,
    /// Fernet keys kept after rotation.
    pub max_active_keys: usize,
    /// Keystone's `[security_compliance]` password rules (all off).
    pub security_compliance: SecurityComplianceSection,
}

/// `[identity.security_compliance]`: Keystone's option names and defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityComplianceSection {
    /// Failed password logins in a row that lock an account (0: off).
    pub lockout_failure_attempts: u32,
    /// Seconds a locked account stays locked (0: until a password reset).
    pub lockout_duration: u64,
    /// A self-service password change may not reuse any of the last this
    /// many passwords (0: off).
    pub unique_last_password_count: u32,
    /// Days a self-service password must be kept before the next change.
    pub minimum_password_age: u32,
    /// Regular expression every new password must match (Rust `regex`
    /// syntax: no look-around), anchored at the start like Python's
    /// `re.match`.
    pub password_regex: Option<String>,
    /// The rule in words, shown when a password does not match.
    pub password_regex_description: Option<String>,
    /// Days a password stays valid once set (0: no expiry).
    pub password_expires_days: u32,
    /// Passwords set by an admin must be changed by the user before use.
    pub change_password_upon_first_use: bool,
    /// Disable users not authenticated for this many days (0: off).
    pub disable_user_account_days_inactive: u32,
}

impl Default for SecurityComplianceSection {
    fn default() -> Self {
        SecurityComplianceSection {
            lockout_failure_attempts: 0,
            lockout_duration: 1800,
            unique_last_password_count: 0,
            minimum_password_age: 0,
            password_regex: None,
            password_regex_description: None,
            password_expires_days: 0,
            change_password_upon_first_use: false,
            disable_user_account_days_inactive: 0,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSection {
    /// `auto` (on when running as root with iproute2), `on` or `off`.
    pub dataplane: String,
    /// `physical network:host bridge` pairs (Neutron's `bridge_mappings`):
    /// a flat network on that physical network is plugged into the named
    /// bridge of the host's own namespace — the one thing the data plane
    /// ever changes there, and only when asked. Empty by default.
    pub bridge_mappings: Vec<String>,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection {
            dataplane: "auto".into(),
            bridge_mappings: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageSection {
    /// Ports a `web-download` import or legacy import task may fetch from
    /// (Glance's `[import_filtering_opts] allowed_ports`, default 80, 443).
    pub import_allowed_ports: Vec<u16>,
    /// Refuse uploads and imports whose data is not what `disk_format`
    /// says (Glance's `[image_format] require_image_format_match`).
    pub require_image_format_match: bool,
}

impl Default for ImageSection {
    fn default() -> Self {
        ImageSection {
            import_allowed_ports: vec![80, 443],
            require_image_format_match: false,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeSection {
    /// The name this node runs guests under (`OS-EXT-SRV-ATTR:host`).
    pub host: String,
    /// Delay of each fake-driver transition in milliseconds (0: instant).
    pub fake_delay_ms: u64,
    /// `auto` (qemu when `qemu-system-x86_64` is found, else fake), `qemu`
    /// or `fake`.
    pub driver: String,
    /// `auto` (KVM only when a probe guest really runs under it), `kvm` or
    /// `tcg`.
    pub accel: String,
    /// The QEMU binary (default: `qemu-system-x86_64` on PATH).
    pub qemu_binary: Option<PathBuf>,
    /// Seconds a guest may take to power off cleanly (Nova's 60).
    pub shutdown_timeout: u64,
    /// Give every server a config drive.
    pub force_config_drive: bool,
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    /// Appended to guests' host names in their metadata (Nova's `[api]
    /// dhcp_domain`); empty for none.
    pub dhcp_domain: String,
}

impl Default for ComputeSection {
    fn default() -> Self {
        ComputeSection {
            host: "ferrostack".into(),
            fake_delay_ms: 0,
            driver: "auto".into(),
            accel: "auto".into(),
            qemu_binary: None,
            shutdown_timeout: 60,
            force_config_drive: false,
            cpu_allocation_ratio: 16.0,
            ram_allocation_ratio: 1.5,
            disk_allocation_ratio: 1.0,
            dhcp_domain: "novalocal".into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./ferrostack-data"),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            admin_password: None,
            database_url: None,
            region: "RegionOne".into(),
            max_body_bytes: 1024 * 1024,
            classic_ports: false,
            ports: ClassicPorts::default(),
            identity: IdentitySection::default(),
            compute: ComputeSection::default(),
            network: NetworkSection::default(),
            image: ImageSection::default(),
            log: "info".into(),
        }
    }
}

impl Default for ClassicPorts {
    fn default() -> Self {
        ClassicPorts {
            identity: 5000,
            compute: 8774,
            network: 9696,
            image: 9292,
            block_storage: 8776,
        }
    }
}

impl Default for IdentitySection {
    fn default() -> Self {
        IdentitySection {
            token_expiration: 3600,
            password_hash_rounds: 12,
            max_active_keys: 3,
            security_compliance: SecurityComplianceSection::default(),
        }
    }
}

impl Config {
    /// Defaults, then the file named by `--config`.
    pub fn from_common(common: &CommonArgs) -> anyhow::Result<Config> {
        let mut cfg = match &common.config {
            Some(path) => Self::read(path)?,
            None => Config::default(),
        };
        if let Some(d) = &common.data_dir {
            cfg.data_dir = d.clone();
        }
        if let Ok(rounds) = std::env::var("FERROSTACK_PASSWORD_HASH_ROUNDS") {
            cfg.identity.password_hash_rounds = rounds
                .parse()
                .context("FERROSTACK_PASSWORD_HASH_ROUNDS must be a number")?;
        }
        Ok(cfg)
    }

    /// Defaults, the file, then flags and environment.
    pub fn from_serve(args: &ServeArgs) -> anyhow::Result<Config> {
        let mut cfg = Self::from_common(&args.common)?;
        if let Some(v) = &args.listen {
            cfg.listen = v.clone();
        }
        if args.public_url.is_some() {
            cfg.public_url = args.public_url.clone();
        }
        if args.admin_password.is_some() {
            cfg.admin_password = args.admin_password.clone();
        }
        if args.database_url.is_some() {
            cfg.database_url = args.database_url.clone();
        }
        cfg.classic_ports |= args.classic_ports;
        if let Some(d) = &args.compute_driver {
            cfg.compute.driver = d.clone();
        }
        if let Some(a) = &args.compute_accel {
            cfg.compute.accel = a.clone();
        }
        if let Some(d) = &args.network_dataplane {
            cfg.network.dataplane = d.clone();
        }
        if !["auto", "on", "off"].contains(&cfg.network.dataplane.as_str()) {
            anyhow::bail!("network.dataplane must be auto, on or off");
        }
        for m in &cfg.network.bridge_mappings {
            let ok = m
                .split_once(':')
                .is_some_and(|(p, b)| !p.is_empty() && !b.is_empty() && b.len() <= 15);
            if !ok {
                anyhow::bail!(
                    "network.bridge_mappings: {m:?} is not \"physical network:bridge\" (a bridge name has at most 15 characters)"
                );
            }
        }
        if !["auto", "qemu", "fake"].contains(&cfg.compute.driver.as_str()) {
            anyhow::bail!("compute.driver must be auto, qemu or fake");
        }
        if !["auto", "kvm", "tcg"].contains(&cfg.compute.accel.as_str()) {
            anyhow::bail!("compute.accel must be auto, kvm or tcg");
        }
        if !(4..=31).contains(&cfg.identity.password_hash_rounds) {
            anyhow::bail!("identity.password_hash_rounds must be between 4 and 31");
        }
        if let Some(re) = &cfg.identity.security_compliance.password_regex {
            regex::Regex::new(re).with_context(|| {
                format!("identity.security_compliance.password_regex {re:?} is not a valid regular expression")
            })?;
        }
        Ok(cfg)
    }

    fn read(path: &Path) -> anyhow::Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The database URL, defaulting to SQLite in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("ferrostack.db").display())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_file_parses_and_rejects_unknown_keys() {
        let cfg: Config = toml::from_str(
            "listen = \"0.0.0.0:9000\"\n[identity]\ntoken_expiration = 60\n[ports]\nidentity = 15000\n",
        )
        .unwrap();
        assert_eq!(cfg.listen, "0.0.0.0:9000");
        assert_eq!(cfg.identity.token_expiration, 60);
        assert_eq!(cfg.identity.password_hash_rounds, 12);
        assert_eq!(cfg.ports.identity, 15000);
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
    }
}
