//! Compute: Nova v2.1 for Ferrostack.
//!
//! - `api/`: HTTP handlers, one module per resource; `api/mod.rs` lists routes.
//! - `microversion.rs`: version negotiation and echo.
//! - `quota.rs`: the limits in force (defaults, classes, projects, users)
//!   and their checks.
//! - `state.rs`: vm_state / task_state / power_state and the status they show.
//! - `worker.rs`: claims durable tasks (build, delete, power actions) from
//!   the database and runs them through the driver.
//! - `driver.rs`: the driver as compute sees it (the `ComputeDriver` trait
//!   and the drivers live in the `ferro-virt` crate).
//! - `guest.rs`: the whole guest a driver is given, from a server's parts.
//! - `metadata.rs`: the metadata documents (config drive, metadata service).
//! - `store/`: the compute tables.

pub mod api;
pub mod driver;
pub mod error;
mod guest;
pub mod metadata;
pub mod microversion;
pub mod quota;
pub mod state;
pub mod store;
pub mod worker;
pub mod zones;

use std::sync::Arc;

use ferro_api::services::{ImageApi, NetworkApi, VolumeApi};
use ferro_api::{HasValidator, TokenValidator};
use ferro_store::{Db, Migration};
use tokio::sync::Notify;

pub use error::{Error, Result};

/// The compute schema migrations (versions 4000..).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 4000,
        name: "compute_0001",
        sql: include_str!("../migrations/0001_compute.sql"),
    },
    Migration {
        version: 4001,
        name: "compute_0002_server_groups",
        sql: include_str!("../migrations/0002_server_groups.sql"),
    },
    Migration {
        version: 4002,
        name: "compute_0003_instance_actions",
        sql: include_str!("../migrations/0003_instance_actions.sql"),
    },
    Migration {
        version: 4003,
        name: "compute_0004_services",
        sql: include_str!("../migrations/0004_services.sql"),
    },
    Migration {
        version: 4004,
        name: "compute_0005_quotas",
        sql: include_str!("../migrations/0005_quotas.sql"),
    },
    Migration {
        version: 4005,
        name: "compute_0006_instance_order",
        sql: include_str!("../migrations/0006_instance_order.sql"),
    },
    Migration {
        version: 4010,
        name: "compute_0010_server_microversions",
        sql: include_str!("../migrations/0010_server_microversions.sql"),
    },
    // 4020..: the non-server microversion work (numbered apart from the
    // server migrations so both lines can grow independently).
    Migration {
        version: 4020,
        name: "compute_0020_service_uuids",
        sql: include_str!("../migrations/0020_service_uuids.sql"),
    },
    Migration {
        version: 4021,
        name: "compute_0021_server_group_rules",
        sql: include_str!("../migrations/0021_server_group_rules.sql"),
    },
    Migration {
        version: 4022,
        name: "compute_0022_instance_action_updates",
        sql: include_str!("../migrations/0022_instance_action_updates.sql"),
    },
    Migration {
        version: 4023,
        name: "compute_0023_aggregates",
        sql: include_str!("../migrations/0023_aggregates.sql"),
    },
    Migration {
        version: 4024,
        name: "compute_0024_shelve",
        sql: include_str!("../migrations/0024_shelve.sql"),
    },
    // 4040..: the metadata service.
    Migration {
        version: 4040,
        name: "compute_0040_password",
        sql: include_str!("../migrations/0040_password.sql"),
    },
    Migration {
        version: 4041,
        name: "compute_0041_migrations",
        sql: include_str!("../migrations/0041_migrations.sql"),
    },
];

/// Settings of the compute service.
#[derive(Clone, Debug)]
pub struct Config {
    /// The name this node's worker claims tasks under.
    pub host: String,
    /// The address the hypervisor of this host shows (`host_ip`).
    pub host_ip: String,
    /// How long a guest may take to power off cleanly before it is
    /// stopped hard (Nova's `shutdown_timeout`, 60 s).
    pub shutdown_timeout_s: u64,
    /// Every server gets a config drive (Nova's `force_config_drive`).
    pub force_config_drive: bool,
    /// Overcommit of this host's CPUs, memory and disk (Nova's initial
    /// allocation ratios: 16.0, 1.5, 1.0).
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    /// The domain appended to guests' host names in their metadata
    /// (Nova's `[api] dhcp_domain`, `novalocal`; empty: none).
    pub dhcp_domain: String,
}

impl Config {
    /// Upstream's defaults for everything but the host's name and address.
    pub fn new(host: String, host_ip: String) -> Self {
        Config {
            host,
            host_ip,
            shutdown_timeout_s: 60,
            force_config_drive: false,
            cpu_allocation_ratio: 16.0,
            ram_allocation_ratio: 1.5,
            disk_allocation_ratio: 1.0,
            dhcp_domain: "novalocal".into(),
        }
    }
}

/// The other services compute talks to, in process.
#[derive(Clone)]
pub struct Peers {
    pub image: Arc<dyn ImageApi>,
    pub network: Arc<dyn NetworkApi>,
    pub volume: Arc<dyn VolumeApi>,
    /// The other services' own REST APIs, for the proxy APIs.
    pub rest: ferro_api::loopback::Loopback,
}

/// The compute service: cheap to clone, shared by handlers and the worker.
#[derive(Clone)]
pub struct ComputeService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    validator: Arc<dyn TokenValidator>,
    peers: Peers,
    driver: Arc<dyn driver::ComputeDriver>,
    config: Config,
    wake: Notify,
}

impl ComputeService {
    pub fn new(
        db: Db,
        validator: Arc<dyn TokenValidator>,
        peers: Peers,
        config: Config,
        driver: Arc<dyn driver::ComputeDriver>,
    ) -> Self {
        ComputeService {
            inner: Arc::new(Inner {
                db,
                validator,
                peers,
                driver,
                config,
                wake: Notify::new(),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn peers(&self) -> &Peers {
        &self.inner.peers
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn driver(&self) -> &Arc<dyn driver::ComputeDriver> {
        &self.inner.driver
    }

    /// Tell the worker new tasks are waiting.
    pub(crate) fn wake_worker(&self) {
        self.inner.wake.notify_one();
    }

    /// Seed the default flavors and requeue tasks a crash interrupted.
    pub async fn recover(&self) -> Result<()> {
        store::flavors::seed_defaults(self.db()).await?;
        store::services::register(self.db(), &self.config().host).await?;
        store::tasks::requeue_abandoned(self.db(), &self.config().host).await?;
        Ok(())
    }

    /// Start the worker that runs durable tasks; it stops with the runtime.
    pub fn start_worker(&self) {
        let svc = self.clone();
        tokio::spawn(async move { worker::run(svc).await });
    }

    /// The HTTP routes, relative to the compute root (`/compute`).
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }
}

impl HasValidator for ComputeService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }

    fn service_types(&self) -> &'static [&'static str] {
        &["compute"]
    }
}
