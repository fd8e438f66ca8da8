//! The compute tables: plain functions over [`Db`].

pub mod aggregates;
pub mod attachments;
pub mod flavors;
pub mod instance_actions;
pub mod instances;
pub mod keypairs;
pub mod migrations;
pub mod quotas;
pub mod server_groups;
pub mod services;
pub mod tags;
pub mod tasks;

use ferro_store::sqlx::any::AnyRow;
use ferro_store::sqlx::Row;

pub use ferro_store::Db;

pub(crate) fn text(row: &AnyRow, col: &str) -> String {
    row.try_get::<String, _>(col).unwrap_or_default()
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Option<String> {
    row.try_get::<Option<String>, _>(col).ok().flatten()
}

pub(crate) fn int(row: &AnyRow, col: &str) -> i64 {
    row.try_get::<i64, _>(col).unwrap_or_default()
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Option<i64> {
    row.try_get::<Option<i64>, _>(col).ok().flatten()
}

pub(crate) fn json(row: &AnyRow, col: &str) -> serde_json::Value {
    serde_json::from_str(&text(row, col)).unwrap_or(serde_json::Value::Null)
}
