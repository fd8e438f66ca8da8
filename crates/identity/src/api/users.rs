//! `/v3/users`, password changes, a user's groups and projects.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{iso_naive_micros, now_micros};
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    caller_domain, collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::service::{compliance, hashing, roles};
use crate::store::users::{self, User};
use crate::store::{groups, new_id, projects};
use crate::validate::{self as v};
use crate::{policy, Identity};

const KNOWN: &[&str] = &[
    "id",
    "name",
    "domain_id",
    "enabled",
    "default_project_id",
    "password",
    "options",
    "links",
    "password_expires_at",
];

pub fn render(id: &Identity, u: &User, base: &BaseUrl) -> Value {
    let mut out = json!({
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": compliance::user_enabled(id, u),
        "password_expires_at": u.password_expires_at.map(iso_naive_micros),
        "options": u.options,
        "links": {"self": base.join(&format!("/v3/users/{}", u.id))},
    });
    if let Some(p) = &u.default_project_id {
        out["default_project_id"] = json!(p);
    }
    with_extra(out, &u.extra)
}

pub(super) async fn load(id: &Identity, user_id: &str) -> Result<User> {
    users::get(id.db(), user_id)
        .await?
        .ok_or_else(|| Error::no_such("user", user_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    policy::domain_reader(&ctx, "identity:list_users", f.get("domain_id"))?;
    let keys = ["name", "domain_id", "enabled", "id", "default_project_id"];
    let expiry = match f.get("password_expires_at") {
        Some(value) => Some(ExpiryFilter::parse(value)?),
        None => None,
    };
    if !f.touches(&keys) && expiry.is_none() {
        let all = id.all_users().await?;
        let link = |uid: &str| base.join(&format!("/v3/users/{uid}"));
        return Ok(super::views::users(
            all.iter(),
            |u| compliance::user_enabled(&id, u),
            link,
            base.join("/v3/users"),
        ));
    }
    let items = users::list(id.db(), f.get("name"), f.get("domain_id"))
        .await?
        .iter()
        .filter(|u| expiry.as_ref().is_none_or(|e| e.matches(u)))
        .map(|u| render(&id, u, &base))
        .collect();
    let items = f.apply(items, &keys);
    Ok(collection("users", items, &base.join("/v3/users")))
}

/// `?password_expires_at=[op:]timestamp` (Keystone's operators; `eq` when
/// none): users whose password expires so. Users whose password never
/// expires match no comparison, as in SQL.
struct ExpiryFilter {
    op: fn(&i64, &i64) -> bool,
    at: i64,
}

impl ExpiryFilter {
    fn parse(value: &str) -> Result<Self> {
        let (op, stamp) = match value.split_once(':') {
            Some((op, rest)) if value.get(2..4).is_some_and(|s| s.contains(':')) => (op, rest),
            _ => ("eq", value),
        };
        let at = ferro_api::time::parse_iso(stamp).ok_or_else(|| {
            Error::bad_request(
                "Timestamp not in expected format. The server could not comply with the \
                 request since it is either malformed or otherwise incorrect. The client is \
                 assumed to be in error.",
            )
        })?;
        let op: fn(&i64, &i64) -> bool = match op {
            "lt" => i64::lt,
            "lte" => i64::le,
            "gt" => i64::gt,
            "gte" => i64::ge,
            "eq" => i64::eq,
            "neq" => i64::ne,
            other => {
                return Err(Error::bad_request(format!(
                    "The given operator {other} is not valid. It must be one of the \
                     following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'."
                )))
            }
        };
        Ok(ExpiryFilter { op, at })
    }

    fn matches(&self, u: &User) -> bool {
        u.password_expires_at
            .is_some_and(|e| (self.op)(&e, &self.at))
    }
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:get_user", &uid)?;
    let u = load(&id, &uid).await?;
    Ok(ok(json!({"user": render(&id, &u, &base)})))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_user")?;
    let req = v::wrapped_only(&body.object()?, "user")?;
    let name = v::req_str(&req, "name", 255)?;
    v::opt_str(&req, "description", 65535)?;
    let domain_id =
        v::opt_nonempty_str(&req, "domain_id", 64)?.unwrap_or_else(|| caller_domain(&ctx));
    super::domains::load(&id, &domain_id).await?;
    let password = v::opt_str(&req, "password", 4096)?;
    if let Some(p) = &password {
        compliance::check_new_password(&id, p)?;
    }
    let hash = match password {
        Some(p) => Some(hashing::hash(p, id.config().password_hash_rounds).await?),
        None => None,
    };
    let options = v::opt_strict_object(&req, "options")?.unwrap_or_default();
    compliance::check_user_options(&options)?;
    let mut user_options = v::Object::new();
    compliance::merge_user_options(&mut user_options, options);
    let now = now_micros();
    let mut u = User {
        id: new_id(),
        name,
        domain_id,
        enabled: v::opt_bool(&req, "enabled")?.unwrap_or(true),
        default_project_id: v::opt_nonempty_str(&req, "default_project_id", 64)?,
        password_created_at: hash.as_ref().map(|_| now),
        password_hash: hash,
        password_expires_at: None,
        last_active_day: None,
        created_at: Some(now),
        description: None,
        extra: v::extras(&req, KNOWN),
        options: user_options,
    };
    if u.password_hash.is_some() {
        u.password_expires_at = compliance::new_password_expiry(&id, &u, true, now);
    }
    if users::get_by_name(id.db(), &u.domain_id, &u.name)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {} in domain {}",
            u.name, u.domain_id
        )));
    }
    users::create(id.db(), &u, now).await?;
    if let Some(h) = &u.password_hash {
        compliance::record_password(&id, &u.id, h, false).await?;
    }
    Ok(created(json!({"user": render(&id, &u, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_user")?;
    let req = v::wrapped_update_only(&body.object()?, "user")?;
    let mut u = load(&id, &uid).await?;
    for (field, current) in [("id", &u.id), ("domain_id", &u.domain_id)] {
        if let Some(val) = req.get(field) {
            if val.as_str() != Some(current.as_str()) {
                return Err(Error::bad_request(format!(
                    "Invalid input for field '{field}': cannot be updated"
                )));
            }
        }
    }
    v::opt_str(&req, "description", 65535)?;
    let requested_options = v::opt_strict_object(&req, "options")?;
    if let Some(o) = &requested_options {
        compliance::check_user_options(o)?;
    }
    let mut revoke = false;
    if req.contains_key("name") {
        let name = v::req_str(&req, "name", 255)?;
        if let Some(other) = users::get_by_name(id.db(), &u.domain_id, &name).await? {
            if other.id != u.id {
                return Err(Error::conflict(format!(
                    "Duplicate entry found with name {name}"
                )));
            }
        }
        u.name = name;
    }
    if let Some(e) = v::opt_bool(&req, "enabled")? {
        revoke |= u.enabled && !e;
        u.enabled = e;
        if e {
            compliance::on_enable(&id, &mut u);
        }
    }
    if let Some(p) = v::patch_str(&req, "default_project_id", 64)? {
        u.default_project_id = p;
    }
    // Options first: they decide how a password set with them expires.
    if let Some(o) = requested_options {
        compliance::merge_user_options(&mut u.options, o);
    }
    let mut new_password = false;
    if let Some(p) = v::patch_str(&req, "password", 4096)? {
        if let Some(p) = &p {
            compliance::check_new_password(&id, p)?;
        }
        new_password = p.is_some();
        u.password_hash = match p {
            Some(p) => Some(hashing::hash(p, id.config().password_hash_rounds).await?),
            None => None,
        };
        let now = now_micros();
        u.password_created_at = Some(now);
        u.password_expires_at = match &u.password_hash {
            Some(_) => compliance::new_password_expiry(&id, &u, true, now),
            None => None,
        };
        revoke = true;
    }
    u.extra.extend(v::extras(&req, KNOWN));
    users::update(id.db(), &u).await?;
    if let (true, Some(h)) = (new_password, &u.password_hash) {
        // An admin's reset: history, not self service; it also lifts a
        // lockout.
        compliance::record_password(&id, &u.id, h, false).await?;
        crate::store::passwords::reset_failures(id.db(), &u.id).await?;
    }
    if revoke {
        id.revoke_user(&u.id).await?;
    }
    Ok(ok(json!({"user": render(&id, &u, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(uid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_user")?;
    load(&id, &uid).await?;
    users::delete(id.db(), &uid).await?;
    crate::store::oauth1::delete_for_user(id.db(), &uid).await?;
    id.revoke_user(&uid).await?;
    Ok(no_content())
}

/// `POST /v3/users/{id}/password`: proven by the original password, so (as
/// upstream) no token is needed; every token of the user is revoked.
pub async fn change_password(
    State(id): State<Identity>,
    Path(uid): Path<String>,
    body: Body,
) -> Result<Response> {
    let req = v::wrapped(&body.object()?, "user")?;
    if let Some(k) = req
        .keys()
        .find(|k| *k != "original_password" && *k != "password")
    {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'user': additional properties are not allowed ('{k}' was \
             unexpected)"
        )));
    }
    let original = v::req_str(&req, "original_password", 4096)?;
    let password = v::req_str(&req, "password", 4096)?;
    let mut u = load(&id, &uid).await?;
    compliance::check_not_locked(&id, &u).await?;
    let hash = u.password_hash.clone().unwrap_or_default();
    let good = hashing::verify(original, hash).await;
    compliance::after_password_check(&id, &u, good).await?;
    if !good {
        return Err(Error::unauthorized(
            "The request you have made requires authentication.",
        ));
    }
    // As Keystone: an expired password may still be changed.
    compliance::after_good_password(&id, &mut u, true).await?;
    compliance::check_new_password(&id, &password)?;
    compliance::check_self_service_allowed(&u)?;
    compliance::check_self_service_change(&id, &u, &password).await?;
    let new_hash = hashing::hash(password, id.config().password_hash_rounds).await?;
    let now = now_micros();
    u.password_hash = Some(new_hash.clone());
    u.password_created_at = Some(now);
    u.password_expires_at = compliance::new_password_expiry(&id, &u, false, now);
    users::update(id.db(), &u).await?;
    compliance::record_password(&id, &u.id, &new_hash, true).await?;
    id.revoke_user(&u.id).await?;
    Ok(no_content())
}

pub async fn groups(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:list_groups_for_user", &uid)?;
    load(&id, &uid).await?;
    let items = groups::list_for_user(id.db(), &uid)
        .await?
        .iter()
        .map(|g| {
            let mut v = super::groups::render(g, &base);
            v["membership_expires_at"] = Value::Null;
            v
        })
        .collect();
    Ok(collection(
        "groups",
        items,
        &base.join(&format!("/v3/users/{uid}/groups")),
    ))
}

pub async fn projects(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    q: QueryParams,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:list_user_projects", &uid)?;
    load(&id, &uid).await?;
    let ids = roles::projects_of_user(id.db(), &uid).await?;
    let all = id.all_projects().await?;
    let items = projects::select(&all, &ids)
        .into_iter()
        .map(|p| super::projects::render(p, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["name", "domain_id", "enabled"]);
    Ok(collection(
        "projects",
        items,
        &base.join(&format!("/v3/users/{uid}/projects")),
    ))
}
