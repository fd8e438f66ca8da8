//! The database handle shared by all services: SQLite (embedded default) or
//! PostgreSQL, reached through sqlx's `Any` driver, plus versioned migrations.
//!
//! SQL written against [`Db`] uses `$1`-style placeholders and only the
//! column types `TEXT` and `BIGINT`, which both engines understand alike.
//! On SQLite all writes go through a single connection, so concurrent writers
//! queue in-process instead of ever seeing "database is locked".

mod migrate;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

pub use migrate::{migrate, Migration};
pub use sqlx;

/// Which engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// Errors from the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: String,
        source: sqlx::Error,
    },
}

/// A pair of pools: `read` for queries, `write` for anything that changes
/// state. On PostgreSQL they are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    kind: DbKind,
    read: AnyPool,
    write: AnyPool,
}

impl Db {
    /// Connect to `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Ok(Db {
                kind: DbKind::Postgres,
                read: pool.clone(),
                write: pool,
            })
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Db, StoreError> {
        let url = if url.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        };
        let opts: AnyConnectOptions = url.parse()?;
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(120))
            .after_connect(sqlite_pragmas)
            .connect_with(opts.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .after_connect(sqlite_pragmas)
            .connect_with(opts)
            .await?;
        Ok(Db {
            kind: DbKind::Sqlite,
            read,
            write,
        })
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// The pool for queries that only read.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for statements and transactions that write.
    pub fn write(&self) -> &AnyPool {
        &self.write
    }

    /// True when a trivial query answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Per-connection SQLite settings: WAL, a long busy timeout, foreign keys.
fn sqlite_pragmas<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_core::future::BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move {
        for pragma in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=60000",
            "PRAGMA foreign_keys=ON",
        ] {
            sqlx::query(pragma).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// Whether an error is a uniqueness violation (a duplicate name, say).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Whether the database refused a value itself (PostgreSQL class 22: a NUL
/// byte in text, a number out of range, ...): the client's input is at fault.
pub fn is_data_exception(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("22")),
        _ => false,
    }
}

/// Whether an error is a foreign-key violation.
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_foreign_key_violation()
                || db.code().as_deref() == Some("23503")
                || db.message().contains("FOREIGN KEY constraint failed")
        }
        _ => false,
    }
}
