//! Image service (Glance v2) for Ferrostack.
//!
//! Images live in the `image_*` tables; their data in files under
//! `Config::data_dir`, written under a temporary name and renamed into
//! place when complete (see [`data`]).

mod api;
mod compute;
mod data;
pub mod error;
mod fetch;
mod import;
mod inspect;
mod metadef;
mod model;
mod policy;
mod store;
mod task;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use ferro_api::time::now_micros;
use ferro_api::{CommonError, HasValidator, TokenValidator};
use ferro_store::{Db, DbKind, Migration};

use crate::data::DataStore;

/// This service's schema migrations (versions 2000..).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2000,
        name: "image_0001",
        sql: include_str!("../migrations/0001_image.sql"),
    },
    Migration {
        version: 2001,
        name: "image_0002_task",
        sql: include_str!("../migrations/0002_image_task.sql"),
    },
    Migration {
        version: 2002,
        name: "image_0003_metadef",
        sql: include_str!("../migrations/0003_image_metadef.sql"),
    },
];

/// The longest the listing rows are reused, in microseconds.
const LISTING_TTL: i64 = 5 * 1_000_000;

/// Listing rows with the image write count and the time they were read.
type Listing = (u64, i64, Arc<Vec<model::Image>>);

/// Settings of the service.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory for this service's files inside the data dir.
    pub data_dir: PathBuf,
    /// Ports a URL to import from may name (Glance's `allowed_ports`).
    pub import_allowed_ports: Vec<u16>,
    /// Inspect uploaded and imported data and refuse what does not match
    /// its `disk_format` (Glance's `require_image_format_match`).
    pub require_image_format_match: bool,
}

/// The service: cheap to clone, shared by all handlers.
#[derive(Clone)]
pub struct ImageService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// `images::all` with the write count and time it was read at (SQLite).
    listing: Mutex<Option<Listing>>,
    validator: Arc<dyn TokenValidator>,
    data: DataStore,
    import_allowed_ports: Vec<u16>,
    require_image_format_match: bool,
}

impl ImageService {
    pub fn new(db: Db, validator: Arc<dyn TokenValidator>, config: Config) -> Self {
        ImageService {
            inner: Arc::new(Inner {
                db,
                listing: Mutex::new(None),
                validator,
                data: DataStore::new(config.data_dir),
                import_allowed_ports: config.import_allowed_ports,
                require_image_format_match: config.require_image_format_match,
            }),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Every image, for listing. On SQLite, where this process is the only
    /// writer, the rows are reused until an image write or [`LISTING_TTL`];
    /// on PostgreSQL other processes may write, so they are read each time.
    pub(crate) async fn all_images(&self) -> ferro_store::sqlx::Result<Arc<Vec<model::Image>>> {
        if self.db().kind() != DbKind::Sqlite {
            return Ok(Arc::new(store::images::all(self.db()).await?));
        }
        let (writes, now) = (store::images::writes(), now_micros());
        if let Some((w, at, rows)) = &*self.listing() {
            if *w == writes && now - at < LISTING_TTL {
                return Ok(rows.clone());
            }
        }
        let rows = Arc::new(store::images::all(self.db()).await?);
        *self.listing() = Some((writes, now, rows.clone()));
        Ok(rows)
    }

    fn listing(&self) -> MutexGuard<'_, Option<Listing>> {
        match self.inner.listing.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn data(&self) -> &DataStore {
        &self.inner.data
    }

    /// Check data stored for `id` against `disk_format` when the site
    /// requires formats to match; the reason it does not, if so.
    pub(crate) async fn inspect(&self, id: &str, disk_format: Option<&str>) -> Result<(), String> {
        if !self.inner.require_image_format_match {
            return Ok(());
        }
        inspect::check(&self.data().path(id), disk_format).await
    }

    /// Whether a URL to import from passes the import filter.
    pub(crate) fn import_allowed(&self, uri: &str) -> bool {
        fetch::allowed(uri, &self.inner.import_allowed_ports)
    }

    /// Finish or clean up work a crash interrupted (called once at start):
    /// uploads left in `saving` go back to `queued` (as Glance v2 does when
    /// an upload fails), and temporary or orphaned data files are removed.
    pub async fn recover(&self) -> Result<(), CommonError> {
        let db_err = |e: ferro_store::sqlx::Error| CommonError::internal(e.to_string());
        let now = now_micros();
        let reset = store::images::reset_interrupted(self.db(), now)
            .await
            .map_err(db_err)?;
        let failed = store::tasks::fail_interrupted(self.db(), now, now + task::TIME_TO_LIVE)
            .await
            .map_err(db_err)?;
        let unlocked = import::recover(self).await.map_err(|e| e.into_common())?;
        self.seed_metadefs(now).await?;
        let keep: HashSet<String> = store::images::ids_with_data(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        let staged: HashSet<String> = store::images::ids_in_status(self.db(), "uploading")
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        let removed = self
            .data()
            .sweep(&keep, &staged)
            .map_err(|e| CommonError::internal(format!("cleaning the image store: {e}")))?;
        if reset > 0 || removed > 0 || failed > 0 || unlocked > 0 {
            tracing::info!(
                reset,
                removed,
                failed,
                unlocked,
                "image store recovered after an interruption"
            );
        }
        Ok(())
    }

    /// Write the standard metadata definitions catalog into an empty
    /// database (once: a later start finds it marked as done).
    async fn seed_metadefs(&self, now: i64) -> Result<(), CommonError> {
        let defs = metadef::seed::namespaces(now);
        let new: Vec<store::metadefs::NewNamespace<'_>> = defs
            .iter()
            .map(|(ns, assocs, items)| store::metadefs::NewNamespace {
                namespace: ns,
                associations: assocs,
                items,
            })
            .collect();
        match store::metadefs::seed(self.db(), metadef::seed::RESOURCE_TYPES, &new, now).await {
            Ok(true) => {
                tracing::info!(
                    namespaces = new.len(),
                    "metadata definitions catalog seeded"
                );
                Ok(())
            }
            Ok(false) => Ok(()),
            // Another server process seeded it at the same moment.
            Err(e) if ferro_store::is_unique_violation(&e) => Ok(()),
            Err(e) => Err(CommonError::internal(format!("seeding metadefs: {e}"))),
        }
    }

    /// The HTTP routes, relative to the service root (/image on the shared port).
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// The in-process API compute uses.
    pub fn api(&self) -> Arc<dyn ferro_api::services::ImageApi> {
        Arc::new(self.clone())
    }
}

impl HasValidator for ImageService {
    fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.inner.validator
    }

    fn service_types(&self) -> &'static [&'static str] {
        &["image"]
    }
}
