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
    let req = v::wrapped(&body.object()?, "application_credential")?;
    let name = v::req_str(&req, "name", 255)?;
    let secret = match v::opt_nonempty_str(&req, "secret", 4096)? {
        Some(s) => s,
        None => new_secret(),
    };
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
    let granted = granted_roles(&id, &ctx, &project_id, req.get("roles")).await?;
    if app_creds::get_by_name(id.db(), &uid, &name)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {name}"
        )));
    }
    let access_rules = access_rules(&id, &uid, req.get("access_rules")).await?;
    let a = AppCred {
        id: new_id(),
        name,
        user_id: uid,
        project_id,
        secret_hash: hashing::hash(secret.clone(), id.config().password_hash_rounds).await?,
        description: v::opt_str(&req, "description", 65535)?,
        expires_at,
        unrestricted: v::opt_bool(&req, "unrestricted")?.unwrap_or(false),
        roles: json!(granted),
        access_rules,
        created_at: now_micros(),
    };
    app_creds::create(id.db(), &a).await?;
    let mut out = render(&a, &base);
    out["secret"] = json!(secret);
    Ok(created(json!({"application_credential": out})))
}

/// The roles to delegate: those requested (by id or name), each of which the
/// user must hold on the project now; by default all the user holds there.
async fn granted_roles(
    id: &Identity,
    ctx: &AuthContext,
    project_id: &str,
    requested: Option<&Value>,
) -> Result<Vec<Value>> {
    let held = roles::effective(
        id.db(),
        &ctx.user_id,
        &Scope::Project(project_id.to_owned()),
    )
    .await?;
    let as_json = |r: &crate::store::roles::Role| json!({"id": r.id, "name": r.name, "domain_id": r.domain_id});
    let list = match requested {
        Some(Value::Array(l)) if !l.is_empty() => l,
        None | Some(Value::Null) | Some(Value::Array(_)) => {
            return Ok(held
                .iter()
                .filter(|r| ctx.role_ids.contains(&r.id))
                .map(as_json)
                .collect());
        }
        Some(_) => {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': must be a list",
            ))
        }
    };
    let mut out = Vec::new();
    for r in list {
        let rid = r.get("id").and_then(Value::as_str);
        let rname = r.get("name").and_then(Value::as_str);
        if rid.is_none() && rname.is_none() {
            return Err(Error::bad_request(
                "Invalid input for field 'roles': each role needs 'id' or 'name'",
            ));
        }
        let found = held
            .iter()
            .find(|h| Some(h.id.as_str()) == rid || (rid.is_none() && Some(h.name.as_str()) == rname))
            .ok_or_else(|| Error::forbidden("A role requested for the application credential is not held by the user on the project."))?;
        if !out.iter().any(|o: &Value| o["id"] == json!(found.id)) {
            out.push(as_json(found));
        }
    }
    Ok(out)
}

/// The `access_rules` of a new application credential: each one the user's
/// existing rule named by `id`, or the user's rule for that service, path
/// and method, made if new (Keystone keeps one rule per user for each).
async fn access_rules(id: &Identity, uid: &str, requested: Option<&Value>) -> Result<Value> {
    let list = match requested {
        None | Some(Value::Null) => return Ok(json!([])),
        Some(Value::Array(l)) => l,
        Some(_) => {
            return Err(Error::bad_request(
                "Invalid input for field 'access_rules': must be a list",
            ))
        }
    };
    let mut out: Vec<Value> = Vec::new();
    for r in list {
        let m = r.as_object().ok_or_else(|| {
            Error::bad_request("Invalid input for field 'access_rules': each rule is an object")
        })?;
        let rule = match m.get("id") {
            Some(Value::String(rid)) => match access_rule_store::get(id.db(), rid).await? {
                Some(found) if found.user_id == uid => found,
                _ => return Err(Error::no_such("access rule", rid)),
            },
            Some(_) => {
                return Err(Error::bad_request(
                    "Invalid input for field 'access_rules.id': a string is required",
                ))
            }
            None => {
                let service = v::req_str(m, "service", 64).map_err(|_| {
                    rule_field("service", "a non-empty string of at most 64 characters")
                })?;
                let path = match m.get("path") {
                    Some(Value::String(p)) if p.starts_with('/') && p.chars().count() <= 225 => {
                        p.clone()
                    }
                    _ => {
                        return Err(rule_field(
                            "path",
                            "a string starting with '/', at most 225 characters",
                        ))
                    }
                };
                let method = match m.get("method").and_then(Value::as_str) {
                    Some(x @ ("DELETE" | "GET" | "HEAD" | "PATCH" | "POST" | "PUT")) => {
                        x.to_owned()
                    }
                    _ => {
                        return Err(rule_field(
                            "method",
                            "one of DELETE, GET, HEAD, PATCH, POST, PUT",
                        ))
                    }
                };
                match access_rule_store::find(id.db(), uid, &service, &path, &method).await? {
                    Some(found) => found,
                    None => {
                        let made = AccessRule {
                            id: new_id(),
                            user_id: uid.to_owned(),
                            service,
                            path,
                            method,
                        };
                        access_rule_store::create(id.db(), &made, now_micros()).await?;
                        made
                    }
                }
            }
        };
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
