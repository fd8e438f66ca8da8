//! The identity tables: one module per aggregate, plain functions over
//! [`Db`]. No other crate reads or writes these tables.

pub mod access_rules;
pub mod app_creds;
pub mod assignments;
pub mod catalog;
pub mod credentials;
pub mod documents;
pub mod domain_configs;
pub mod domains;
pub mod generation;
pub mod groups;
pub mod oauth1;
pub mod passwords;
pub mod projects;
pub mod revocations;
pub mod roles;
pub mod trusts;
pub mod users;

use ferro_store::sqlx::any::AnyRow;
use ferro_store::sqlx::Row;
use ferro_store::Migration;

use crate::validate::{json_column, Object};

pub use ferro_store::Db;

/// The identity schema migrations.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1000,
        name: "identity_0001",
        sql: include_str!("../../migrations/0001_identity.sql"),
    },
    Migration {
        version: 1001,
        name: "identity_0002_documents",
        sql: include_str!("../../migrations/0002_documents.sql"),
    },
    Migration {
        version: 1002,
        name: "identity_0003_generation",
        sql: include_str!("../../migrations/0003_generation.sql"),
    },
    Migration {
        version: 1003,
        name: "identity_0004_trusts",
        sql: include_str!("../../migrations/0004_trusts.sql"),
    },
    Migration {
        version: 1004,
        name: "identity_0005_access_rules",
        sql: include_str!("../../migrations/0005_access_rules.sql"),
    },
    Migration {
        version: 1005,
        name: "identity_0006_domain_config",
        sql: include_str!("../../migrations/0006_domain_config.sql"),
    },
    Migration {
        version: 1006,
        name: "identity_0007_security_compliance",
        sql: include_str!("../../migrations/0007_security_compliance.sql"),
    },
    Migration {
        version: 1007,
        name: "identity_0008_oauth1",
        sql: include_str!("../../migrations/0008_oauth1.sql"),
    },
    Migration {
        version: 1008,
        name: "identity_0009_password_expiry",
        sql: include_str!("../../migrations/0009_password_expiry.sql"),
    },
];

/// Names (of domains, projects, users, groups, roles and application
/// credentials) compare as DevStack's MySQL-backed Keystone compares them:
/// ignoring case, so `default` finds `Default`. This is the one rule; every
/// lookup or filter by name goes through it. SQL narrows the rows with
/// [`NAME_IS`] (`LOWER(name) = LOWER($n)`), then this decides, so SQLite and
/// PostgreSQL agree (ASCII letters fold; other characters compare exactly).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The SQL condition that finds the candidates for a name given as `$n`.
pub(crate) fn name_is(col: &str, n: u8) -> String {
    format!("LOWER({col}) = LOWER(${n})")
}

/// Of rows found by [`name_is`], the one named `name`: spelled exactly so
/// if there is one, else the first that is [`same_name`].
pub(crate) fn pick_named<T>(rows: Vec<T>, name: &str, of: impl Fn(&T) -> &str) -> Option<T> {
    let mut rows: Vec<T> = rows
        .into_iter()
        .filter(|r| same_name(of(r), name))
        .collect();
    match rows.iter().position(|r| of(r) == name) {
        Some(i) => Some(rows.swap_remove(i)),
        None => rows.into_iter().next(),
    }
}

/// A new resource id: a UUID4 as 32 hex digits, as Keystone makes them.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

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

pub(crate) fn boolean(row: &AnyRow, col: &str) -> bool {
    int(row, col) != 0
}

pub(crate) fn object(row: &AnyRow, col: &str) -> Object {
    json_column(&text(row, col))
}

pub(crate) fn to_json(obj: &Object) -> String {
    serde_json::to_string(obj).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ignore_ascii_case_and_prefer_the_exact_spelling() {
        assert!(same_name("Default", "default"));
        assert!(same_name("ADMIN", "admin"));
        assert!(!same_name("admin", "admin "));
        assert!(!same_name("Émile", "émile"));
        let rows = vec!["Demo".to_owned(), "demo".to_owned(), "other".to_owned()];
        assert_eq!(
            pick_named(rows.clone(), "demo", |s| s),
            Some("demo".to_owned())
        );
        assert_eq!(
            pick_named(rows.clone(), "Demo", |s| s),
            Some("Demo".to_owned())
        );
        assert_eq!(
            pick_named(rows.clone(), "DEMO", |s| s),
            Some("Demo".to_owned())
        );
        assert_eq!(pick_named(rows, "nope", |s| s), None);
    }
}
