//! Upstream Keystone's default policies, as rules over the caller's token.
//!
//! - `admin` (on any scope) may do everything (`admin_required`);
//! - a system-scoped `reader` may read everything;
//! - a domain-scoped `reader` may read users, groups and projects of its
//!   domain (and a domain-scoped `admin` manage them: covered by `admin`);
//! - anyone may read themselves, change their own password, manage their own
//!   application credentials and credentials, and see their own projects;
//! - anything else is refused with 403 naming the rule.

use ferro_api::AuthContext;

use crate::error::{Error, Result};

fn deny(rule: &str) -> Error {
    Error::forbidden(format!(
        "You are not authorized to perform the requested action: {rule}."
    ))
}

fn allow_if(ok: bool, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(deny(rule))
    }
}

/// Writes to the deployment's shape (domains, roles, catalog, ...).
pub fn admin(ctx: &AuthContext, rule: &str) -> Result<()> {
    allow_if(ctx.is_admin(), rule)
}

/// Reads that need a system reader or an admin.
pub fn reader(ctx: &AuthContext, rule: &str) -> Result<()> {
    allow_if(ctx.is_admin() || ctx.is_system_reader(), rule)
}

/// Reads within a domain: also a reader scoped to `domain_id`.
pub fn domain_reader(ctx: &AuthContext, rule: &str, domain_id: Option<&str>) -> Result<()> {
    let in_domain =
        domain_id.is_some() && ctx.domain_id.as_deref() == domain_id && ctx.has_role("reader");
    allow_if(ctx.is_admin() || ctx.is_system_reader() || in_domain, rule)
}

/// Reads of a user's own things: also the user themselves.
pub fn reader_or_self(ctx: &AuthContext, rule: &str, user_id: &str) -> Result<()> {
    allow_if(
        ctx.is_admin() || ctx.is_system_reader() || ctx.user_id == user_id,
        rule,
    )
}

/// Writes of a user's own things (application credentials, credentials).
pub fn admin_or_self(ctx: &AuthContext, rule: &str, user_id: &str) -> Result<()> {
    allow_if(ctx.is_admin() || ctx.user_id == user_id, rule)
}

/// Reading a project: admins, readers, its domain's readers, or a token
/// scoped to it.
pub fn project_reader(
    ctx: &AuthContext,
    rule: &str,
    project_id: &str,
    domain_id: &str,
) -> Result<()> {
    let scoped_here = ctx.project_id.as_deref() == Some(project_id);
    let in_domain = ctx.domain_id.as_deref() == Some(domain_id) && ctx.has_role("reader");
    allow_if(
        ctx.is_admin() || ctx.is_system_reader() || scoped_here || in_domain,
        rule,
    )
}

/// Reading a domain: also any token of a project in it or scoped to it.
pub fn domain_viewer(ctx: &AuthContext, rule: &str, domain_id: &str) -> Result<()> {
    let related = ctx.domain_id.as_deref() == Some(domain_id)
        || ctx.project_domain_id.as_deref() == Some(domain_id);
    allow_if(ctx.is_admin() || ctx.is_system_reader() || related, rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(roles: &[&str], project: Option<&str>, system: bool) -> AuthContext {
        AuthContext {
            user_id: "u".into(),
            project_id: project.map(str::to_owned),
            system,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn member_cannot_write_or_list_but_reads_self() {
        let m = ctx(&["member", "reader"], Some("p"), false);
        assert!(admin(&m, "identity:create_user").is_err());
        assert!(reader(&m, "identity:list_users").is_err());
        assert!(reader_or_self(&m, "identity:get_user", "u").is_ok());
        assert!(reader_or_self(&m, "identity:get_user", "other").is_err());
        assert!(project_reader(&m, "identity:get_project", "p", "d").is_ok());
        assert!(project_reader(&m, "identity:get_project", "q", "d").is_err());
    }

    #[test]
    fn system_reader_reads_but_cannot_write() {
        let r = ctx(&["reader"], None, true);
        assert!(reader(&r, "identity:list_users").is_ok());
        assert!(admin(&r, "identity:create_user").is_err());
    }
}
