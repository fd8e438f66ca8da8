//! Token validation and rendering.

use std::sync::Arc;

use ferro_api::time::{iso_micros, now_micros};
use ferro_api::{AccessRule, AuthContext};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::store::app_creds::AppCred;
use crate::store::domains::{self, Domain};
use crate::store::oauth1::{self, AccessToken};
use crate::store::projects::{self, Project};
use crate::store::revocations::{self, TokenFacts};
use crate::store::roles::Role;
use crate::store::users::{self, User};
use crate::store::{app_creds, Db};
use crate::token::{Payload, Scope};
use crate::Identity;

use super::trusts::TrustFacts;

/// A token that passed every check, with what it refers to resolved.
#[derive(Clone, Debug)]
pub struct Validated {
    pub payload: Payload,
    pub user: User,
    pub user_domain: Domain,
    pub project: Option<(Project, Domain)>,
    pub domain: Option<Domain>,
    pub roles: Vec<Role>,
    pub app_cred: Option<AppCred>,
    /// Set for a trust-scoped token (`user` is then the trustee).
    pub trust: Option<TrustFacts>,
    /// Set for a token from an OAuth1 access token (`oauth1` method).
    pub oauth: Option<AccessToken>,
    /// The serialised `GET /v3/auth/tokens` body, with and without the
    /// catalog, made on first use. A cached validation lives only as long as
    /// the identity generation it was computed at, so neither outlives a
    /// change to what they show.
    pub rendered: Rendered,
}

/// Lazily serialised token bodies: `[with catalog, without]`.
#[derive(Default)]
pub struct Rendered(pub [std::sync::OnceLock<bytes::Bytes>; 2]);

/// A copy may be changed afterwards, so it starts without rendered bodies.
impl Clone for Rendered {
    fn clone(&self) -> Self {
        Rendered::default()
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered")
    }
}

fn invalid() -> Error {
    Error::not_found("Could not find token.")
}

impl Identity {
    /// Check a token string; `allow_expired` accepts tokens expired within
    /// the configured window (Keystone's `allow_expired`). Answers come from
    /// the validation cache when nothing changed since (`service::cache`).
    pub async fn validate_token(&self, token: &str, allow_expired: bool) -> Result<Arc<Validated>> {
        let token = token.trim();
        let generation = self.generation().await?;
        let now = now_micros();
        if let Some(v) = self.cache().get(token, generation, now) {
            return Ok(v);
        }
        let payload = Payload::open(token, &self.keys()).ok_or_else(invalid)?;
        let window = if allow_expired {
            self.config().allow_expired_window * 1_000_000
        } else {
            0
        };
        if payload.expires_at + window <= now {
            return Err(invalid());
        }
        // A token whose trust no longer holds (trustor disabled or without
        // the roles, chain broken) is simply no longer a valid token.
        let v = Arc::new(
            self.resolve(payload)
                .await
                .map_err(|e| match e.status().as_u16() {
                    403 => invalid(),
                    _ => e,
                })?,
        );
        self.cache().put(token, generation, now, v.clone());
        Ok(v)
    }

    /// Resolve a payload's user, scope and roles, checking each is still
    /// valid (enabled, not deleted, not revoked).
    pub(crate) async fn resolve(&self, payload: Payload) -> Result<Validated> {
        let db = self.db();
        let user = users::get(db, &payload.user_id)
            .await?
            .ok_or_else(invalid)?;
        let user_domain = enabled_domain(db, &user.domain_id).await?;
        if !super::compliance::user_enabled(self, &user) {
            return Err(invalid());
        }
        let mut project = None;
        let mut domain = None;
        match &payload.scope {
            Scope::Project(pid) => {
                let p = projects::get(db, pid).await?.ok_or_else(invalid)?;
                let d = enabled_domain(db, &p.domain_id).await?;
                if !p.enabled {
                    return Err(invalid());
                }
                project = Some((p, d));
            }
            Scope::Domain(did) => domain = Some(enabled_domain(db, did).await?),
            Scope::System | Scope::Unscoped => {}
        }
        let trust = match &payload.trust_id {
            Some(tid) => Some(
                self.trust_for_token(tid, &user, payload.project_id())
                    .await?,
            ),
            None => None,
        };
        let facts = TokenFacts {
            user_id: &payload.user_id,
            trustor_id: trust.as_ref().map(|(t, _)| t.trustor.id.as_str()),
            project_id: payload.project_id(),
            domain_ids: [
                payload.domain_id(),
                Some(user.domain_id.as_str()),
                project.as_ref().map(|(p, _)| p.domain_id.as_str()),
            ],
            audit_ids: &payload.audit_ids,
            issued_at: payload.issued_at,
        };
        if revocations::is_revoked(db, &facts).await? {
            return Err(invalid());
        }
        let (trust, mut roles) = match trust {
            Some((facts, roles)) => (Some(facts), roles),
            None => (
                None,
                super::roles::effective(db, &user.id, &payload.scope).await?,
            ),
        };
        // An OAuth1 token holds while its access token exists and has not
        // expired, with the delegated roles (and those they imply) the user
        // still has on the project.
        let oauth = match &payload.access_token_id {
            Some(atid) => {
                let at = oauth1::get_access_token(db, atid)
                    .await?
                    .ok_or_else(invalid)?;
                if at.expired(now_micros())
                    || at.authorizing_user_id != user.id
                    || payload.project_id() != Some(at.project_id.as_str())
                {
                    return Err(invalid());
                }
                let delegated =
                    super::roles::expand_ids(db, at.role_ids.iter().cloned().collect()).await?;
                roles.retain(|r| delegated.contains(&r.id));
                Some(at)
            }
            None => None,
        };
        let app_cred = match &payload.app_cred_id {
            Some(id) => {
                let ac = app_creds::get(db, id).await?.ok_or_else(invalid)?;
                if ac.expires_at.is_some_and(|e| e <= now_micros()) {
                    return Err(invalid());
                }
                let allowed: Vec<String> = ac
                    .roles
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r["id"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                roles.retain(|r| allowed.contains(&r.id));
                Some(ac)
            }
            None => None,
        };
        if payload.scope != Scope::Unscoped && roles.is_empty() {
            return Err(invalid());
        }
        Ok(Validated {
            payload,
            user,
            user_domain,
            project,
            domain,
            roles,
            app_cred,
            trust,
            oauth,
            rendered: Rendered::default(),
        })
    }
}

async fn enabled_domain(db: &Db, id: &str) -> Result<Domain> {
    match domains::get(db, id).await? {
        Some(d) if d.enabled => Ok(d),
        _ => Err(invalid()),
    }
}

/// The access rules of an application credential, None when it has none
/// (an empty list restricts nothing, as in Keystone).
fn access_rules(ac: &AppCred) -> Option<Vec<AccessRule>> {
    let rules: Vec<AccessRule> = ac
        .access_rules
        .as_array()?
        .iter()
        .map(|r| {
            let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            AccessRule {
                service: field("service"),
                method: field("method"),
                path: field("path"),
            }
        })
        .collect();
    (!rules.is_empty()).then_some(rules)
}

impl Validated {
    /// The user the token shows and acts as: the trustor for a trust that
    /// allows impersonation, else the token's own user.
    pub fn shown_user(&self) -> (&User, &Domain) {
        match &self.trust {
            Some(t) if t.trust.impersonation => (&t.trustor, &t.trustor_domain),
            _ => (&self.user, &self.user_domain),
        }
    }

    /// The request context other services and the policy checks use.
    pub fn context(&self, token: &str) -> AuthContext {
        let (user, user_domain) = self.shown_user();
        AuthContext {
            token: token.to_owned(),
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            user_domain_id: user_domain.id.clone(),
            user_domain_name: user_domain.name.clone(),
            project_id: self.project.as_ref().map(|(p, _)| p.id.clone()),
            project_name: self.project.as_ref().map(|(p, _)| p.name.clone()),
            project_domain_id: self.project.as_ref().map(|(_, d)| d.id.clone()),
            project_domain_name: self.project.as_ref().map(|(_, d)| d.name.clone()),
            domain_id: self.domain.as_ref().map(|d| d.id.clone()),
            domain_name: self.domain.as_ref().map(|d| d.name.clone()),
            system: self.payload.scope == Scope::System,
            roles: self.roles.iter().map(|r| r.name.clone()).collect(),
            role_ids: self.roles.iter().map(|r| r.id.clone()).collect(),
            audit_ids: self.payload.audit_ids.clone(),
            methods: self.payload.method_names(),
            issued_at: self.payload.issued_at,
            expires_at: self.payload.expires_at,
            application_credential_id: self.payload.app_cred_id.clone(),
            trust_id: self.payload.trust_id.clone(),
            access_rules: self.app_cred.as_ref().and_then(access_rules),
        }
    }

    /// The v3 token body (`{"token": {...}}`), with `catalog` when given.
    pub fn body(&self, catalog: Option<Vec<Value>>) -> Value {
        let p = &self.payload;
        let (user, user_domain) = self.shown_user();
        let mut t = json!({
            "methods": p.method_names(),
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": user_domain.id, "name": user_domain.name},
                "password_expires_at": null,
            },
            "audit_ids": p.audit_ids,
            "expires_at": iso_micros(p.expires_at),
            "issued_at": iso_micros(p.issued_at),
        });
        let roles: Vec<Value> = self
            .roles
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name}))
            .collect();
        match &p.scope {
            Scope::Project(_) => {
                if let Some((proj, dom)) = &self.project {
                    t["project"] = json!({
                        "id": proj.id, "name": proj.name,
                        "domain": {"id": dom.id, "name": dom.name},
                    });
                }
                match &self.trust {
                    Some(tr) => {
                        t["OS-TRUST:trust"] = json!({
                            "id": tr.trust.id,
                            "trustor_user": {"id": tr.trust.trustor_user_id},
                            "trustee_user": {"id": tr.trust.trustee_user_id},
                            "impersonation": tr.trust.impersonation,
                        });
                    }
                    None => t["is_domain"] = json!(false),
                }
                if let Some(at) = &self.oauth {
                    t["OS-OAUTH1"] = json!({
                        "access_token_id": at.id,
                        "consumer_id": at.consumer_id,
                    });
                }
                t["roles"] = json!(roles);
            }
            Scope::Domain(_) => {
                if let Some(d) = &self.domain {
                    t["domain"] = json!({"id": d.id, "name": d.name});
                }
                t["roles"] = json!(roles);
            }
            Scope::System => {
                t["system"] = json!({"all": true});
                t["roles"] = json!(roles);
            }
            Scope::Unscoped => {}
        }
        if let Some(ac) = &self.app_cred {
            t["application_credential"] = json!({
                "id": ac.id, "name": ac.name, "restricted": !ac.unrestricted,
            });
            // As Keystone: shown only when the credential has rules.
            if access_rules(ac).is_some() {
                t["application_credential"]["access_rules"] = ac.access_rules.clone();
            }
        }
        if let Some(c) = catalog {
            t["catalog"] = json!(c);
        }
        json!({ "token": t })
    }
}
