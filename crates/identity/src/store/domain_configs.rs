//! Domain-specific configuration options (`identity_domain_config`).

use ferro_store::sqlx::{self, any::AnyRow};
use serde_json::Value;

use super::{boolean, flag, text, Db};

/// One option of a domain's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigOption {
    pub group: String,
    pub option: String,
    pub value: Value,
    pub sensitive: bool,
}

fn from_row(r: &AnyRow) -> ConfigOption {
    ConfigOption {
        group: text(r, "config_group"),
        option: text(r, "config_option"),
        value: serde_json::from_str(&text(r, "value")).unwrap_or(Value::Null),
        sensitive: boolean(r, "sensitive"),
    }
}

/// The domain's options, sensitive ones included, narrowed to `group` and
/// `option` when given.
pub async fn list(
    db: &Db,
    domain_id: &str,
    group: Option<&str>,
    option: Option<&str>,
) -> sqlx::Result<Vec<ConfigOption>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_domain_config WHERE domain_id=$1 \
         AND ($2 = '' OR config_group=$2) AND ($3 = '' OR config_option=$3) \
         ORDER BY config_group, config_option",
    )
    .bind(domain_id)
    .bind(group.unwrap_or(""))
    .bind(option.unwrap_or(""))
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    domain_id: &str,
    o: &ConfigOption,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM identity_domain_config WHERE domain_id=$1 AND config_group=$2 \
         AND config_option=$3",
    )
    .bind(domain_id)
    .bind(&o.group)
    .bind(&o.option)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO identity_domain_config (domain_id, config_group, config_option, value, \
         sensitive) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(domain_id)
    .bind(&o.group)
    .bind(&o.option)
    .bind(o.value.to_string())
    .bind(flag(o.sensitive))
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Replace the domain's whole configuration with `options`, in one
/// transaction.
pub async fn replace(db: &Db, domain_id: &str, options: &[ConfigOption]) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM identity_domain_config WHERE domain_id=$1")
        .bind(domain_id)
        .execute(&mut *tx)
        .await?;
    for o in options {
        insert(&mut tx, domain_id, o).await?;
    }
    tx.commit().await
}

/// Set each of `options` (adding or overwriting), in one transaction.
pub async fn merge(db: &Db, domain_id: &str, options: &[ConfigOption]) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    for o in options {
        insert(&mut tx, domain_id, o).await?;
    }
    tx.commit().await
}

/// Delete the domain's options, narrowed to `group` and `option` when given.
pub async fn delete(
    db: &Db,
    domain_id: &str,
    group: Option<&str>,
    option: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM identity_domain_config WHERE domain_id=$1 \
         AND ($2 = '' OR config_group=$2) AND ($3 = '' OR config_option=$3)",
    )
    .bind(domain_id)
    .bind(group.unwrap_or(""))
    .bind(option.unwrap_or(""))
    .execute(db.write())
    .await
    .map(|_| ())
}
