//! `/v3/users/{user_id}/application_credentials`: a user delegates some of
//! their roles on the current project to a secret they can hand to a tool.

use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine;
use ferro_api::time::{iso_naive_micros, now_micros, parse_iso};
use ferro_api::{AuthContext, BaseUrl};
use rand::RngCore;
use serde_json::{json, Value};

use super::common::{collection, created, no_content, ok, Body, Ctx, Filters, QueryParams};
use crate::error::{Error, Result};
use crate::service::{hashing, roles};
use crate::store::access_rules::{self as access_rule_store, AccessRule};
use crate::store::app_creds::{self, AppCred};
use crate::store::new_id;
use crate::token::Scope;
use crate::validate::{self as v};
use crate::{policy, Identity};

fn render(a: &AppCred, base: &BaseUrl) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "user_id": a.user_id,
        "project_id": a.project_id,
        "roles": a.roles,
        "expires_at": a.expires_at.map(iso_naive_micros),
        "unrestricted": a.unrestricted,
        "system": null,
        "access_rules": a.access_rules,
        "links": {"self": base.join(&format!("/v3/application_credentials/{}", a.id))},
    })
}

/// A trust-scoped token may not list, read, make or delete application
/// credentials (Keystone: they would outlive the delegation).
pub(super) fn not_delegated(ctx: &AuthContext) -> Result<()> {
    if ctx.trust_id.is_some() {
        return Err(Error::forbidden(
            "Cannot manage application credentials with a token issued via delegation.",
        ));
    }
    Ok(())
}

async fn load(id: &Identity, uid: &str, aid: &str) -> Result<AppCred> {
    match app_creds::get(id.db(), aid).await? {
        Some(a) if a.user_id == uid => Ok(a),
        _ => Err(Error::no_such("application credential", aid)),
    }
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    q: QueryParams,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:list_application_credentials", &uid)?;
    not_delegated(&ctx)?;
    let items = app_creds::list_for_user(id.db(), &uid)
        .await?
        .iter()
        .map(|a| render(a, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["name"]);
    Ok(collection(
        "application_credentials",
        items,
        &base.join(&format!("/v3/users/{uid}/application_credentials")),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((uid, aid)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:get_application_credential", &uid)?;
    not_delegated(&ctx)?;
    Ok(ok(
        json!({"application_credential": render(&load(&id, &uid, &aid).await?, &base)}),
    ))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((uid, aid)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:delete_application_credential", &uid)?;
    not_delegated(&ctx)?;
    load(&id, &uid, &aid).await?;
    app_creds::delete(id.db(), &aid).await?;
    Ok(no_content())
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    body: Body,
) -> Result<Response> {
    if ctx.user_id != uid {
        return Err(Error::forbidden(
            "You are not authorized to perform the requested action: identity:create_application_credential.",
        ));
    }
    not_delegated(&ctx)?;
    let project_id = ctx.project_id.clone().ok_or_else(|| {
        Error::forbidden(
            "An application credential can only be created with a project-scoped token.",
        )
    })?;
    if let Some(ac) = &ctx.application_credential_id {
        let parent = app_creds::get(id.db(), ac).await?;
        if !parent.is_some_and(|p| p.unrestricted) {
            return Err(Error::forbidden(
                "A restricted application credential cannot create another one.",
            ));
        }
    }
    let req = v::wrapped_only(&body.object()?, "application_credential")?;
    // Every field is checked before anything is looked up or stored.
    if let Some(k) = req.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'application_credential': additional properties are not \
             allowed ('{k}' was unexpected)"
        )));
    }
    let name = v::req_str(&req, "name", 255)?;
    // An empty secret, as a missing one, asks for a generated one.
    let secret = match v::opt_str(&req, "secret", 4096)? {
        Some(s) if !s.is_empty() => s,
        _ => new_secret(),
    };
    let description = v::opt_str(&req, "description", 65535)?;
    let unrestricted = match req.get("unrestricted") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field 'unrestricted': {other} is not of type 'boolean', 'null'"
            )))
        }
    };
    v::opt_str(&req, "project_id", 64)?;
    v::opt_str(&req, "system", 64)?;
    let expires_at = match v::opt_str(&req, "expires_at", 64)? {
        Some(s) => Some(parse_iso(&s).ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid input for field 'expires_at': {s:?} is not a timestamp"
            ))
        })?),
        None => None,
    };
    if expires_at.is_some_and(|e| e <= now_micros()) {
        return Err(Error::bad_request(
            "Invalid input for field 'expires_at': it is in the past",
        ));
    }
    let requested_roles = match req.get("roles") {
        None => None,
        Some(Value::Array(l)) => Some(
            l.iter()
                .map(|r| super::trusts::role_ref(r, "roles"))
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field 'roles': {other} is not of type 'array'"
            )))
        }
    };
    let requested_rules = rule_requests(req.get("access_rules"))?;

    let granted = granted_roles(&id, &ctx, &project_id, requested_roles).await?;
    if app_creds::get_by_name(id.db(), &uid, &name)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {name}"
        )));
    }
    let access_rules = access_rules(&id, &uid, requested_rules).await?;
    let a = AppCred {
        id: new_id(),
        name,
        user_id: uid,
        project_id,
        secret_hash: hashing::hash(secret.clone(), id.config().password_hash_rounds).await?,
        description,
        expires_at,
        unrestricted,
        roles: json!(granted),
        access_rules,
        created_at: now_micros(),
    };
    app_creds::create(id.db(), &a).await?;
    let mut out = render(&a, &base);
    out["secret"] = json!(secret);
    Ok(created(json!({"application_credential": out})))
}

/// The fields of a new application credential (Keystone's schema allows no
/// others; `id`, `project_id` and `system` are taken and ignored).
const CREATE_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "secret",
    "expires_at",
    "roles",
    "access_rules",
    "unrestricted",
    "project_id",
    "system",
];

/// The roles to delegate: those requested (by id or name), each of which the
/// user must hold on the project now; by default all the user holds there.
/// As Keystone: a role not held is a validation error (400), a role name
/// nothing has is not found (404).
async fn granted_roles(
    id: &Identity,
    ctx: &AuthContext,
    project_id: &str,
    requested: Option<Vec<(Option<String>, Option<String>)>>,
) -> Result<Vec<Value>> {
    let held = roles::effective(
        id.db(),
        &ctx.user_id,
        &Scope::Project(project_id.to_owned()),
    )
    .await?;
    let as_json = |r: &crate::store::roles::Role| json!({"id": r.id, "name": r.name, "domain_id": r.domain_id});
    let list = match requested {
        Some(l) if !l.is_empty() => l,
        _ => {
            return Ok(held
                .iter()
                .filter(|r| ctx.role_ids.contains(&r.id))
                .map(as_json)
                .collect());
        }
    };
    let mut out = Vec::new();
    for (rid, rname) in list {
        let found = held.iter().find(|h| match (&rid, &rname) {
            (Some(i), _) => h.id == *i,
            (None, Some(n)) => h.name == *n,
            (None, None) => false,
        });
        let Some(found) = found else {
            if let (None, Some(n)) = (&rid, &rname) {
                if crate::store::roles::get_global_by_name(id.db(), n)
                    .await?
                    .is_none()
                {
                    return Err(Error::no_such("role", n));
                }
            }
            return Err(Error::bad_request(
                "Invalid application credential: Cannot create an application credential with \
                 unassigned role",
            ));
        };
        if !out.iter().any(|o: &Value| o["id"] == json!(found.id)) {
            out.push(as_json(found));
        }
    }
    Ok(out)
}

/// One requested access rule: an existing one of the user's by id, or one
/// by service, path and method.
enum RuleRequest {
    Id(String),
    Rule {
        service: String,
        path: String,
        method: String,
    },
}

/// The `access_rules` of a create body, checked as Keystone's schema does.
fn rule_requests(requested: Option<&Value>) -> Result<Vec<RuleRequest>> {
    let list = match requested {
        None => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field 'access_rules': {other} is not of type 'array'"
            )))
        }
    };
    let mut out = Vec::new();
    for r in list {
        let m = r.as_object().ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid input for field 'access_rules': {r} is not of type 'object'"
            ))
        })?;
        let service = m
            .get("service")
            .map(|s| {
                v::id_string(s, "access_rules.service").map_err(|_| {
                    rule_field(
                        "service",
                        "a string of letters, digits and dashes (1 to 64)",
                    )
                })
            })
            .transpose()?;
        let path = match m.get("path") {
            None => None,
            Some(Value::String(p)) if p.starts_with('/') && p.chars().count() <= 225 => {
                Some(p.clone())
            }
            Some(_) => {
                return Err(rule_field(
                    "path",
                    "a string starting with '/', at most 225 characters",
                ))
            }
        };
        let method = match m.get("method") {
            None => None,
            Some(Value::String(x))
                if ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"].contains(&x.as_str()) =>
            {
                Some(x.clone())
            }
            Some(_) => {
                return Err(rule_field(
                    "method",
                    "one of DELETE, GET, HEAD, PATCH, POST, PUT",
                ))
            }
        };
        if let Some(rid) = m.get("id") {
            out.push(RuleRequest::Id(v::id_string(rid, "access_rules.id")?));
            continue;
        }
        out.push(RuleRequest::Rule {
            service: service.ok_or_else(|| rule_field("service", "a service type"))?,
            path: path.ok_or_else(|| rule_field("path", "a path"))?,
            method: method.ok_or_else(|| rule_field("method", "a method"))?,
        });
    }
    Ok(out)
}

/// The `access_rules` of a new application credential: each one the user's
/// existing rule named by `id`, or the user's rule for that service, path
/// and method, made if new (Keystone keeps one rule per user for each).
/// Every rule is resolved before any new one is stored.
async fn access_rules(id: &Identity, uid: &str, requested: Vec<RuleRequest>) -> Result<Value> {
    let mut rules: Vec<(AccessRule, bool)> = Vec::new();
    for req in requested {
        let (rule, new) = match req {
            RuleRequest::Id(rid) => match access_rule_store::get(id.db(), &rid).await? {
                Some(found) if found.user_id == uid => (found, false),
                _ => return Err(Error::no_such("access rule", &rid)),
            },
            RuleRequest::Rule {
                service,
                path,
                method,
            } => {
                let pending = rules
                    .iter()
                    .find(|(r, _)| r.service == service && r.path == path && r.method == method);
                if let Some((r, _)) = pending {
                    (r.clone(), false)
                } else {
                    match access_rule_store::find(id.db(), uid, &service, &path, &method).await? {
                        Some(found) => (found, false),
                        None => (
                            AccessRule {
                                id: new_id(),
                                user_id: uid.to_owned(),
                                service,
                                path,
                                method,
                            },
                            true,
                        ),
                    }
                }
            }
        };
        rules.push((rule, new));
    }
    let now = now_micros();
    let mut out: Vec<Value> = Vec::new();
    for (rule, new) in rules {
        if new {
            access_rule_store::create(id.db(), &rule, now).await?;
        }
        let shown = json!({"id": rule.id, "service": rule.service, "path": rule.path, "method": rule.method});
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    Ok(json!(out))
}

fn rule_field(field: &str, what: &str) -> Error {
    Error::bad_request(format!(
        "Invalid input for field 'access_rules.{field}': {what} is required"
    ))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
