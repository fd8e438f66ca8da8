//! Identity: Keystone v3 (and the v2.0 token call) for Ferrostack.
//!
//! - `api/`: HTTP handlers, one module per resource.
//! - `service/`: the rules: authentication, token validation, effective
//!   roles, the catalog, bootstrap.
//! - `policy.rs`: upstream Keystone's default RBAC.
//! - `store/`: the identity tables.
//! - `token/`: Fernet-sealed, self-contained tokens and their keys.

pub mod api;
pub mod error;
pub mod policy;
pub mod service;
pub mod store;
pub mod token;
pub mod validate;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use ferro_api::context::BoxFuture;
use ferro_api::{AuthContext, TokenValidator};
use ferro_store::Db;

pub use error::{Error, Result};
pub use service::bootstrap::Bootstrap;
pub use store::MIGRATIONS;

/// Settings of the identity service.
#[derive(Clone, Debug)]
pub struct IdentityConfig {
    /// Token lifetime in seconds (upstream default: 3600).
    pub token_expiration: i64,
    /// bcrypt cost for passwords and application credential secrets.
    pub password_hash_rounds: u32,
    /// How long past expiry `allow_expired=1` still validates (seconds).
    pub allow_expired_window: i64,
    /// Where the Fernet key repository lives.
    pub key_dir: PathBuf,
    /// How many Fernet keys to keep on rotation.
    pub max_active_keys: usize,
    /// Keystone's `[security_compliance]` password rules (all off).
    pub security_compliance: SecurityCompliance,
}

/// Keystone's `[security_compliance]` settings. Every rule is off by
/// default, as upstream.
#[derive(Clone, Debug)]
pub struct SecurityCompliance {
    /// Failed password logins in a row that lock the account (0: never).
    pub lockout_failure_attempts: u32,
    /// How long a locked account stays locked, in seconds (0: until an
    /// admin resets its password).
    pub lockout_duration: u64,
    /// A new self-service password may not be any of the user's last this
    /// many passwords (0: no history).
    pub unique_last_password_count: u32,
    /// Days a self-service password must be kept before the user changes it
    /// again (0: any time).
    pub minimum_password_age: u32,
    /// A regular expression every new password must match (Python's
    /// `re.match`: anchored at the start).
    pub password_regex: Option<regex::Regex>,
    /// What `password_regex` asks for, in words.
    pub password_regex_description: Option<String>,
    /// `password_regex` as configured (what the domain configuration API
    /// shows).
    pub password_regex_source: Option<String>,
    /// Days a password stays valid once set (0: passwords never expire).
    pub password_expires_days: u32,
    /// A password an admin sets (on create or update) must be changed by
    /// the user before it can be used to log in.
    pub change_password_upon_first_use: bool,
    /// Users who have not authenticated for this many days are disabled
    /// (0: never).
    pub disable_user_account_days_inactive: u32,
}

impl Default for SecurityCompliance {
    fn default() -> Self {
        SecurityCompliance {
            lockout_failure_attempts: 0,
            lockout_duration: 1800,
            unique_last_password_count: 0,
            minimum_password_age: 0,
            password_regex: None,
            password_regex_description: None,
            password_regex_source: None,
            password_expires_days: 0,
            change_password_upon_first_use: false,
            disable_user_account_days_inactive: 0,
        }
    }
}

impl SecurityCompliance {
    /// Compile `pattern` as `password_regex` (anchored at the start, as
    /// Keystone's `re.match`).
    pub fn set_password_regex(&mut self, pattern: &str) -> std::result::Result<(), regex::Error> {
        self.password_regex = Some(regex::Regex::new(&format!("^(?:{pattern})"))?);
        self.password_regex_source = Some(pattern.to_owned());
        Ok(())
    }
}

impl IdentityConfig {
    pub fn new(key_dir: PathBuf) -> Self {
        IdentityConfig {
            token_expiration: 3600,
            password_hash_rounds: 12,
            allow_expired_window: 2 * 24 * 3600,
            key_dir,
            max_active_keys: 3,
            security_compliance: SecurityCompliance::default(),
        }
    }
}

/// The identity service: cheap to clone, shared by all handlers.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    config: IdentityConfig,
    keys: RwLock<Arc<token::KeyRing>>,
    cache: service::cache::Cache,
}

impl Identity {
    /// Open the service on a migrated database, loading (or creating) keys.
    pub fn new(db: Db, config: IdentityConfig) -> std::io::Result<Identity> {
        let keys = token::KeyRing::load_or_create(&config.key_dir)?;
        Ok(Identity {
            inner: Arc::new(Inner {
                db,
                config,
                keys: RwLock::new(Arc::new(keys)),
                cache: service::cache::Cache::default(),
            }),
        })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.inner.config
    }

    pub(crate) fn cache(&self) -> &service::cache::Cache {
        &self.inner.cache
    }

    pub(crate) fn keys(&self) -> Arc<token::KeyRing> {
        match self.inner.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rotate the Fernet keys (Keystone's `fernet_rotate`) and reload them.
    pub fn rotate_keys(&self) -> std::io::Result<()> {
        token::rotate(
            &self.inner.config.key_dir,
            self.inner.config.max_active_keys,
        )?;
        let ring = token::KeyRing::load_or_create(&self.inner.config.key_dir)?;
        match self.inner.keys.write() {
            Ok(mut k) => *k = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        self.bump_local_generation();
        Ok(())
    }

    /// The HTTP routes of the identity API (`/v3`, `/v2.0`, discovery),
    /// to be mounted under `/identity` or at the root of port 5000.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }
}

impl TokenValidator for Identity {
    fn validate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<AuthContext>> {
        Box::pin(async move {
            let v = self.validate_token(token, false).await.ok()?;
            Some(v.context(token))
        })
    }

    fn project_exists<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<bool>> {
        Box::pin(async move {
            store::projects::get(self.db(), project_id)
                .await
                .ok()
                .map(|p| p.is_some())
        })
    }
}
