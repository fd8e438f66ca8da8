//! Trusts (OS-TRUST): whether a trust can be used, its redelegation chain,
//! the rules a new trust must meet, and the roles a trust-scoped token
//! carries. Upstream Keystone's semantics:
//!
//! - a trust is usable while it exists, has not expired and (when limited)
//!   has uses left; a redelegated trust also needs every trust above it
//!   usable, each step within the one above it (depth, expiry, roles,
//!   impersonation), and each trustee above it enabled;
//! - a token from a trust carries the trust's roles (expanded through
//!   implied roles), each of which the original trustor must still hold on
//!   the project, and only while the trustor is enabled.

use std::collections::BTreeSet;

use ferro_api::time::now_micros;

use super::roles;
use crate::error::{Error, Result};
use crate::store::domains::{self, Domain};
use crate::store::roles::{self as role_store, Role};
use crate::store::trusts::{self, Trust};
use crate::store::users::{self, User};
use crate::token::Scope;
use crate::Identity;

/// Keystone's `[trust] max_redelegation_count` default.
pub const MAX_REDELEGATION_COUNT: i64 = 3;

/// What a trust-scoped token resolved to, besides its user (the trustee).
#[derive(Clone, Debug)]
pub struct TrustFacts {
    pub trust: Trust,
    pub trustor: User,
    pub trustor_domain: Domain,
    /// The earliest expiry in the chain: the token stops validating then.
    pub valid_until: Option<i64>,
}

pub fn not_found(id: &str) -> Error {
    Error::no_such("trust", id)
}

impl Identity {
    /// The trust `id` if it can be used now (Keystone's `get_trust`): 404
    /// if missing, expired or (when `count_uses`) used up; 403 if its chain
    /// is broken.
    pub async fn usable_trust(&self, id: &str, count_uses: bool) -> Result<Trust> {
        let now = now_micros();
        let ok = |t: &Trust| {
            if count_uses {
                t.usable(now)
            } else {
                !t.expired(now)
            }
        };
        let trust = match trusts::get(self.db(), id).await? {
            Some(t) if ok(&t) => t,
            _ => return Err(not_found(id)),
        };
        if trust.redelegated_trust_id.is_some() {
            let chain = self.pedigree(&trust).await?;
            for pair in chain.windows(2) {
                let (child, parent) = (&pair[0], &pair[1]);
                check_redelegation(parent, child)?;
                let agent = users::get(self.db(), &parent.trustee_user_id).await?;
                if !agent.is_some_and(|u| u.enabled) {
                    return Err(Error::forbidden(
                        "One of the trust agents is disabled or deleted",
                    ));
                }
            }
        }
        Ok(trust)
    }

    /// `trust` and every trust it was redelegated from, nearest first; 404
    /// when one of them can no longer be used.
    pub async fn pedigree(&self, trust: &Trust) -> Result<Vec<Trust>> {
        let now = now_micros();
        let mut chain = vec![trust.clone()];
        let mut next = trust.redelegated_trust_id.clone();
        while let Some(pid) = next {
            if chain.iter().any(|t| t.id == pid) || chain.len() > 64 {
                return Err(not_found(&pid));
            }
            let parent = match trusts::get(self.db(), &pid).await? {
                Some(p) if p.usable(now) => p,
                _ => return Err(not_found(&pid)),
            };
            next = parent.redelegated_trust_id.clone();
            chain.push(parent);
        }
        Ok(chain)
    }

    /// The role ids `user_id` can delegate on `project_id` (effective,
    /// implied and domain-specific roles included).
    pub async fn delegable_role_ids(
        &self,
        user_id: &str,
        project_id: &str,
    ) -> Result<BTreeSet<String>> {
        roles::effective_ids(self.db(), user_id, &Scope::Project(project_id.to_owned())).await
    }

    /// Check a trust-scoped token's trust and work out its roles. `user` is
    /// the token's user, who must be the trustee.
    pub async fn trust_for_token(
        &self,
        trust_id: &str,
        user: &User,
        project_id: Option<&str>,
    ) -> Result<(TrustFacts, Vec<Role>)> {
        let invalid = || Error::not_found("Could not find token.");
        let trust =
            self.usable_trust(trust_id, false)
                .await
                .map_err(|e| match e.status().as_u16() {
                    404 => invalid(),
                    _ => e,
                })?;
        if trust.trustee_user_id != user.id {
            return Err(Error::forbidden("User is not a trustee."));
        }
        if trust.project_id.as_deref() != project_id {
            return Err(invalid());
        }
        let Some(pid) = project_id else {
            return Err(invalid());
        };
        let trustor = users::get(self.db(), &trust.trustor_user_id)
            .await?
            .ok_or_else(invalid)?;
        let trustor_domain = match domains::get(self.db(), &trustor.domain_id).await? {
            Some(d) if d.enabled => d,
            _ => return Err(invalid()),
        };
        if !trustor.enabled {
            return Err(Error::forbidden("Trustor is disabled."));
        }
        let chain = self.pedigree(&trust).await.map_err(|_| invalid())?;
        let original = chain
            .last()
            .map_or(&trust.trustor_user_id, |t| &t.trustor_user_id);
        let held = self.delegable_role_ids(original, pid).await?;
        let wanted = roles::expand_ids(self.db(), trust.role_ids.iter().cloned().collect()).await?;
        if wanted.iter().any(|r| !held.contains(r)) {
            return Err(Error::forbidden("Trustee has no delegated roles."));
        }
        let mut granted: Vec<Role> = role_store::list(self.db())
            .await?
            .into_iter()
            .filter(|r| wanted.contains(&r.id) && r.domain_id.is_none())
            .collect();
        granted.sort_by(|a, b| a.name.cmp(&b.name));
        let valid_until = chain.iter().filter_map(|t| t.expires_at).min();
        Ok((
            TrustFacts {
                trust,
                trustor,
                trustor_domain,
                valid_until,
            },
            granted,
        ))
    }

    /// Delete a trust and, recursively, the trusts its trustor redelegated
    /// from it (Keystone's cascade).
    pub async fn delete_trust(&self, trust: &Trust) -> Result<()> {
        let mut todo = vec![(trust.id.clone(), trust.trustor_user_id.clone())];
        let mut seen = BTreeSet::new();
        while let Some((id, trustor)) = todo.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for child in trusts::children(self.db(), &id, &trustor).await? {
                todo.push((child, trustor.clone()));
            }
            trusts::delete(self.db(), &id).await?;
        }
        Ok(())
    }
}

/// Keystone's `_validate_redelegation`: may `child` be (or stay)
/// redelegated from `parent`? Fills in the child's expiry from the parent
/// when it has none.
pub fn check_redelegation(parent: &Trust, child: &Trust) -> Result<()> {
    let depth = parent.redelegation_count.unwrap_or(0);
    if !(0 < depth && depth <= MAX_REDELEGATION_COUNT) {
        return Err(Error::forbidden(format!(
            "Remaining redelegation depth of {depth} out of allowed range of [0..{MAX_REDELEGATION_COUNT}]"
        )));
    }
    if let Some(n) = child.remaining_uses {
        return Err(Error::forbidden(format!(
            "Field \"remaining_uses\" is set to {n} while it must not be set in order to redelegate a trust"
        )));
    }
    if let (Some(child_exp), Some(parent_exp)) = (child.expires_at, parent.expires_at) {
        if parent_exp < child_exp {
            return Err(Error::forbidden(
                "Requested expiration time is more than redelegated trust can provide",
            ));
        }
    }
    if child.role_ids.iter().any(|r| !parent.role_ids.contains(r)) {
        return Err(Error::forbidden(
            "Some of requested roles are not in redelegated trust",
        ));
    }
    if !parent.impersonation && child.impersonation {
        return Err(Error::forbidden(format!(
            "Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: {}",
            parent.id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(id: &str, count: Option<i64>, roles: &[&str], imp: bool) -> Trust {
        Trust {
            id: id.into(),
            trustor_user_id: "a".into(),
            trustee_user_id: "b".into(),
            project_id: Some("p".into()),
            impersonation: imp,
            expires_at: None,
            remaining_uses: None,
            redelegated_trust_id: None,
            redelegation_count: count,
            extra: Default::default(),
            role_ids: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn redelegation_limits() {
        let parent = trust("p", Some(2), &["r1", "r2"], true);
        assert!(check_redelegation(&parent, &trust("c", Some(1), &["r1"], true)).is_ok());
        // depth used up, or beyond the maximum
        let spent = trust("p", Some(0), &["r1"], true);
        assert!(check_redelegation(&spent, &trust("c", None, &["r1"], true)).is_err());
        let deep = trust("p", Some(MAX_REDELEGATION_COUNT + 1), &["r1"], true);
        assert!(check_redelegation(&deep, &trust("c", None, &["r1"], true)).is_err());
        // a role the parent does not delegate
        assert!(check_redelegation(&parent, &trust("c", None, &["r3"], true)).is_err());
        // impersonation cannot be gained
        let plain = trust("p", Some(2), &["r1"], false);
        assert!(check_redelegation(&plain, &trust("c", None, &["r1"], true)).is_err());
        assert!(check_redelegation(&plain, &trust("c", None, &["r1"], false)).is_ok());
        // limited uses cannot be redelegated; nor a longer life
        let mut limited = trust("c", None, &["r1"], true);
        limited.remaining_uses = Some(1);
        assert!(check_redelegation(&parent, &limited).is_err());
        let mut short = parent.clone();
        short.expires_at = Some(100);
        let mut long = trust("c", None, &["r1"], true);
        long.expires_at = Some(200);
        assert!(check_redelegation(&short, &long).is_err());
        long.expires_at = Some(100);
        assert!(check_redelegation(&short, &long).is_ok());
    }
}
