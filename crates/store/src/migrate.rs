//! Versioned migrations: each service brings its own list; applied ones are
//! recorded in `schema_migrations` and never run twice.

use sqlx::Row;

use crate::{Db, DbKind, StoreError};

/// One schema change. `version` is unique across all services.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Apply every migration in `list` not yet applied, each in its own
/// transaction. On PostgreSQL an advisory lock keeps concurrent starters apart.
pub async fn migrate(db: &Db, list: &[Migration]) -> Result<(), StoreError> {
    let mut conn = db.write().acquire().await?;
    if db.kind() == DbKind::Postgres {
        sqlx::query("SELECT pg_advisory_lock(7355608)")
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, list).await;
    if db.kind() == DbKind::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(7355608)")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, list: &[Migration]) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
           version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let applied: Vec<i64> = rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
    let mut pending: Vec<&Migration> = list
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect();
    pending.sort_by_key(|m| m.version);
    for m in pending {
        let wrap = |source| StoreError::Migration {
            version: m.version,
            name: m.name.to_owned(),
            source,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(wrap)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(chrono_free_now())
        .execute(&mut *tx)
        .await
        .map_err(wrap)?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

fn chrono_free_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    secs.to_string()
}
