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
    /// For a token from an application credential with access rules: the
    /// only requests it may make (None: no restriction).
    pub access_rules: Option<Vec<AccessRule>>,
}

/// One application credential access rule: a service type, an HTTP method
/// and a path template (`*` or `{name}` is one path segment, `**` anything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRule {
    pub service: String,
    pub method: String,
    pub path: String,
}

impl AuthContext {
    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(name))
    }

    /// The `admin` role on any scope: upstream's `admin_required`.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// Whether the token may make this request, as keystonemiddleware
    /// decides: no access rules, or one rule whose service is one of
    /// `service_types` (the service's type and its aliases), whose method is
    /// `method` and whose path template matches `path` (the request path
    /// below the service's root, e.g. `/v2.1/servers`).
    pub fn allows_request(&self, service_types: &[&str], method: &str, path: &str) -> bool {
        let Some(rules) = &self.access_rules else {
            return true;
        };
        rules.iter().any(|r| {
            r.method == method
                && service_types.contains(&r.service.as_str())
                && path_matches(path, &r.path)
        })
    }

    /// A reader (or more) on the system scope.
    pub fn is_system_reader(&self) -> bool {
        self.system && self.has_role("reader")
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Char(char),
    /// `*` or `{name}`: one or more characters, no `/`.
    Segment,
    /// `**`: any characters, `/` included, possibly none.
    Anything,
}

fn pieces(template: &str) -> Vec<Piece> {
    let chars: Vec<char> = template.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push(Piece::Anything);
                i += 2;
            }
            '*' => {
                out.push(Piece::Segment);
                i += 1;
            }
            '{' => match chars[i..].iter().position(|c| *c == '}') {
                Some(end) => {
                    out.push(Piece::Segment);
                    i += end + 1;
                }
                None => {
                    out.push(Piece::Char('{'));
                    i += 1;
                }
            },
            c => {
                out.push(Piece::Char(c));
                i += 1;
            }
        }
    }
    out
}

/// Whether `path` matches an access rule's path template.
pub fn path_matches(path: &str, template: &str) -> bool {
    let path: Vec<char> = path.chars().collect();
    match_from(&path, &pieces(template))
}

fn match_from(path: &[char], pieces: &[Piece]) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return path.is_empty();
    };
    match first {
        Piece::Char(c) => path.first() == Some(c) && match_from(&path[1..], rest),
        Piece::Segment => {
            let run = path.iter().take_while(|c| **c != '/').count();
            (1..=run).any(|n| match_from(&path[n..], rest))
        }
        Piece::Anything => (0..=path.len()).any(|n| match_from(&path[n..], rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_as_keystonemiddleware() {
        assert!(path_matches("/v2.1/servers", "/v2.1/servers"));
        assert!(!path_matches("/v2.1/servers/x", "/v2.1/servers"));
        assert!(path_matches("/v2.1/servers/abc", "/v2.1/servers/*"));
        assert!(!path_matches("/v2.1/servers/", "/v2.1/servers/*"));
        assert!(!path_matches("/v2.1/servers/a/b", "/v2.1/servers/*"));
        assert!(path_matches("/v2.1/servers/a/b", "/v2.1/servers/**"));
        assert!(path_matches("/v2.1/servers/", "/v2.1/servers/**"));
        assert!(path_matches(
            "/v2.1/servers/a/action",
            "/v2.1/servers/{id}/action"
        ));
        assert!(path_matches("/v2/images/a/file", "/v2/**/file"));
        assert!(!path_matches("/v2/images/a/file", "/v2/*/file"));
    }

    #[test]
    fn rules_restrict_service_method_and_path() {
        let mut ctx = AuthContext::default();
        assert!(ctx.allows_request(&["compute"], "DELETE", "/anything"));
        ctx.access_rules = Some(vec![AccessRule {
            service: "compute".into(),
            method: "GET".into(),
            path: "/v2.1/servers".into(),
        }]);
        assert!(ctx.allows_request(&["compute"], "GET", "/v2.1/servers"));
        assert!(!ctx.allows_request(&["compute"], "POST", "/v2.1/servers"));
        assert!(!ctx.allows_request(&["compute"], "GET", "/v2.1/flavors"));
        assert!(!ctx.allows_request(&["image"], "GET", "/v2.1/servers"));
        ctx.access_rules = Some(Vec::new());
        assert!(!ctx.allows_request(&["compute"], "GET", "/v2.1/servers"));
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
