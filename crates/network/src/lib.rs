//! Network service (Neutron v2.0) for Ferrostack.
//!
//! Networks, subnets (with IPAM), ports, security groups and rules,
//! routers and floating IPs, quotas and tags. The data plane is `fake`:
//! only state is kept (no bridges, no namespaces); a port is `ACTIVE` when
//! bound to a device.

mod api;
mod compute;
mod compute_secgroups;
mod error;
mod ipam;
mod logic;
mod query;
mod state;

use std::path::PathBuf;
use std::sync::Arc;

use ferro_api::{HasValidator, TokenValidator};
use ferro_store::{Db, Migration};
use tokio::sync::RwLock;

pub use error::{Error, NeutronFormat};
use state::State;

/// This service's schema migrations (versions 3000..).
pub const MIGRATIONS: &[Migration] = state::MIGRATIONS;

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
    state: RwLock<State>,
}

impl NetworkService {
    pub fn new(db: Db, validator: Arc<dyn TokenValidator>, config: Config) -> Self {
        NetworkService {
            inner: Arc::new(Inner {
                db,
                validator,
                config,
                state: RwLock::new(State::default()),
            }),
        }
    }

    /// Load the stored state (called once at start).
    pub async fn recover(&self) -> Result<(), ferro_api::CommonError> {
        let loaded = state::load(&self.inner.db).await?;
        *self.inner.state.write().await = loaded;
        Ok(())
    }

    /// The HTTP routes, relative to the service root (/networking on the shared port).
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// A consistent view of the state for reading.
    pub(crate) async fn read(&self) -> tokio::sync::RwLockReadGuard<'_, State> {
        self.inner.state.read().await
    }

    /// Run `f` on a copy of the state; commit what it changed in one
    /// transaction, then publish the copy. Nothing changes if `f` fails.
    pub(crate) async fn write<T>(
        &self,
        f: impl FnOnce(&mut State) -> error::Result<T>,
    ) -> error::Result<T> {
        let mut guard = self.inner.state.write().await;
        let mut work = guard.clone();
        work.clear_dirty();
        let out = f(&mut work)?;
        state::commit(&self.inner.db, &work).await?;
        work.clear_dirty();
        *guard = work;
        Ok(out)
    }
}

impl HasValidator for NetworkService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }
}
