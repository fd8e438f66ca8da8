//! `POST /v3/auth/tokens`: authenticate by password, token or application
//! credential, pick the scope, and seal a new token.

use std::sync::Arc;

use ferro_api::time::now_micros;
use serde_json::Value;

use super::oauth1::SignedRequest;
use super::{compliance, hashing};
use crate::error::{Error, Result};
use crate::store::app_creds::{self, AppCred};
use crate::store::domains::{self, Domain};
use crate::store::oauth1::{self, AccessToken};
use crate::store::projects;
use crate::store::trusts;
use crate::store::users::{self, User};
use crate::token::{new_audit_id, Payload, Scope};
use crate::validate::Object;
use crate::Identity;

use super::tokens::Validated;

fn unauthorized() -> Error {
    Error::unauthorized("The request you have made requires authentication.")
}

/// Where an auth request asked to be scoped.
enum Requested {
    None,
    Unscoped,
    Project(Object),
    Domain(Object),
    System,
    /// `{"OS-TRUST:trust": {"id": ...}}`.
    Trust(String),
}

/// Who the identity methods proved the caller to be.
struct Proven {
    user: User,
    methods: Vec<String>,
    /// Set when rescoping: the original token keeps its expiry and chain.
    parent: Option<Payload>,
    app_cred: Option<AppCred>,
    /// Set by the `oauth1` method: the token is scoped to its project.
    access_token: Option<AccessToken>,
}

impl Identity {
    /// Authenticate a v3 auth body (`{"auth": {...}}`) and return the new,
    /// validated token and its string.
    pub async fn authenticate(&self, body: &Object) -> Result<(String, Arc<Validated>)> {
        self.authenticate_signed(body, None).await
    }

    /// As [`Identity::authenticate`], with the request's OAuth1 signature
    /// for the `oauth1` method.
    pub async fn authenticate_signed(
        &self,
        body: &Object,
        signed: Option<&SignedRequest>,
    ) -> Result<(String, Arc<Validated>)> {
        let auth = obj(body.get("auth"), "auth")?;
        let identity = obj(auth.get("identity"), "auth.identity")?;
        let methods = method_list(&identity)?;
        let requested = requested_scope(auth.get("scope"))?;
        let proven = self.prove(&identity, &methods, signed).await?;
        compliance::check_mfa_rules(&proven.user, &proven.methods)?;
        let trust_id = match &requested {
            Requested::Trust(id) => Some(id.clone()),
            _ => None,
        };
        let scope = self.pick_scope(&proven, requested).await?;
        let now = now_micros();
        let expires_at = match &proven.parent {
            Some(p) => p.expires_at,
            None => now + self.config().token_expiration * 1_000_000,
        };
        let mut payload = Payload::new(
            proven.user.id.clone(),
            &proven.methods,
            scope,
            now,
            expires_at,
        );
        if let Some(parent) = &proven.parent {
            let chain = parent.audit_ids.last().cloned().unwrap_or_default();
            payload.audit_ids = vec![new_audit_id(), chain];
            payload.app_cred_id = parent.app_cred_id.clone();
        }
        payload.trust_id = trust_id.clone();
        payload.access_token_id = proven.access_token.as_ref().map(|a| a.id.clone());
        if let Some(ac) = &proven.app_cred {
            payload.app_cred_id = Some(ac.id.clone());
            if let Some(exp) = ac.expires_at {
                payload.expires_at = payload.expires_at.min(exp);
            }
        }
        let token = payload.seal(&self.keys());
        let generation = self.generation().await?;
        let validated = self
            .resolve(payload)
            .await
            .map_err(|e| match e.status().as_u16() {
                404 => unauthorized(),
                _ => e,
            })?;
        // As Keystone: a use of a limited trust is taken only once the
        // token is known to be good.
        if let Some(id) = &trust_id {
            if !trusts::consume_use(self.db(), id).await? {
                return Err(Error::unauthorized(format!("Could not find trust: {id}.")));
            }
        }
        let validated = Arc::new(validated);
        self.cache()
            .put(&token, generation, now_micros(), validated.clone());
        Ok((token, validated))
    }

    async fn prove(
        &self,
        identity: &Object,
        methods: &[String],
        signed: Option<&SignedRequest>,
    ) -> Result<Proven> {
        let mut proven: Option<Proven> = None;
        for m in methods {
            let p = match m.as_str() {
                "password" => {
                    self.prove_password(obj(identity.get("password"), "password")?)
                        .await?
                }
                "token" => {
                    self.prove_token(obj(identity.get("token"), "token")?)
                        .await?
                }
                "application_credential" => {
                    self.prove_app_cred(obj(
                        identity.get("application_credential"),
                        "application_credential",
                    )?)
                    .await?
                }
                "oauth1" => self.prove_oauth1(signed).await?,
                other => {
                    return Err(Error::unauthorized(format!(
                        "Attempted to authenticate with an unsupported method: {other}"
                    )))
                }
            };
            proven = Some(match proven {
                None => p,
                Some(mut prev) if prev.user.id == p.user.id => {
                    prev.methods.extend(p.methods);
                    prev.parent = prev.parent.or(p.parent);
                    prev.app_cred = prev.app_cred.or(p.app_cred);
                    prev.access_token = prev.access_token.or(p.access_token);
                    prev
                }
                Some(_) => return Err(unauthorized()),
            });
        }
        proven.ok_or_else(unauthorized)
    }

    async fn prove_password(&self, pw: Object) -> Result<Proven> {
        let user_ref = obj(pw.get("user"), "password.user")?;
        let password = user_ref
            .get("password")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::bad_request(
                    "Invalid input for field 'password.user.password': a string is required",
                )
            })?
            .to_owned();
        let mut user = self.find_user(&user_ref).await?.ok_or_else(unauthorized)?;
        compliance::check_not_locked(self, &user).await?;
        let hash = user.password_hash.clone().ok_or_else(unauthorized)?;
        let good = hashing::verify(password, hash).await;
        compliance::after_password_check(self, &user, good).await?;
        if !good {
            return Err(unauthorized());
        }
        compliance::after_good_password(self, &mut user, false).await?;
        self.check_user_usable(&user).await?;
        Ok(Proven {
            user,
            methods: vec!["password".into()],
            parent: None,
            app_cred: None,
            access_token: None,
        })
    }

    async fn prove_token(&self, tok: Object) -> Result<Proven> {
        let id = tok.get("id").and_then(Value::as_str).ok_or_else(|| {
            Error::bad_request("Invalid input for field 'token.id': a string is required")
        })?;
        // As Keystone: a token that is not (or no longer) valid is "not
        // found" (404), not a failed login.
        let v = self
            .validate_token(id, false)
            .await
            .map_err(|e| match e.status().as_u16() {
                404 => e,
                _ => unauthorized(),
            })?;
        if v.payload.app_cred_id.is_some() {
            return Err(Error::forbidden(
                "A token created with an application credential cannot be rescoped.",
            ));
        }
        if v.payload.trust_id.is_some() {
            return Err(Error::forbidden(
                "You are not authorized to perform the requested action: Using trust-scoped token to create another token. Create a new trust-scoped token instead.",
            ));
        }
        if v.payload.access_token_id.is_some() {
            return Err(Error::forbidden(
                "You are not authorized to perform the requested action: Using OAuth-scoped token to create another token. Create a new OAuth-scoped token instead.",
            ));
        }
        let mut methods = v.payload.method_names();
        if !methods.iter().any(|m| m == "token") {
            methods.insert(0, "token".into());
        }
        Ok(Proven {
            user: v.user.clone(),
            methods,
            parent: Some(v.payload.clone()),
            app_cred: None,
            access_token: None,
        })
    }

    async fn prove_app_cred(&self, ac: Object) -> Result<Proven> {
        let secret = ac
            .get("secret")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::bad_request(
                    "Invalid input for field 'application_credential.secret': a string is required",
                )
            })?
            .to_owned();
        let cred = if let Some(id) = ac.get("id").and_then(Value::as_str) {
            app_creds::get(self.db(), id).await?
        } else {
            let name = ac.get("name").and_then(Value::as_str).ok_or_else(|| {
                Error::bad_request(
                    "Invalid input for field 'application_credential': 'id' or 'name' is required",
                )
            })?;
            let user_ref = obj(ac.get("user"), "application_credential.user")?;
            let user = self.find_user(&user_ref).await?.ok_or_else(unauthorized)?;
            app_creds::get_by_name(self.db(), &user.id, name).await?
        };
        let cred = cred.ok_or_else(unauthorized)?;
        if cred.expires_at.is_some_and(|e| e <= now_micros()) {
            return Err(unauthorized());
        }
        if !hashing::verify(secret, cred.secret_hash.clone()).await {
            return Err(unauthorized());
        }
        let user = users::get(self.db(), &cred.user_id)
            .await?
            .ok_or_else(unauthorized)?;
        self.check_user_usable(&user).await?;
        Ok(Proven {
            user,
            methods: vec!["application_credential".into()],
            parent: None,
            app_cred: Some(cred),
            access_token: None,
        })
    }

    /// The `oauth1` method (Keystone's OAuth1 auth plugin): a request
    /// signed with a consumer's secret and an access token's secret proves
    /// the user who authorized that access token.
    async fn prove_oauth1(&self, signed: Option<&SignedRequest>) -> Result<Proven> {
        let signed = signed.ok_or_else(unauthorized)?;
        let params = signed.oauth_params()?;
        let Some(atid) = params.get("oauth_token") else {
            return Err(Error::bad_request(
                "Invalid input for field 'oauth_token': the OAuth header needs it",
            ));
        };
        let at = oauth1::get_access_token(self.db(), atid)
            .await?
            .ok_or_else(|| Error::not_found("Access token not found"))?;
        if at.expired(now_micros()) {
            return Err(Error::unauthorized("Access token is expired"));
        }
        let could_not = || Error::unauthorized("Could not validate the access token");
        if params.get("oauth_consumer_key") != Some(at.consumer_id.as_str()) {
            return Err(could_not());
        }
        let consumer_secret = self
            .consumer_secret(&at.consumer_id)
            .await?
            .ok_or_else(could_not)?;
        let now = now_micros() / 1_000_000;
        // A malformed request is as much a failure to validate here.
        if !signed
            .verify(&params, &consumer_secret, &at.secret, now)
            .map_err(|_| could_not())?
        {
            return Err(could_not());
        }
        let user = users::get(self.db(), &at.authorizing_user_id)
            .await?
            .ok_or_else(unauthorized)?;
        self.check_user_usable(&user).await?;
        Ok(Proven {
            user,
            methods: vec!["oauth1".into()],
            parent: None,
            app_cred: None,
            access_token: Some(at),
        })
    }

    async fn check_user_usable(&self, user: &User) -> Result<()> {
        let domain = domains::get(self.db(), &user.domain_id).await?;
        if !compliance::user_enabled(self, user) || !domain.is_some_and(|d| d.enabled) {
            return Err(unauthorized());
        }
        Ok(())
    }

    /// A user reference `{"id"}` or `{"name", "domain": {"id"|"name"}}`.
    pub(crate) async fn find_user(&self, r: &Object) -> Result<Option<User>> {
        if let Some(id) = r.get("id") {
            let id = id.as_str().ok_or_else(|| {
                Error::bad_request("Invalid input for field 'user.id': not a string")
            })?;
            return Ok(users::get(self.db(), id).await?);
        }
        let name = r.get("name").and_then(Value::as_str).ok_or_else(|| {
            Error::bad_request("Invalid input for field 'user': 'id' or 'name' is required")
        })?;
        let Some(domain) = self.find_domain(r.get("domain"), "user.domain").await? else {
            return Ok(None);
        };
        Ok(users::get_by_name(self.db(), &domain.id, name).await?)
    }

    /// A domain reference `{"id"}` or `{"name"}`; `None` if it does not exist.
    pub(crate) async fn find_domain(
        &self,
        v: Option<&Value>,
        field: &str,
    ) -> Result<Option<Domain>> {
        let d = obj(v, field)?;
        if let Some(id) = d.get("id").and_then(Value::as_str) {
            return Ok(domains::get(self.db(), id).await?);
        }
        if let Some(name) = d.get("name").and_then(Value::as_str) {
            return Ok(domains::get_by_name(self.db(), name).await?);
        }
        Err(Error::bad_request(format!(
            "Invalid input for field '{field}': 'id' or 'name' is required"
        )))
    }

    /// The scope a token from trust `id` gets: the trust's project. A trust
    /// that is gone, expired or used up answers 401, as Keystone does.
    async fn trust_scope(&self, id: &str) -> Result<Scope> {
        let trust = self
            .usable_trust(id, true)
            .await
            .map_err(|e| match e.status().as_u16() {
                404 => Error::unauthorized(format!("Could not find trust: {id}.")),
                _ => e,
            })?;
        let Some(pid) = &trust.project_id else {
            return Err(Error::unauthorized(format!(
                "Trust {id} names no project to scope a token to."
            )));
        };
        match projects::get(self.db(), pid).await? {
            Some(p) if p.enabled => Ok(Scope::Project(p.id)),
            _ => Err(unauthorized()),
        }
    }

    async fn pick_scope(&self, proven: &Proven, requested: Requested) -> Result<Scope> {
        // As Keystone: an OAuth1 token is scoped to its access token's
        // project, whatever else was asked.
        if let Some(at) = &proven.access_token {
            return match projects::get(self.db(), &at.project_id).await? {
                Some(p) if p.enabled => Ok(Scope::Project(p.id)),
                _ => Err(unauthorized()),
            };
        }
        if let Some(ac) = &proven.app_cred {
            if !matches!(requested, Requested::None) {
                return Err(Error::unauthorized(
                    "Application credentials cannot request a scope.",
                ));
            }
            return Ok(Scope::Project(ac.project_id.clone()));
        }
        match requested {
            Requested::System => Ok(Scope::System),
            Requested::Unscoped => Ok(Scope::Unscoped),
            Requested::Domain(d) => {
                let dom = self
                    .find_domain(Some(&Value::Object(d)), "scope.domain")
                    .await?
                    .ok_or_else(unauthorized)?;
                Ok(Scope::Domain(dom.id))
            }
            Requested::Project(p) => {
                let project = if let Some(id) = p.get("id").and_then(Value::as_str) {
                    projects::get(self.db(), id).await?
                } else {
                    let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
                        Error::bad_request(
                            "Invalid input for field 'scope.project': 'id' or 'name' is required",
                        )
                    })?;
                    match self
                        .find_domain(p.get("domain"), "scope.project.domain")
                        .await?
                    {
                        Some(d) => projects::get_by_name(self.db(), &d.id, name).await?,
                        None => None,
                    }
                };
                let project = project.ok_or_else(unauthorized)?;
                Ok(Scope::Project(project.id))
            }
            Requested::None => self.default_scope(proven).await,
            Requested::Trust(id) => self.trust_scope(&id).await,
        }
    }

    /// No scope asked for: a rescoped token is unscoped; a login goes to the
    /// user's default project when the user has a role there (as upstream).
    async fn default_scope(&self, proven: &Proven) -> Result<Scope> {
        if proven.parent.is_some() {
            return Ok(Scope::Unscoped);
        }
        let Some(pid) = &proven.user.default_project_id else {
            return Ok(Scope::Unscoped);
        };
        let scope = Scope::Project(pid.clone());
        let enabled = projects::get(self.db(), pid)
            .await?
            .is_some_and(|p| p.enabled);
        if enabled
            && !super::roles::direct_role_ids(self.db(), &proven.user.id, &scope)
                .await?
                .is_empty()
        {
            return Ok(scope);
        }
        Ok(Scope::Unscoped)
    }
}

fn obj(v: Option<&Value>, field: &str) -> Result<Object> {
    match v {
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(Error::bad_request(format!(
            "Invalid input for field '{field}': must be an object"
        ))),
        None => Err(Error::bad_request(format!(
            "Invalid input for field '{field}': is a required property"
        ))),
    }
}

fn method_list(identity: &Object) -> Result<Vec<String>> {
    let list = identity
        .get("methods")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::bad_request("Invalid input for field 'identity.methods': a list is required")
        })?;
    let mut out = Vec::new();
    for m in list {
        let m = m.as_str().ok_or_else(|| {
            Error::bad_request("Invalid input for field 'identity.methods': strings only")
        })?;
        if !out.iter().any(|x| x == m) {
            out.push(m.to_owned());
        }
    }
    if out.is_empty() {
        return Err(Error::bad_request(
            "Invalid input for field 'identity.methods': empty",
        ));
    }
    Ok(out)
}

fn requested_scope(v: Option<&Value>) -> Result<Requested> {
    let scope = match v {
        None | Some(Value::Null) => return Ok(Requested::None),
        Some(Value::String(s)) if s == "unscoped" => return Ok(Requested::Unscoped),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(Error::bad_request(
                "Invalid input for field 'scope': must be an object",
            ))
        }
    };
    let kinds = ["project", "domain", "system", "OS-TRUST:trust"];
    if kinds.iter().filter(|k| scope.contains_key(**k)).count() > 1 {
        return Err(Error::bad_request(
            "Invalid input for field 'scope': only one of project, domain, system and OS-TRUST:trust",
        ));
    }
    if let Some(p) = scope.get("project") {
        let p = obj(Some(p), "scope.project")?;
        check_ref(&p, "scope.project")?;
        if !p.contains_key("id") {
            let d = obj(p.get("domain"), "scope.project.domain")?;
            check_ref(&d, "scope.project.domain")?;
        }
        return Ok(Requested::Project(p));
    }
    if let Some(d) = scope.get("domain") {
        let d = obj(Some(d), "scope.domain")?;
        check_ref(&d, "scope.domain")?;
        return Ok(Requested::Domain(d));
    }
    if let Some(s) = scope.get("system") {
        return match s.get("all") {
            Some(Value::Bool(true)) => Ok(Requested::System),
            _ => Err(Error::bad_request(
                "Invalid input for field 'scope.system': only {\"all\": true} is supported",
            )),
        };
    }
    if let Some(t) = scope.get("OS-TRUST:trust") {
        let t = obj(Some(t), "scope.OS-TRUST:trust")?;
        return match t.get("id") {
            Some(Value::String(id)) if !id.is_empty() => Ok(Requested::Trust(id.clone())),
            Some(_) => Err(Error::bad_request(
                "Invalid input for field 'scope.OS-TRUST:trust.id': a non-empty string is required",
            )),
            None => Err(Error::bad_request(
                "Invalid input for field 'scope.OS-TRUST:trust': 'id' is required",
            )),
        };
    }
    Err(Error::bad_request(
        "Invalid input for field 'scope': project, domain or system is required",
    ))
}

/// A reference needs a string `id` or a string `name`.
fn check_ref(r: &Object, field: &str) -> Result<()> {
    for key in ["id", "name"] {
        if let Some(v) = r.get(key) {
            if !v.is_string() || v.as_str().is_some_and(str::is_empty) {
                return Err(Error::bad_request(format!(
                    "Invalid input for field '{field}.{key}': a string is required"
                )));
            }
        }
    }
    if !r.contains_key("id") && !r.contains_key("name") {
        return Err(Error::bad_request(format!(
            "Invalid input for field '{field}': 'id' or 'name' is required"
        )));
    }
    Ok(())
}
