//! The image tables, plain functions over [`Db`]. No other crate reads or
//! writes them.

pub mod images;
pub mod members;
pub mod metadefs;
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
