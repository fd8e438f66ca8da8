//! `/v3/roles`, implied roles and `/v3/role_inferences`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::new_id;
use crate::store::roles::{self, Role};
use crate::validate::{self as v};
use crate::{policy, Identity};

const KNOWN: &[&str] = &["id", "name", "domain_id", "description", "options", "links"];

/// The role that may never be implied (upstream's `prohibited_implied_role`).
const PROHIBITED_IMPLIED: &str = "admin";

pub fn render(r: &Role, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": r.id,
            "name": r.name,
            "domain_id": r.domain_id,
            "description": r.description,
            "options": r.options,
            "links": {"self": base.join(&format!("/v3/roles/{}", r.id))},
        }),
        &r.extra,
    )
}

fn brief(r: &Role, base: &BaseUrl) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "links": {"self": base.join(&format!("/v3/roles/{}", r.id))},
    })
}

pub(super) async fn load(id: &Identity, role_id: &str) -> Result<Role> {
    roles::get(id.db(), role_id)
        .await?
        .ok_or_else(|| Error::no_such("role", role_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    policy::domain_reader(&ctx, "identity:list_roles", f.get("domain_id"))?;
    let domain = f.get("domain_id").map(str::to_owned);
    let items = roles::list(id.db())
        .await?
        .iter()
        .filter(|r| r.domain_id == domain)
        .map(|r| render(r, &base))
        .collect();
    let items = f.apply(items, &["name", "id"]);
    Ok(collection("roles", items, &base.join("/v3/roles")))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(rid): Path<String>,
) -> Result<Response> {
    let r = load(&id, &rid).await;
    let domain = r.as_ref().ok().and_then(|r| r.domain_id.clone());
    policy::domain_reader(&ctx, "identity:get_role", domain.as_deref())?;
    Ok(ok(json!({"role": render(&r?, &base)})))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_role")?;
    let req = v::wrapped_only(&body.object()?, "role")?;
    let r = Role {
        id: new_id(),
        name: v::req_str(&req, "name", 255)?,
        domain_id: v::opt_nonempty_str(&req, "domain_id", 64)?,
        description: v::opt_str(&req, "description", 255)?,
        extra: v::extras(&req, KNOWN),
        options: v::opt_object(&req, "options")?.unwrap_or_default(),
    };
    if let Some(d) = &r.domain_id {
        super::domains::load(&id, d).await?;
    }
    let dup = roles::list(id.db())
        .await?
        .into_iter()
        .any(|x| crate::store::same_name(&x.name, &r.name) && x.domain_id == r.domain_id);
    if dup {
        return Err(Error::conflict(format!(
            "Duplicate entry found with name {}",
            r.name
        )));
    }
    roles::create(id.db(), &r, now_micros()).await?;
    Ok(created(json!({"role": render(&r, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(rid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:update_role")?;
    let req = v::wrapped_update_only(&body.object()?, "role")?;
    let mut r = load(&id, &rid).await?;
    if let Some(d) = req.get("domain_id") {
        if d.as_str() != r.domain_id.as_deref() {
            return Err(Error::bad_request(
                "Invalid input for field 'domain_id': cannot be updated",
            ));
        }
    }
    if req.contains_key("name") {
        let name = v::req_str(&req, "name", 255)?;
        let dup = roles::list(id.db()).await?.into_iter().any(|x| {
            crate::store::same_name(&x.name, &name) && x.domain_id == r.domain_id && x.id != r.id
        });
        if dup {
            return Err(Error::conflict(format!(
                "Duplicate entry found with name {name}"
            )));
        }
        r.name = name;
    }
    if let Some(d) = v::patch_str(&req, "description", 255)? {
        r.description = d;
    }
    if let Some(o) = v::opt_object(&req, "options")? {
        r.options.extend(o);
    }
    r.extra.extend(v::extras(&req, KNOWN));
    roles::update(id.db(), &r).await?;
    Ok(ok(json!({"role": render(&r, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(rid): Path<String>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_role")?;
    load(&id, &rid).await?;
    roles::delete(id.db(), &rid).await?;
    Ok(no_content())
}

async fn pair(id: &Identity, prior: &str, implied: &str) -> Result<(Role, Role)> {
    Ok((load(id, prior).await?, load(id, implied).await?))
}

fn inference(prior: &Role, implied: &Role, base: &BaseUrl) -> Value {
    json!({
        "role_inference": {"prior_role": brief(prior, base), "implies": brief(implied, base)},
        "links": {"self": base.join(&format!("/v3/roles/{}/implies/{}", prior.id, implied.id))},
    })
}

pub async fn add_implied(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((prior, implied)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_implied_role")?;
    let (p, i) = pair(&id, &prior, &implied).await?;
    if p.domain_id.is_none() && i.domain_id.is_some() {
        return Err(Error::forbidden(
            "A global role cannot imply a domain-specific role.",
        ));
    }
    if i.name == PROHIBITED_IMPLIED && i.domain_id.is_none() {
        return Err(Error::forbidden(format!(
            "{PROHIBITED_IMPLIED} role cannot be an implied role."
        )));
    }
    if p.id == i.id {
        return Err(Error::bad_request(
            "Invalid input for field 'implied_role_id': a role cannot imply itself",
        ));
    }
    let existing = roles::list_implied(id.db()).await?;
    if !existing.iter().any(|(a, b)| *a == p.id && *b == i.id) {
        roles::add_implied(id.db(), &p.id, &i.id).await?;
    }
    Ok(created(inference(&p, &i, &base)))
}

async fn existing_rule(id: &Identity, prior: &str, implied: &str) -> Result<(Role, Role)> {
    let (p, i) = pair(id, prior, implied).await?;
    let rules = roles::list_implied(id.db()).await?;
    if !rules.iter().any(|(a, b)| *a == p.id && *b == i.id) {
        return Err(Error::not_found(format!(
            "{prior} does not imply {implied}."
        )));
    }
    Ok((p, i))
}

pub async fn show_implied(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((prior, implied)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:get_implied_role")?;
    let (p, i) = existing_rule(&id, &prior, &implied).await?;
    Ok(ok(inference(&p, &i, &base)))
}

pub async fn check_implied(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((prior, implied)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:check_implied_role")?;
    existing_rule(&id, &prior, &implied).await?;
    Ok(no_content())
}

pub async fn delete_implied(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((prior, implied)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin(&ctx, "identity:delete_implied_role")?;
    existing_rule(&id, &prior, &implied).await?;
    roles::delete_implied(id.db(), &prior, &implied).await?;
    Ok(no_content())
}

pub async fn list_implied(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(prior): Path<String>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_implied_roles")?;
    let p = load(&id, &prior).await?;
    let all = roles::list(id.db()).await?;
    let implies: Vec<Value> = roles::list_implied(id.db())
        .await?
        .iter()
        .filter(|(a, _)| *a == p.id)
        .filter_map(|(_, b)| all.iter().find(|r| r.id == *b))
        .map(|r| brief(r, &base))
        .collect();
    Ok(ok(json!({
        "role_inference": {"prior_role": brief(&p, &base), "implies": implies},
        "links": {"self": base.join(&format!("/v3/roles/{}/implies", p.id))},
    })))
}

pub async fn inferences(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_role_inference_rules")?;
    let all = roles::list(id.db()).await?;
    let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (a, b) in roles::list_implied(id.db()).await? {
        if let Some(r) = all.iter().find(|r| r.id == b) {
            grouped.entry(a).or_default().push(brief(r, &base));
        }
    }
    let items: Vec<Value> = grouped
        .into_iter()
        .filter_map(|(prior, implies)| {
            let p = all.iter().find(|r| r.id == prior)?;
            Some(json!({"prior_role": brief(p, &base), "implies": implies}))
        })
        .collect();
    Ok(ok(
        json!({"role_inferences": items, "links": {"self": base.join("/v3/role_inferences")}}),
    ))
}
