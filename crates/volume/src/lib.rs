//! Block Storage service (Cinder v3) for Ferrostack.
//!
//! Volumes are qcow2 files in the data dir made with `qemu-img`; creation,
//! extension and snapshots run in an in-process worker that claims durable
//! tasks from the database (see `worker`), so a crash never leaves a volume
//! stuck in `creating` (see [`VolumeService::recover`]).

mod api;
mod backend;
mod compute;
mod error;
mod microversion;
mod ops;
mod store;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use ferro_api::services::ImageApi;
use ferro_api::{HasValidator, TokenValidator};
use ferro_store::{Db, Migration};

pub use error::{CinderFormat, Error};

/// This service's schema migrations (versions 5000..).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 5000,
        name: "volume: volumes, attachments, snapshots, types, quotas, tasks",
        sql: store::SCHEMA,
    },
    Migration {
        version: 5001,
        name: "volume: multiattach, groups, transfers, default types, attachment connectors",
        sql: store::SCHEMA_5001,
    },
    Migration {
        version: 5002,
        name: "volume: backups",
        sql: store::SCHEMA_5002,
    },
];

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory for this service's files inside the data dir.
    pub data_dir: PathBuf,
    /// Test-only: sleep this long before creating each volume's (and
    /// backup's) file (`FERROSTACK_VOLUME_CREATE_DELAY_MS`), to test crash
    /// recovery.
    pub create_delay_ms: u64,
    /// Number of worker tasks.
    pub workers: usize,
}

impl Config {
    /// Defaults, plus `FERROSTACK_VOLUME_CREATE_DELAY_MS` from the environment.
    pub fn new(data_dir: PathBuf) -> Self {
        let create_delay_ms = std::env::var("FERROSTACK_VOLUME_CREATE_DELAY_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Config {
            data_dir,
            create_delay_ms,
            workers: 2,
        }
    }
}

/// The service: cheap to clone, shared by all handlers.
#[derive(Clone)]
pub struct VolumeService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    validator: Arc<dyn TokenValidator>,
    config: Config,
    backend: backend::Backend,
    image: Option<Arc<dyn ImageApi>>,
    wake: tokio::sync::Notify,
}

impl VolumeService {
    /// `image`: the image service, for volumes made from images (`imageRef`);
    /// without it such requests are refused with 400.
    pub fn new(
        db: Db,
        validator: Arc<dyn TokenValidator>,
        config: Config,
        image: Option<Arc<dyn ImageApi>>,
    ) -> Self {
        let backend = backend::Backend::new(config.data_dir.clone());
        VolumeService {
            inner: Arc::new(Inner {
                db,
                validator,
                config,
                backend,
                image,
                wake: tokio::sync::Notify::new(),
            }),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn backend(&self) -> &backend::Backend {
        &self.inner.backend
    }

    pub(crate) fn image_api(&self) -> Option<&Arc<dyn ImageApi>> {
        self.inner.image.as_ref()
    }

    /// Tell the workers there is new work.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_waiters();
        self.inner.wake.notify_one();
    }

    /// Finish or clean up work a crash interrupted, then start the workers
    /// (called once at start).
    pub async fn recover(&self) -> Result<(), ferro_api::CommonError> {
        compute::recover(self)
            .await
            .map_err(ferro_api::CommonError::from)?;
        for _ in 0..self.inner.config.workers.max(1) {
            tokio::spawn(worker::run(self.clone()));
        }
        Ok(())
    }

    /// The HTTP routes, relative to the service root (/volume on the shared port).
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }
}

impl HasValidator for VolumeService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }

    fn service_types(&self) -> &'static [&'static str] {
        &["block-storage", "volumev3", "volume"]
    }
}
