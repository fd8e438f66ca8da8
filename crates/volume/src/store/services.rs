//! The enabled/disabled/frozen state of the (fixed) volume services.

use ferro_store::sqlx;

use super::{int, opt_text, Db};

#[derive(Clone, Debug, Default)]
pub struct State {
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub frozen: bool,
}

pub async fn get(db: &Db, host: &str, binary: &str) -> sqlx::Result<State> {
    let row = sqlx::query(
        "SELECT disabled, disabled_reason, frozen FROM volume_service_state \
         WHERE host=$1 AND binary_name=$2",
    )
    .bind(host)
    .bind(binary)
    .fetch_optional(db.read())
    .await?;
    Ok(row
        .map(|r| State {
            disabled: int(&r, "disabled") != 0,
            disabled_reason: opt_text(&r, "disabled_reason"),
            frozen: int(&r, "frozen") != 0,
        })
        .unwrap_or_default())
}

pub async fn put(db: &Db, host: &str, binary: &str, s: &State, now: i64) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM volume_service_state WHERE host=$1 AND binary_name=$2")
        .bind(host)
        .bind(binary)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO volume_service_state (host, binary_name, disabled, disabled_reason, frozen, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(host)
    .bind(binary)
    .bind(s.disabled as i64)
    .bind(&s.disabled_reason)
    .bind(s.frozen as i64)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
