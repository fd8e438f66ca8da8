//! First-start bootstrap, idempotent: the Default domain, the admin project
//! and user, roles admin > member > reader, RegionOne and the catalog.

use ferro_api::time::now_micros;
use serde_json::json;

use super::hashing;
use crate::error::Result;
use crate::store::assignments::{self, Actor, Assignment, Target, SYSTEM_ALL};
use crate::store::catalog::{self, Endpoint, Region, Service};
use crate::store::domains::{self, Domain};
use crate::store::projects::{self, Project};
use crate::store::roles::{self, Role};
use crate::store::users::{self, User};
use crate::store::{new_id, Db};
use crate::Identity;

/// What bootstrap needs to know.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    pub admin_password: String,
    /// e.g. `http://127.0.0.1:8080`; endpoints are built from it.
    pub public_url: String,
    pub region: String,
}

/// The services of the catalog: (type, name, path under the public URL).
/// Block storage is listed twice, as DevStack does: `block-storage` (the
/// official type) and `volumev3` (the legacy alias gophercloud and Libcloud
/// look up), at the same URL.
pub const SERVICES: &[(&str, &str, &str)] = &[
    ("identity", "keystone", "/identity"),
    ("compute", "nova", "/compute/v2.1"),
    ("network", "neutron", "/networking"),
    ("image", "glance", "/image"),
    ("block-storage", "cinder", "/volume/v3/$(project_id)s"),
    ("volumev3", "cinderv3", "/volume/v3/$(project_id)s"),
];

impl Identity {
    /// Create what is missing; bring endpoint URLs in line with the public
    /// URL. Returns the admin user, whose password is checked in the
    /// background by [`Identity::ensure_admin_password`].
    pub async fn bootstrap(&self, b: &Bootstrap) -> Result<User> {
        let db = self.db();
        let now = now_micros();
        let domain = ensure_default_domain(db, now).await?;
        let admin = ensure_role(db, "admin", now).await?;
        let member = ensure_role(db, "member", now).await?;
        let reader = ensure_role(db, "reader", now).await?;
        // As keystone-manage bootstrap (2024.2): "manager" sits between
        // admin and member; "service" is for service users (Nova's and
        // Cinder's service-only APIs: external events, assisted snapshots).
        let manager = ensure_role(db, "manager", now).await?;
        ensure_role(db, "service", now).await?;
        for (prior, implied) in [
            (&admin, &member),
            (&admin, &manager),
            (&manager, &member),
            (&member, &reader),
        ] {
            let pairs = roles::list_implied(db).await?;
            if !pairs
                .iter()
                .any(|(p, i)| *p == prior.id && *i == implied.id)
            {
                ignore_conflict(roles::add_implied(db, &prior.id, &implied.id).await)?;
            }
        }
        let project = ensure_admin_project(db, &domain, now).await?;
        let user = self
            .ensure_admin_user(&domain, &project, &b.admin_password, now)
            .await?;
        for (target, target_id) in [
            (Target::Project, project.id.as_str()),
            (Target::System, SYSTEM_ALL),
        ] {
            let a = Assignment {
                actor: Actor::User,
                actor_id: user.id.clone(),
                target,
                target_id: target_id.to_owned(),
                role_id: admin.id.clone(),
                inherited: false,
            };
            ignore_conflict(assignments::grant(db, &a).await)?;
        }
        ensure_region(db, &b.region).await?;
        ensure_catalog(db, &b.public_url, &b.region).await?;
        // Other processes sharing the database may have cached the catalog.
        self.bump_generation().await;
        Ok(user)
    }

    async fn ensure_admin_user(
        &self,
        domain: &Domain,
        project: &Project,
        password: &str,
        now: i64,
    ) -> Result<User> {
        if let Some(u) = users::get_by_name(self.db(), &domain.id, "admin").await? {
            return Ok(u);
        }
        let hash = hashing::hash(password.to_owned(), self.config().password_hash_rounds).await?;
        let user = User {
            id: new_id(),
            name: "admin".into(),
            domain_id: domain.id.clone(),
            enabled: true,
            default_project_id: Some(project.id.clone()),
            password_hash: Some(hash),
            password_created_at: Some(now),
            password_expires_at: None,
            last_active_day: None,
            created_at: None,
            description: None,
            extra: Default::default(),
            options: Default::default(),
        };
        ignore_conflict(users::create(self.db(), &user, now).await)?;
        Ok(users::get_by_name(self.db(), &domain.id, "admin")
            .await?
            .unwrap_or(user))
    }

    /// Make the admin password the configured one (as `keystone-manage
    /// bootstrap` does), re-hashing only when it differs.
    pub async fn ensure_admin_password(&self, user: &User, password: &str) -> Result<()> {
        if let Some(h) = &user.password_hash {
            if hashing::verify(password.to_owned(), h.clone()).await {
                return Ok(());
            }
        }
        let mut u = user.clone();
        u.password_hash =
            Some(hashing::hash(password.to_owned(), self.config().password_hash_rounds).await?);
        u.password_created_at = Some(now_micros());
        users::update(self.db(), &u).await?;
        self.revoke_user(&u.id).await?;
        // This runs outside any request: invalidate cached validations here.
        self.bump_generation().await;
        tracing::info!("admin password updated from configuration");
        Ok(())
    }
}

fn ignore_conflict(r: ferro_store::sqlx::Result<()>) -> Result<()> {
    match r {
        Err(e) if ferro_store::is_unique_violation(&e) => Ok(()),
        other => Ok(other?),
    }
}

async fn ensure_default_domain(db: &Db, now: i64) -> Result<Domain> {
    if let Some(d) = domains::get(db, "default").await? {
        return Ok(d);
    }
    let d = Domain {
        id: "default".into(),
        name: "Default".into(),
        description: "The default domain".into(),
        enabled: true,
        extra: Default::default(),
        options: Default::default(),
    };
    ignore_conflict(domains::create(db, &d, now).await)?;
    Ok(d)
}

async fn ensure_role(db: &Db, name: &str, now: i64) -> Result<Role> {
    if let Some(r) = roles::get_global_by_name(db, name).await? {
        return Ok(r);
    }
    let r = Role {
        id: new_id(),
        name: name.into(),
        domain_id: None,
        description: None,
        extra: Default::default(),
        options: Default::default(),
    };
    ignore_conflict(roles::create(db, &r, now).await)?;
    Ok(roles::get_global_by_name(db, name).await?.unwrap_or(r))
}

async fn ensure_admin_project(db: &Db, domain: &Domain, now: i64) -> Result<Project> {
    if let Some(p) = projects::get_by_name(db, &domain.id, "admin").await? {
        return Ok(p);
    }
    let p = Project {
        id: new_id(),
        name: "admin".into(),
        domain_id: domain.id.clone(),
        parent_id: Some(domain.id.clone()),
        description: "Bootstrap project for initializing the cloud.".into(),
        enabled: true,
        extra: Default::default(),
        options: Default::default(),
        tags: Vec::new(),
    };
    ignore_conflict(projects::create(db, &p, now).await)?;
    Ok(projects::get_by_name(db, &domain.id, "admin")
        .await?
        .unwrap_or(p))
}

async fn ensure_region(db: &Db, region: &str) -> Result<()> {
    if catalog::get_region(db, region).await?.is_none() {
        let r = Region {
            id: region.into(),
            description: String::new(),
            parent_region_id: None,
            extra: Default::default(),
        };
        ignore_conflict(catalog::create_region(db, &r).await)?;
    }
    Ok(())
}

async fn ensure_catalog(db: &Db, public_url: &str, region: &str) -> Result<()> {
    let base = public_url.trim_end_matches('/');
    let services = catalog::list_services(db).await?;
    let endpoints = catalog::list_endpoints(db).await?;
    for (kind, name, path) in SERVICES {
        let service = match services.iter().find(|s| s.kind == *kind) {
            Some(s) => s.clone(),
            None => {
                let s = Service {
                    id: new_id(),
                    kind: (*kind).into(),
                    enabled: true,
                    extra: json!({"name": name})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                };
                catalog::create_service(db, &s).await?;
                s
            }
        };
        let url = format!("{base}{path}");
        for interface in ["public", "internal", "admin"] {
            let existing = endpoints
                .iter()
                .find(|e| e.service_id == service.id && e.interface == interface);
            match existing {
                Some(e) if e.url == url => {}
                Some(e) => {
                    let mut e = e.clone();
                    e.url = url.clone();
                    catalog::update_endpoint(db, &e).await?;
                }
                None => {
                    let e = Endpoint {
                        id: new_id(),
                        service_id: service.id.clone(),
                        interface: interface.into(),
                        region_id: Some(region.into()),
                        url: url.clone(),
                        enabled: true,
                        extra: Default::default(),
                    };
                    catalog::create_endpoint(db, &e).await?;
                }
            }
        }
    }
    Ok(())
}
