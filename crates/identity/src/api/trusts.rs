//! `/v3/OS-TRUST/trusts`: a trustor delegates roles on a project to a
//! trustee, who can then get tokens from the trust (`service/trusts.rs`,
//! `service/auth.rs`).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{iso_micros, now_micros, parse_iso};
use ferro_api::{AuthContext, BaseUrl};
use serde_json::{json, Value};

use super::common::{collection, created, no_content, ok, Body, Ctx, QueryParams};
use crate::error::{Error, Result};
use crate::service::trusts::{check_redelegation, MAX_REDELEGATION_COUNT};
use crate::store::new_id;
use crate::store::roles::{self, Role};
use crate::store::trusts::{self, Trust};
use crate::store::{projects, users};
use crate::validate::{self as v, Object};
use crate::Identity;

/// Fields of the create body that are not kept as extras.
const KNOWN: &[&str] = &[
    "id",
    "trustor_user_id",
    "trustee_user_id",
    "project_id",
    "impersonation",
    "expires_at",
    "remaining_uses",
    "allow_redelegation",
    "redelegation_count",
    "redelegated_trust_id",
    "roles",
    "roles_links",
    "links",
    "deleted_at",
];

fn deny(rule: &str) -> Error {
    Error::forbidden(format!(
        "You are not authorized to perform the requested action: {rule}."
    ))
}

/// Keystone refuses every trust call made with an application credential.
fn no_app_cred(ctx: &AuthContext) -> Result<()> {
    if ctx.methods.iter().any(|m| m == "application_credential") {
        return Err(deny(
            "Using method 'application_credential' is not allowed for managing trusts",
        ));
    }
    Ok(())
}

fn admin_or_reader(ctx: &AuthContext) -> bool {
    ctx.is_admin() || ctx.is_system_reader()
}

/// Reading one trust: admins, system readers, its trustor and trustee.
fn may_read(ctx: &AuthContext, t: &Trust, rule: &str) -> Result<()> {
    if admin_or_reader(ctx) || ctx.user_id == t.trustor_user_id || ctx.user_id == t.trustee_user_id
    {
        Ok(())
    } else {
        Err(deny(rule))
    }
}

fn render_role(r: &Role, base: &BaseUrl) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "domain_id": r.domain_id,
        "description": r.description,
        "options": r.options,
        "links": {"self": base.join(&format!("/v3/roles/{}", r.id))},
    })
}

/// A trust as Keystone shows it; `roles` only for a single trust.
fn render(t: &Trust, roles: Option<&[Role]>, base: &BaseUrl) -> Value {
    let mut out = json!({
        "id": t.id,
        "trustor_user_id": t.trustor_user_id,
        "trustee_user_id": t.trustee_user_id,
        "project_id": t.project_id,
        "impersonation": t.impersonation,
        "expires_at": t.expires_at.map(iso_micros),
        "remaining_uses": t.remaining_uses,
        "redelegated_trust_id": t.redelegated_trust_id,
        "redelegation_count": t.redelegation_count,
        "deleted_at": null,
        "links": {"self": base.join(&format!("/v3/OS-TRUST/trusts/{}", t.id))},
    });
    if let Some(roles) = roles {
        out["roles"] = json!(roles
            .iter()
            .map(|r| render_role(r, base))
            .collect::<Vec<_>>());
        out["roles_links"] = roles_links(t, base);
    }
    if let Value::Object(m) = &mut out {
        for (k, v) in &t.extra {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

/// Keystone's link for a trust's roles (its own odd path, kept as is).
fn roles_links(t: &Trust, base: &BaseUrl) -> Value {
    json!({
        "self": base.join(&format!("/v3/{}/roles", t.id)),
        "previous": null,
        "next": null,
    })
}

/// The trust's roles that still exist, by name.
async fn trust_roles(id: &Identity, t: &Trust) -> Result<Vec<Role>> {
    let mut out: Vec<Role> = roles::list(id.db())
        .await?
        .into_iter()
        .filter(|r| t.role_ids.contains(&r.id))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let get = |key: &str| q.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let (trustor, trustee) = (get("trustor_user_id"), get("trustee_user_id"));
    if let Some(t) = &trustor {
        if !admin_or_reader(&ctx) && ctx.user_id != *t {
            return Err(deny("identity:list_trusts_for_trustor"));
        }
    } else if let Some(t) = &trustee {
        if !admin_or_reader(&ctx) && ctx.user_id != *t {
            return Err(deny("identity:list_trusts_for_trustee"));
        }
    } else if !admin_or_reader(&ctx) {
        return Err(deny("identity:list_trusts"));
    }
    no_app_cred(&ctx)?;
    // As Keystone: the trustor filter wins over the trustee one, and other
    // query parameters alone match nothing.
    let found = match (&trustor, &trustee) {
        (Some(t), _) => trusts::list(id.db(), Some(t), None).await?,
        (None, Some(t)) => trusts::list(id.db(), None, Some(t)).await?,
        (None, None) if q.0.is_empty() => trusts::list(id.db(), None, None).await?,
        (None, None) => Vec::new(),
    };
    let items = found.iter().map(|t| render(t, None, &base)).collect();
    Ok(collection(
        "trusts",
        items,
        &base.join("/v3/OS-TRUST/trusts"),
    ))
}

/// A trust that can be used (404 otherwise, before any policy check, as
/// Keystone answers).
async fn load(id: &Identity, trust_id: &str) -> Result<Trust> {
    id.usable_trust(trust_id, true).await
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(tid): Path<String>,
) -> Result<Response> {
    let t = load(&id, &tid).await?;
    may_read(&ctx, &t, "identity:get_trust")?;
    no_app_cred(&ctx)?;
    let roles = trust_roles(&id, &t).await?;
    Ok(ok(json!({"trust": render(&t, Some(&roles), &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(tid): Path<String>,
) -> Result<Response> {
    let t = load(&id, &tid).await?;
    if !ctx.is_admin() && ctx.user_id != t.trustor_user_id {
        return Err(deny("identity:delete_trust"));
    }
    no_app_cred(&ctx)?;
    id.delete_trust(&t).await?;
    Ok(no_content())
}

pub async fn list_roles(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(tid): Path<String>,
) -> Result<Response> {
    let t = load(&id, &tid).await?;
    may_read(&ctx, &t, "identity:list_roles_for_trust")?;
    no_app_cred(&ctx)?;
    let roles = trust_roles(&id, &t).await?;
    Ok(ok(json!({
        "roles": roles.iter().map(|r| render_role(r, &base)).collect::<Vec<_>>(),
        "links": roles_links(&t, &base),
    })))
}

pub async fn show_role(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((tid, rid)): Path<(String, String)>,
) -> Result<Response> {
    let t = load(&id, &tid).await?;
    may_read(&ctx, &t, "identity:get_role_for_trust")?;
    no_app_cred(&ctx)?;
    if !t.role_ids.contains(&rid) {
        return Err(Error::no_such("role", &rid));
    }
    let role = roles::get(id.db(), &rid)
        .await?
        .ok_or_else(|| Error::no_such("role", &rid))?;
    Ok(ok(json!({"role": render_role(&role, &base)})))
}

fn invalid(field: &str, why: &str) -> Error {
    Error::bad_request(format!("Invalid input for field '{field}': {why}"))
}

/// A required string (empty allowed, as Keystone's schema).
fn req_string(t: &Object, field: &str) -> Result<String> {
    match t.get(field) {
        None => Err(invalid(field, "is a required property")),
        Some(Value::String(s)) if s.len() <= 64 => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(field, "is longer than 64 characters")),
        Some(other) => Err(invalid(field, &format!("{other} is not of type 'string'"))),
    }
}

/// An optional integer (null allowed) of at least `min`.
fn opt_int(t: &Object, field: &str, min: i64) -> Result<Option<i64>> {
    match t.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if i >= min => Ok(Some(i)),
            Some(i) => Err(invalid(
                field,
                &format!("{i} is less than the minimum of {min}"),
            )),
            None => Err(invalid(field, &format!("{n} is not of type 'integer'"))),
        },
        Some(other) => Err(invalid(
            field,
            &format!("{other} is not of type 'integer', 'null'"),
        )),
    }
}

/// A role as the create body names it.
enum RoleRef {
    Id(String),
    Name(String),
}

/// `roles`: a list of `{"id": ...}` or `{"name": ...}` (the schema check).
fn role_refs(t: &Object) -> Result<Vec<RoleRef>> {
    let list = match t.get("roles") {
        None => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(other) => return Err(invalid("roles", &format!("{other} is not of type 'array'"))),
    };
    list.iter()
        .map(|r| match role_ref(r, "roles")? {
            (Some(id), None) => Ok(RoleRef::Id(id)),
            (None, Some(name)) => Ok(RoleRef::Name(name)),
            _ => Err(invalid("roles", "each role names an 'id' or a 'name'")),
        })
        .collect()
}

/// One role of a trust's or an application credential's `roles`: an
/// object with exactly one of a well-formed `id` or a `name` (Keystone's
/// schema), as (id, name).
pub(super) fn role_ref(r: &Value, field: &str) -> Result<(Option<String>, Option<String>)> {
    let one_of = || {
        invalid(
            field,
            &format!("{r}: each role is an object with exactly one of 'id' or 'name'"),
        )
    };
    let m = r.as_object().filter(|m| m.len() == 1).ok_or_else(one_of)?;
    match (m.get("id"), m.get("name")) {
        (Some(id), None) => Ok((Some(v::id_string(id, &format!("{field}.id"))?), None)),
        (None, Some(name)) => Ok((None, Some(v::name_value(name, &format!("{field}.name"))?))),
        _ => Err(one_of()),
    }
}

/// The role ids named, names looked up among the global roles (404 for an
/// unknown name), duplicates dropped.
async fn resolve_roles(id: &Identity, refs: Vec<RoleRef>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in refs {
        let role_id = match r {
            RoleRef::Id(rid) => rid,
            RoleRef::Name(name) => {
                roles::get_global_by_name(id.db(), &name)
                    .await?
                    .ok_or_else(|| Error::no_such("role", &name))?
                    .id
            }
        };
        if !out.contains(&role_id) {
            out.push(role_id);
        }
    }
    Ok(out)
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    let body = body.object()?;
    if let Some(k) = body.keys().find(|k| *k != "trust") {
        return Err(Error::bad_request(format!(
            "Invalid input: additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let req = v::wrapped(&body, "trust")?;
    let trustor = req_string(&req, "trustor_user_id")?;
    let trustee = req_string(&req, "trustee_user_id")?;
    let impersonation = match req.get("impersonation") {
        Some(Value::Bool(b)) => *b,
        None => return Err(invalid("impersonation", "is a required property")),
        Some(other) => {
            return Err(invalid(
                "impersonation",
                &format!("{other} is not of type 'boolean'"),
            ))
        }
    };
    let project_id = v::opt_str(&req, "project_id", 64)?;
    let remaining_uses = opt_int(&req, "remaining_uses", 1)?;
    let redelegation_count = opt_int(&req, "redelegation_count", 0)?;
    let allow_redelegation = match req.get("allow_redelegation") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(invalid(
                "allow_redelegation",
                &format!("{other} is not of type 'boolean', 'null'"),
            ))
        }
    };
    let expires_raw = v::opt_str(&req, "expires_at", 64)?;
    v::opt_str(&req, "redelegated_trust_id", 64)?;
    let role_refs = role_refs(&req)?;

    // The caller must be the trustor (policy identity:create_trust).
    if ctx.user_id != trustor {
        return Err(deny("identity:create_trust"));
    }
    no_app_cred(&ctx)?;
    if project_id.as_deref().is_some_and(|p| !p.is_empty()) && role_refs.is_empty() {
        return Err(deny("At least one role should be specified"));
    }
    users::get(id.db(), &trustee)
        .await?
        .ok_or_else(|| Error::no_such("user", &trustee))?;
    let role_ids = resolve_roles(&id, role_refs).await?;
    // Every role must be one the trustor holds on the project (none may be
    // asked for without a project).
    let held: BTreeSet<String> = match project_id.as_deref().filter(|p| !p.is_empty()) {
        Some(pid) => {
            projects::get(id.db(), pid)
                .await?
                .ok_or_else(|| Error::no_such("project", pid))?;
            id.delegable_role_ids(&trustor, pid).await?
        }
        None => BTreeSet::new(),
    };
    if let Some(missing) = role_ids.iter().find(|r| !held.contains(*r)) {
        return Err(Error::no_such("role", missing));
    }
    let expires_at = match expires_raw {
        Some(s) => {
            let at = parse_iso(&s).ok_or_else(|| {
                Error::bad_request(format!(
                    "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error. (expires_at: {s:?})"
                ))
            })?;
            if at < now_micros() {
                return Err(Error::bad_request(
                    "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
                ));
            }
            Some(at)
        }
        None => None,
    };
    // A trust-scoped caller is redelegating its trust.
    let parent = match &ctx.trust_id {
        Some(tid) => Some(id.usable_trust(tid, true).await?),
        None => None,
    };
    let mut t = Trust {
        id: new_id(),
        trustor_user_id: trustor,
        trustee_user_id: trustee,
        project_id,
        impersonation,
        expires_at,
        remaining_uses,
        redelegated_trust_id: None,
        redelegation_count,
        extra: v::extras(&req, KNOWN),
        role_ids,
    };
    redelegation(&id, &mut t, allow_redelegation, parent.as_ref()).await?;
    if trusts::duplicate(id.db(), &t).await? {
        return Err(Error::conflict(
            "Conflict occurred attempting to store trust - Duplicate entry.",
        ));
    }
    trusts::create(id.db(), &t, now_micros()).await?;
    let roles = trust_roles(&id, &t).await?;
    Ok(created(json!({"trust": render(&t, Some(&roles), &base)})))
}

/// Keystone's redelegation rules at creation: the depth a trust may be
/// redelegated to, and when made from a trust (`parent`), the limits every
/// trust above it sets.
async fn redelegation(
    id: &Identity,
    t: &mut Trust,
    allow: bool,
    parent: Option<&Trust>,
) -> Result<()> {
    let requested = t.redelegation_count;
    let redelegatable = allow && requested != Some(0);
    if !redelegatable {
        t.redelegation_count = Some(0);
    } else {
        if let Some(n) = requested.filter(|n| *n > MAX_REDELEGATION_COUNT) {
            return Err(Error::forbidden(format!(
                "Requested redelegation depth of {n} is greater than allowed {MAX_REDELEGATION_COUNT}"
            )));
        }
        if t.remaining_uses.is_some() {
            return Err(Error::bad_request(
                "remaining_uses must not be set if redelegation is allowed",
            ));
        }
    }
    if let Some(parent) = parent {
        t.redelegated_trust_id = Some(parent.id.clone());
        let remaining = parent.redelegation_count.unwrap_or(0) - 1;
        if redelegatable && requested.is_some_and(|n| n != 0 && n != remaining) {
            return Err(Error::forbidden(
                "Modifying \"redelegation_count\" upon redelegation is forbidden. Omitting this parameter is advised.",
            ));
        }
        if t.redelegation_count.is_none() {
            t.redelegation_count = Some(remaining);
        }
        for ancestor in id.pedigree(parent).await? {
            check_redelegation(&ancestor, t)?;
            if t.expires_at.is_none() {
                t.expires_at = ancestor.expires_at;
            }
        }
    }
    if t.redelegation_count.is_none() {
        t.redelegation_count = Some(MAX_REDELEGATION_COUNT);
    }
    Ok(())
}
