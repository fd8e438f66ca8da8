//! The token validation cache and the identity generation it is keyed on.
//!
//! A validation (user, scope, roles, revocation checks) is kept per token
//! string, tagged with the identity generation read before the database was
//! consulted. Every identity write bumps the generation once it is done (the
//! `bump_on_write` layer of the router), so an entry computed before a write
//! never answers after it: revocations, role removals, disabled or deleted
//! users, projects and domains take effect at once. On PostgreSQL the
//! generation also lives in the database (`identity_generation`), so writes
//! through another process invalidate this one's entries too. Entries also
//! end at the token's (or its application credential's, or its trust
//! chain's) expiry and after
//! [`TTL`] at most; the cache holds at most [`CAPACITY`] entries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ferro_store::DbKind;

use super::tokens::Validated;
use crate::error::Result;
use crate::store::catalog::{self, Endpoint, Service};
use crate::store::generation;
use crate::store::projects::{self, Project};
use crate::store::users::{self, User};
use crate::Identity;

/// The longest an entry is trusted, in microseconds.
pub const TTL: i64 = 60 * 1_000_000;
/// The most entries kept; past it, stale ones go, then all of them.
pub const CAPACITY: usize = 10_000;

/// Which identity state a cached answer was computed from: the process's
/// own write count and the shared one (PostgreSQL; 0 on SQLite).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation {
    local: u64,
    shared: i64,
}

struct Entry {
    generation: Generation,
    valid_until: i64,
    validated: Arc<Validated>,
}

/// Services and endpoints as the catalog is built from them.
pub type CatalogRows = Arc<(Vec<Service>, Vec<Endpoint>)>;

/// One value read from the database, good while the generation holds.
pub struct Slot<T>(Mutex<Option<(Generation, Arc<T>)>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Mutex::new(None))
    }
}

impl<T> Slot<T> {
    fn get(&self, generation: Generation) -> Option<Arc<T>> {
        match &*locked(&self.0) {
            Some((g, v)) if *g == generation => Some(v.clone()),
            _ => None,
        }
    }

    fn put(&self, generation: Generation, v: Arc<T>) {
        *locked(&self.0) = Some((generation, v));
    }
}

#[derive(Default)]
pub struct Cache {
    local: AtomicU64,
    tokens: Mutex<HashMap<String, Entry>>,
    catalog: Slot<(Vec<Service>, Vec<Endpoint>)>,
    users: Slot<Vec<User>>,
    projects: Slot<Vec<Project>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Cache {
    pub fn get(&self, token: &str, generation: Generation, now: i64) -> Option<Arc<Validated>> {
        let tokens = locked(&self.tokens);
        let e = tokens.get(token)?;
        (e.generation == generation && now < e.valid_until).then(|| e.validated.clone())
    }

    pub fn put(&self, token: &str, generation: Generation, now: i64, v: Arc<Validated>) {
        let mut valid_until = v.payload.expires_at.min(now + TTL);
        if let Some(exp) = v.app_cred.as_ref().and_then(|ac| ac.expires_at) {
            valid_until = valid_until.min(exp);
        }
        if let Some(exp) = v.oauth.as_ref().and_then(|a| a.expires_at) {
            valid_until = valid_until.min(exp);
        }
        if let Some(exp) = v.trust.as_ref().and_then(|t| t.valid_until) {
            valid_until = valid_until.min(exp);
        }
        if valid_until <= now {
            return;
        }
        let mut tokens = locked(&self.tokens);
        if tokens.len() >= CAPACITY && !tokens.contains_key(token) {
            tokens.retain(|_, e| e.generation == generation && now < e.valid_until);
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(
            token.to_owned(),
            Entry {
                generation,
                valid_until,
                validated: v,
            },
        );
    }
}

impl Identity {
    /// The identity generation, read before any state a cached answer
    /// depends on.
    pub async fn generation(&self) -> Result<Generation> {
        let local = self.cache().local.load(Ordering::Acquire);
        let shared = match self.db().kind() {
            DbKind::Postgres => generation::get(self.db()).await?,
            DbKind::Sqlite => 0,
        };
        Ok(Generation { local, shared })
    }

    /// Invalidate every cached answer (after a write, a key rotation).
    pub async fn bump_generation(&self) {
        self.cache().local.fetch_add(1, Ordering::AcqRel);
        if self.db().kind() == DbKind::Postgres {
            if let Err(e) = generation::bump(self.db()).await {
                tracing::error!(error = %e, "could not bump the identity generation");
            }
        }
    }

    /// Every user, from the cache while no identity write happened since.
    pub async fn all_users(&self) -> Result<Arc<Vec<User>>> {
        let generation = self.generation().await?;
        if let Some(v) = self.cache().users.get(generation) {
            return Ok(v);
        }
        let v = Arc::new(users::list(self.db(), None, None).await?);
        self.cache().users.put(generation, v.clone());
        Ok(v)
    }

    /// Every project with its tags, from the cache while no identity write
    /// happened since.
    pub async fn all_projects(&self) -> Result<Arc<Vec<Project>>> {
        let generation = self.generation().await?;
        if let Some(v) = self.cache().projects.get(generation) {
            return Ok(v);
        }
        let v = Arc::new(projects::list(self.db()).await?);
        self.cache().projects.put(generation, v.clone());
        Ok(v)
    }

    /// Services and endpoints, from the cache while no identity write
    /// happened since.
    pub async fn catalog_rows(&self) -> Result<CatalogRows> {
        let generation = self.generation().await?;
        if let Some(v) = self.cache().catalog.get(generation) {
            return Ok(v);
        }
        let services = catalog::list_services(self.db()).await?;
        let endpoints = catalog::list_endpoints(self.db()).await?;
        let v = Arc::new((services, endpoints));
        self.cache().catalog.put(generation, v.clone());
        Ok(v)
    }

    /// Drop every cached answer of this process only (key rotation).
    pub fn bump_local_generation(&self) {
        self.cache().local.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::domains::Domain;
    use crate::token::{Payload, Scope};
    use crate::validate::Object;

    fn validated(expires_at: i64) -> Arc<Validated> {
        let user = User {
            id: "u".into(),
            name: "u".into(),
            domain_id: "default".into(),
            enabled: true,
            default_project_id: None,
            password_hash: None,
            password_created_at: None,
            password_expires_at: None,
            last_active_day: None,
            created_at: None,
            description: None,
            extra: Object::new(),
            options: Object::new(),
        };
        let domain = Domain {
            id: "default".into(),
            name: "Default".into(),
            description: String::new(),
            enabled: true,
            extra: Object::new(),
            options: Object::new(),
        };
        Arc::new(Validated {
            payload: Payload::new(
                "u".into(),
                &["password".into()],
                Scope::System,
                0,
                expires_at,
            ),
            user,
            user_domain: domain,
            project: None,
            domain: None,
            roles: Vec::new(),
            app_cred: None,
            trust: None,
            oauth: None,
            rendered: Default::default(),
        })
    }

    const G0: Generation = Generation {
        local: 0,
        shared: 0,
    };
    const G1: Generation = Generation {
        local: 1,
        shared: 0,
    };

    #[test]
    fn answers_only_within_its_generation() {
        let c = Cache::default();
        c.put("t", G0, 10, validated(TTL * 10));
        assert!(c.get("t", G0, 11).is_some());
        assert!(c.get("t", G1, 11).is_none());
        assert!(c.get("other", G0, 11).is_none());
    }

    #[test]
    fn ends_at_expiry_and_after_ttl() {
        let c = Cache::default();
        c.put("short", G0, 0, validated(100));
        assert!(c.get("short", G0, 99).is_some());
        assert!(c.get("short", G0, 100).is_none());
        c.put("long", G0, 0, validated(TTL * 10));
        assert!(c.get("long", G0, TTL - 1).is_some());
        assert!(c.get("long", G0, TTL).is_none());
        c.put("expired", G0, 200, validated(100));
        assert!(c.get("expired", G0, 50).is_none());
    }

    #[test]
    fn ends_at_the_trust_chain_expiry() {
        let c = Cache::default();
        let mut v = (*validated(TTL * 10)).clone();
        v.trust = Some(crate::service::trusts::TrustFacts {
            trust: crate::store::trusts::Trust {
                id: "t".into(),
                trustor_user_id: "u".into(),
                trustee_user_id: "u".into(),
                project_id: Some("p".into()),
                impersonation: false,
                expires_at: Some(80),
                remaining_uses: None,
                redelegated_trust_id: None,
                redelegation_count: Some(0),
                extra: Object::new(),
                role_ids: Vec::new(),
            },
            trustor: v.user.clone(),
            trustor_domain: v.user_domain.clone(),
            valid_until: Some(50),
        });
        c.put("t", G0, 0, Arc::new(v));
        assert!(c.get("t", G0, 49).is_some());
        assert!(c.get("t", G0, 50).is_none());
    }

    #[test]
    fn stays_within_capacity() {
        let c = Cache::default();
        for i in 0..CAPACITY + 5 {
            c.put(&format!("t{i}"), G0, 0, validated(TTL));
        }
        assert!(locked(&c.tokens).len() <= CAPACITY);
        assert!(c.get(&format!("t{}", CAPACITY + 4), G0, 1).is_some());
    }
}
