//! Network service (Neutron v2.0) for Ferrostack.
//!
//! Skeleton: the service, its router and its migrations are wired into the
//! binary; the API itself is not built yet.

use std::path::PathBuf;
use std::sync::Arc;

use ferro_api::{HasValidator, TokenValidator};
use ferro_store::{Db, Migration};

/// This service's schema migrations (versions 3000..).
pub const MIGRATIONS: &[Migration] = &[];

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory for this service's files inside the data dir.
    pub data_dir: PathBuf,
}

/// The service: cheap to clone, shared by all handlers.
#[derive(Clone)]
pub struct NetworkService {
    inner: Arc<Inner>,
}

#[allow(dead_code)]
struct Inner {
    db: Db,
    validator: Arc<dyn TokenValidator>,
    config: Config,
}

impl NetworkService {
    pub fn new(db: Db, validator: Arc<dyn TokenValidator>, config: Config) -> Self {
        NetworkService {
            inner: Arc::new(Inner {
                db,
                validator,
                config,
            }),
        }
    }

    /// Finish or clean up work a crash interrupted (called once at start).
    pub async fn recover(&self) -> anyhow_free::Result<()> {
        Ok(())
    }

    /// The HTTP routes, relative to the service root (/networking on the shared port).
    pub fn router(&self) -> axum::Router {
        axum::Router::new().with_state(self.clone())
    }
}

impl HasValidator for NetworkService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }
}

mod anyhow_free {
    pub type Result<T> = std::result::Result<T, ferro_api::CommonError>;
}
