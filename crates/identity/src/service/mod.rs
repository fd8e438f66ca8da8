//! The identity rules, above the store and below the HTTP handlers.

pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod catalog;
pub mod compliance;
pub mod hashing;
pub mod oauth1;
pub mod revoke;
pub mod roles;
pub mod tokens;
pub mod trusts;
