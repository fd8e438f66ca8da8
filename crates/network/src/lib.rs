//! Network service (Neutron v2.0) for Ferrostack.
//!
//! Networks, subnets (with IPAM), ports, security groups and rules,
//! routers and floating IPs, quotas and tags. The kernel side (bridges,
//! taps, DHCP) is `ferro-netplane`'s, fed by `dataplane.rs`; a port is
//! `ACTIVE` when bound to a device.

mod api;
mod compute;
mod compute_secgroups;
mod dataplane;
mod dataplane_secgroups;
mod error;
mod ipam;
mod logic;
mod metadata;
mod query;
mod state;

use std::path::PathBuf;
use std::sync::Arc;

use ferro_api::{HasValidator, TokenValidator};
use ferro_store::{Db, Migration};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use error::{Error, NeutronFormat};
pub use metadata::MetadataRequester;
use state::State;

/// This service's schema migrations (versions 3000..).
pub const MIGRATIONS: &[Migration] = state::MIGRATIONS;

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory for this service's files inside the data dir.
    pub data_dir: PathBuf,
    /// The host compute binds its servers' ports to (`binding:host_id`).
    pub host: String,
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
    /// The generation of the last committed write (the data plane waits on
    /// it).
    changes: tokio::sync::watch::Sender<i64>,
}

impl NetworkService {
    pub fn new(db: Db, validator: Arc<dyn TokenValidator>, config: Config) -> Self {
        NetworkService {
            inner: Arc::new(Inner {
                db,
                validator,
                config,
                state: RwLock::new(State::default()),
                changes: tokio::sync::watch::Sender::new(0),
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

    /// A consistent view of the state for reading, first brought up to date
    /// with what other processes sharing the database committed.
    /// On SQLite the file belongs to this one process, whose writes all go
    /// through `write`, so the state is current and the check is skipped.
    pub(crate) async fn read(&self) -> error::Result<RwLockReadGuard<'_, State>> {
        if self.inner.db.kind() == ferro_store::DbKind::Sqlite {
            return Ok(self.inner.state.read().await);
        }
        let mut conn = self.inner.db.read().acquire().await?;
        let stored = state::generation(&mut conn).await?;
        {
            let guard = self.inner.state.read().await;
            if guard.generation() >= stored {
                return Ok(guard);
            }
        }
        let mut guard = self.inner.state.write().await;
        if guard.generation() < stored {
            state::catch_up(&mut conn, &mut guard).await?;
        }
        Ok(RwLockWriteGuard::downgrade(guard))
    }

    /// Run `f` on the state and commit what it changed in one transaction.
    /// If `f` or the commit fails, every object `f` touched is put back, so
    /// nothing changes (the lock keeps readers out meanwhile).
    /// The transaction first takes the next generation (serialising writers
    /// of every process) and replays what others committed before it.
    pub(crate) async fn write<T>(
        &self,
        f: impl FnOnce(&mut State) -> error::Result<T>,
    ) -> error::Result<T> {
        let mut guard = self.inner.state.write().await;
        let mut tx = self.inner.db.write().begin().await?;
        let generation = state::next_generation(&mut tx).await?;
        if guard.generation() != generation - 1 {
            state::catch_up(&mut tx, &mut guard).await?;
            guard.set_generation(generation - 1);
        }
        let pending = Pending::new(&mut guard);
        let out = f(pending.0)?;
        if !pending.0.is_dirty() {
            drop(pending);
            tx.rollback().await?;
            return Ok(out);
        }
        state::write_changes(&mut tx, pending.0, generation).await?;
        tx.commit().await?;
        pending.keep(generation);
        self.inner.changes.send_replace(generation);
        Ok(out)
    }
}

/// The changes of one write to the shared state: undone when dropped before
/// `keep` — when the request fails, when the commit fails, or when the
/// request is cancelled halfway (the client went away).
struct Pending<'a>(&'a mut State);

impl<'a> Pending<'a> {
    fn new(state: &'a mut State) -> Self {
        state.clear_dirty();
        Pending(state)
    }

    fn keep(self, generation: i64) {
        self.0.clear_dirty();
        self.0.set_generation(generation);
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.rollback();
    }
}

impl HasValidator for NetworkService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }

    fn service_types(&self) -> &'static [&'static str] {
        &["network"]
    }
}
