//! Flavor extra specs (`/flavors/{id}/os-extra_specs`) and flavor access
//! (`os-flavor-access`, `addTenantAccess`/`removeTenantAccess`).
//!
//! Per microversion: 2.7 adding access to a public flavor is a 409; 2.86
//! extra specs are validated (`extra_spec_rules`); 2.102 unknown query
//! parameters are refused.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{invalid, ok, require_admin, wrapped, Body, Caller, QueryParams};
use super::flavors::{last, load};
use super::{extra_spec_rules, listing};
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::flavors;
use crate::ComputeService;

fn no_query(v: ApiVersion, q: &QueryParams) -> Result<()> {
    if v.at_least(2, 102) {
        listing::only_params(q, &[])?;
    }
    Ok(())
}

fn check_specs(ver: ApiVersion, m: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in m {
        let key_ok = k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:. ".contains(&b));
        if k.is_empty() || k.len() > 255 || !key_ok {
            return Err(invalid(
                "extra_specs",
                &format!("'{k}' does not match '^[a-zA-Z0-9-_:. ]{{1,255}}$'"),
            ));
        }
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(invalid(
                    "extra_specs",
                    &format!("value of {k} must be a string"),
                ))
            }
        };
        if s.len() > 255 {
            return Err(invalid(
                "extra_specs",
                &format!("value of {k} is longer than 255 characters"),
            ));
        }
        if ver.at_least(2, 86) {
            extra_spec_rules::validate(k, &s)?;
        }
        out.insert(k.clone(), Value::String(s));
    }
    Ok(out)
}

pub async fn list_specs(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    _c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    no_query(v, &q)?;
    let f = load(&svc, last(&p)).await?;
    Ok(ok(json!({"extra_specs": f.extra_specs})))
}

pub async fn add_specs(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-extra-specs:create")?;
    let mut f = load(&svc, last(&p)).await?;
    let add = check_specs(v, &wrapped(&body.object()?, "extra_specs")?)?;
    f.extra_specs.extend(add.clone());
    flavors::set_extra_specs(svc.db(), &f.id, &f.extra_specs).await?;
    Ok(ok(json!({"extra_specs": add})))
}

pub async fn show_spec(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    _c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    no_query(v, &q)?;
    let (fid, key) = (&p[p.len().saturating_sub(2)], last(&p));
    let f = load(&svc, fid).await?;
    let v = f.extra_specs.get(key).ok_or_else(|| {
        Error::not_found(format!("Flavor {fid} has no extra specs with key {key}."))
    })?;
    Ok(ok(json!({ key: v })))
}

pub async fn put_spec(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-extra-specs:update")?;
    let (fid, key) = (p[p.len().saturating_sub(2)].clone(), last(&p).to_owned());
    let o = check_specs(v, &body.object()?)?;
    if o.len() != 1 || !o.contains_key(&key) {
        return Err(Error::bad_request("Request body and URI mismatch"));
    }
    let mut f = load(&svc, &fid).await?;
    f.extra_specs.extend(o.clone());
    flavors::set_extra_specs(svc.db(), &f.id, &f.extra_specs).await?;
    Ok(ok(Value::Object(o)))
}

pub async fn delete_spec(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-extra-specs:delete")?;
    let (fid, key) = (p[p.len().saturating_sub(2)].clone(), last(&p).to_owned());
    let mut f = load(&svc, &fid).await?;
    if f.extra_specs.remove(&key).is_none() {
        return Err(Error::not_found(format!(
            "Flavor {fid} has no extra specs with key {key}."
        )));
    }
    flavors::set_extra_specs(svc.db(), &f.id, &f.extra_specs).await?;
    Ok(super::common::ok(json!({})).map(|_| axum::body::Body::empty()))
}

fn access_body(fid: &str, projects: &[String]) -> Value {
    json!({"flavor_access": projects.iter().map(|p| json!({"flavor_id": fid, "tenant_id": p})).collect::<Vec<_>>()})
}

pub async fn list_access(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    no_query(v, &q)?;
    require_admin(&c, "os_compute_api:os-flavor-access")?;
    let f = load(&svc, last(&p)).await?;
    if f.is_public {
        return Err(Error::not_found(
            "Access list not available for public flavors.",
        ));
    }
    Ok(ok(access_body(
        &f.id,
        &flavors::access(svc.db(), &f.id).await?,
    )))
}

/// `addTenantAccess` / `removeTenantAccess`.
pub async fn action(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-access:add_tenant_access")?;
    let f = load(&svc, last(&p)).await?;
    let o = body.object()?;
    let (add, inner) = match (o.get("addTenantAccess"), o.get("removeTenantAccess")) {
        (Some(x), None) => (true, x),
        (None, Some(x)) => (false, x),
        _ => {
            return Err(Error::bad_request(
                "Exactly one of addTenantAccess and removeTenantAccess is required.",
            ))
        }
    };
    let tenant = inner["tenant"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("tenant", "is required"))?;
    if add && f.is_public && v.at_least(2, 7) {
        return Err(Error::conflict("Can not add access to a public flavor."));
    }
    if add {
        super::common::check_project(&svc, tenant).await?;
    }
    let current = flavors::access(svc.db(), &f.id).await?;
    if add {
        if current.iter().any(|t| t == tenant) {
            return Err(Error::conflict(format!(
                "Flavor access already exists for flavor {} and project {tenant} combination.",
                f.id
            )));
        }
        flavors::add_access(svc.db(), &f.id, tenant).await?;
    } else if !flavors::remove_access(svc.db(), &f.id, tenant).await? {
        return Err(Error::not_found(format!(
            "Flavor access not found for {} / {tenant} combination.",
            f.id
        )));
    }
    Ok(ok(access_body(
        &f.id,
        &flavors::access(svc.db(), &f.id).await?,
    )))
}
