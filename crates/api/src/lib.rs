//! Shared HTTP plumbing for every Ferrostack service: request ids, per-service
//! error rendering, JSON body parsing with limits, pagination helpers and the
//! authentication context that the identity service hands to the others.

pub mod auth;
pub mod base_url;
pub mod body;
pub mod connection;
pub mod context;
pub mod error;
pub mod loopback;
pub mod microversion;
pub mod request_id;
pub mod services;
pub mod time;

pub use auth::{Caller, HasValidator};
pub use base_url::{BaseUrl, Prefix, PublicBase};
pub use body::{parse_json, BodyLimit, JsonBody};
pub use context::{AccessRule, AuthContext, TokenValidator};
pub use error::{CommonError, ErrorFormat};
