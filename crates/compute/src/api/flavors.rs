//! `/flavors`, extra specs and flavor access.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Map, Value};

use super::common::{
    accepted_empty, invalid, links, next_link, ok, paginate, query_get, require_admin, wrapped,
    Body, Caller, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::flavors::{self, Flavor};
use crate::ComputeService;

pub fn render_detail(f: &Flavor, base: &BaseUrl) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "ram": f.ram,
        "vcpus": f.vcpus,
        "disk": f.disk,
        "swap": if f.swap == 0 { json!("") } else { json!(f.swap) },
        "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
        "OS-FLV-DISABLED:disabled": f.disabled,
        "os-flavor-access:is_public": f.is_public,
        "rxtx_factor": f.rxtx_factor,
        "links": links(base, "flavors", &f.id),
    })
}

async fn visible(
    svc: &ComputeService,
    ctx: &ferro_api::AuthContext,
    q: &QueryParams,
) -> Result<Vec<Flavor>> {
    let mut all = flavors::list(svc.db()).await?;
    let is_public = query_get(q, "is_public")
        .unwrap_or("true")
        .to_ascii_lowercase();
    let project = ctx.project_id.clone().unwrap_or_default();
    let mut out = Vec::new();
    for f in all.drain(..) {
        let accessible = f.is_public
            || ctx.is_admin()
            || flavors::access(svc.db(), &f.id).await?.contains(&project);
        let wanted = match is_public.as_str() {
            "none" => true,
            "false" | "0" | "no" | "f" | "off" | "n" => !f.is_public,
            _ => f.is_public || (!ctx.is_admin() && accessible),
        };
        if accessible && wanted {
            out.push(f);
        }
    }
    if let Some(d) = query_get(q, "minDisk") {
        let d: i64 = d
            .parse()
            .map_err(|_| invalid("minDisk", "must be an integer"))?;
        out.retain(|f| f.disk >= d);
    }
    if let Some(r) = query_get(q, "minRam") {
        let r: i64 = r
            .parse()
            .map_err(|_| invalid("minRam", "must be an integer"))?;
        out.retain(|f| f.ram >= r);
    }
    Ok(out)
}

async fn listing(
    svc: &ComputeService,
    c: &Caller,
    base: &BaseUrl,
    q: &QueryParams,
    detail: bool,
) -> Result<Response> {
    let all = visible(svc, c, q).await?;
    let (page, next) = paginate(
        all,
        |f| &f.id,
        query_get(q, "limit"),
        query_get(q, "marker"),
        1000,
    )?;
    let items: Vec<Value> = page
        .iter()
        .map(|f| {
            if detail {
                render_detail(f, base)
            } else {
                json!({"id": f.id, "name": f.name, "links": links(base, "flavors", &f.id)})
            }
        })
        .collect();
    let mut body = json!({ "flavors": items });
    if let Some(m) = next {
        let path = if detail { "flavors/detail" } else { "flavors" };
        body["flavors_links"] = next_link(base, path, q, &m);
    }
    Ok(ok(body))
}

pub async fn list(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, &base, &q, false).await
}

pub async fn detail(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    listing(&svc, &c, &base, &q, true).await
}

async fn load(svc: &ComputeService, id: &str) -> Result<Flavor> {
    flavors::get(svc.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(format!("Flavor {id} could not be found.")))
}

pub async fn show(
    State(svc): State<ComputeService>,
    _c: Caller,
    base: BaseUrl,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let f = load(&svc, last(&p)).await?;
    Ok(ok(json!({"flavor": render_detail(&f, &base)})))
}

/// The last path parameter (routes may carry a project id first).
pub fn last(p: &[String]) -> &str {
    p.last().map(String::as_str).unwrap_or_default()
}

/// Nova's flavor id pattern: letters, digits, `.`, `_`, `-` and inner spaces.
fn valid_flavor_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ' ' | '_' | '-'))
}

fn int_field(
    o: &Map<String, Value>,
    key: &str,
    min: i64,
    required: bool,
    default: i64,
) -> Result<i64> {
    match o.get(key) {
        None | Some(Value::Null) if !required => Ok(default),
        None | Some(Value::Null) => Err(invalid(key, &format!("'{key}' is a required property"))),
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| invalid(key, &format!("{v} is not an integer")))?;
            if n < min || n > i64::from(i32::MAX) {
                return Err(invalid(key, &format!("{n} is out of range")));
            }
            Ok(n)
        }
    }
}

pub async fn create(
    State(svc): State<ComputeService>,
    c: Caller,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-manage:create")?;
    let o = wrapped(&body.object()?, "flavor")?;
    let name = match o.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 255 => s.trim().to_owned(),
        _ => {
            return Err(invalid(
                "name",
                "must be a non-empty string of at most 255 characters",
            ))
        }
    };
    let id = match o.get("id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(s)) if valid_flavor_id(s) => s.clone(),
        // Nova accepts a number too and stores it as its decimal string.
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(v) => return Err(invalid("id", &format!("{v} is not a valid flavor id"))),
    };
    let rxtx = match o.get("rxtx_factor") {
        None | Some(Value::Null) => 1.0,
        Some(v) => v
            .as_f64()
            .filter(|x| *x > 0.0)
            .ok_or_else(|| invalid("rxtx_factor", "must be a positive number"))?,
    };
    let is_public = match o.get("os-flavor-access:is_public") {
        None | Some(Value::Null) => true,
        Some(v) => match super::common::parse_bool(v) {
            Some(b) => b,
            None => {
                return Err(invalid(
                    "os-flavor-access:is_public",
                    &format!("{v} is not a boolean"),
                ))
            }
        },
    };
    let f = Flavor {
        id,
        name,
        ram: int_field(&o, "ram", 1, true, 0)?,
        vcpus: int_field(&o, "vcpus", 1, true, 0)?,
        disk: int_field(&o, "disk", 0, true, 0)?,
        ephemeral: int_field(&o, "OS-FLV-EXT-DATA:ephemeral", 0, false, 0)?,
        swap: int_field(&o, "swap", 0, false, 0)?,
        rxtx_factor: rxtx,
        is_public,
        disabled: false,
        description: None,
        extra_specs: Map::new(),
    };
    let exists = flavors::list(svc.db())
        .await?
        .into_iter()
        .any(|x| x.id == f.id || x.name == f.name);
    if exists {
        return Err(Error::conflict(format!(
            "Flavor with name {} or id {} already exists.",
            f.name, f.id
        )));
    }
    flavors::create(svc.db(), &f).await?;
    Ok(ok(json!({"flavor": render_detail(&f, &base)})))
}

pub async fn update(_c: Caller) -> Result<Response> {
    Err(Error::not_found(
        "Updating a flavor description needs microversion 2.55, which is not supported.",
    ))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-manage:delete")?;
    let id = last(&p);
    if !flavors::delete(svc.db(), id).await? {
        return Err(Error::not_found(format!("Flavor {id} could not be found.")));
    }
    Ok(accepted_empty())
}

fn check_specs(m: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in m {
        if k.is_empty() || k.len() > 255 {
            return Err(invalid("extra_specs", "keys must be 1-255 characters"));
        }
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
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
        out.insert(k.clone(), Value::String(s));
    }
    Ok(out)
}

pub async fn list_specs(
    State(svc): State<ComputeService>,
    _c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let f = load(&svc, last(&p)).await?;
    Ok(ok(json!({"extra_specs": f.extra_specs})))
}

pub async fn add_specs(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-extra-specs:create")?;
    let mut f = load(&svc, last(&p)).await?;
    let add = check_specs(&wrapped(&body.object()?, "extra_specs")?)?;
    f.extra_specs.extend(add.clone());
    flavors::set_extra_specs(svc.db(), &f.id, &f.extra_specs).await?;
    Ok(ok(json!({"extra_specs": add})))
}

pub async fn show_spec(
    State(svc): State<ComputeService>,
    _c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (fid, key) = (&p[p.len().saturating_sub(2)], last(&p));
    let f = load(&svc, fid).await?;
    let v = f.extra_specs.get(key).ok_or_else(|| {
        Error::not_found(format!("Flavor {fid} has no extra specs with key {key}."))
    })?;
    Ok(ok(json!({ key: v })))
}

pub async fn put_spec(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-extra-specs:update")?;
    let (fid, key) = (p[p.len().saturating_sub(2)].clone(), last(&p).to_owned());
    let o = check_specs(&body.object()?)?;
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
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
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
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-flavor-access:add_tenant_access")?;
    let f = load(&svc, last(&p)).await?;
    let o = body.object()?;
    let (add, inner) = match (o.get("addTenantAccess"), o.get("removeTenantAccess")) {
        (Some(v), None) => (true, v),
        (None, Some(v)) => (false, v),
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
    if f.is_public {
        return Err(Error::conflict("Can not add access to a public flavor."));
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
