//! Revocation events raised when something a token depends on changes.

use ferro_api::time::now_micros;

use crate::error::Result;
use crate::store::revocations::{self, Event};
use crate::Identity;

impl Identity {
    async fn revoke(&self, ev: Event) -> Result<()> {
        revocations::add(self.db(), &ev, now_micros()).await?;
        Ok(())
    }

    /// All tokens of a user (disabled, deleted, password changed).
    pub async fn revoke_user(&self, user_id: &str) -> Result<()> {
        self.revoke(Event {
            user_id: Some(user_id.to_owned()),
            ..Event::default()
        })
        .await
    }

    /// A user's tokens on one project (a role was taken away).
    pub async fn revoke_user_project(&self, user_id: &str, project_id: &str) -> Result<()> {
        self.revoke(Event {
            user_id: Some(user_id.to_owned()),
            project_id: Some(project_id.to_owned()),
            ..Event::default()
        })
        .await
    }

    /// Every token scoped to a project (disabled or deleted).
    pub async fn revoke_project(&self, project_id: &str) -> Result<()> {
        self.revoke(Event {
            project_id: Some(project_id.to_owned()),
            ..Event::default()
        })
        .await
    }

    /// Every token touching a domain (disabled or deleted).
    pub async fn revoke_domain(&self, domain_id: &str) -> Result<()> {
        self.revoke(Event {
            domain_id: Some(domain_id.to_owned()),
            ..Event::default()
        })
        .await
    }

    /// One token and every token rescoped from it.
    pub async fn revoke_audit_id(&self, audit_id: &str) -> Result<()> {
        self.revoke(Event {
            audit_id: Some(audit_id.to_owned()),
            ..Event::default()
        })
        .await
    }
}
