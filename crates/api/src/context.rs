//! Who is calling: the validated token, as every service sees it.

pub use async_trait_free::BoxFuture;

/// A validated token's facts, as the policy checks of every service use them.
#[derive(Clone, Debug, Default)]
pub struct AuthContext {
    pub token: String,
    pub user_id: String,
    pub user_name: String,
    pub user_domain_id: String,
    pub user_domain_name: String,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    pub system: bool,
    /// Effective role names (implied roles included).
    pub roles: Vec<String>,
    pub role_ids: Vec<String>,
    pub audit_ids: Vec<String>,
    pub methods: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub application_credential_id: Option<String>,
    /// Set for a trust-scoped token: the trust it was issued from.
    pub trust_id: Option<String>,
}

impl AuthContext {
    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(name))
    }

    /// The `admin` role on any scope: upstream's `admin_required`.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// A reader (or more) on the system scope.
    pub fn is_system_reader(&self) -> bool {
        self.system && self.has_role("reader")
    }
}

/// Validates a token for other services (implemented by identity).
pub trait TokenValidator: Send + Sync + 'static {
    fn validate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<AuthContext>>;

    /// Whether the identity service knows a project of this id (None when
    /// it cannot tell). Nova asks Keystone this before it grants a project
    /// flavor access or sets its quotas.
    fn project_exists<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<bool>> {
        let _ = project_id;
        Box::pin(async { None })
    }
}

mod async_trait_free {
    use std::future::Future;
    use std::pin::Pin;
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
}
