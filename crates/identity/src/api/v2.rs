//! Legacy `POST /v2.0/tokens`, still used by old scripts and tutorials:
//! password or token auth, scoped by `tenantName` or `tenantId`.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::iso_seconds;
use serde_json::{json, Map, Value};

use super::common::{ok, Body};
use crate::error::{Error, Result};
use crate::service::tokens::Validated;
use crate::Identity;

/// Translate the v2.0 body into a v3 auth request and answer in v2.0 form.
pub async fn issue(State(id): State<Identity>, body: Body) -> Result<Response> {
    let body = body.object()?;
    let auth = body.get("auth").and_then(Value::as_object).ok_or_else(|| {
        Error::bad_request("Invalid input for field 'auth': is a required property")
    })?;
    let v3 = translate(auth)?;
    let (token, v) = id.authenticate(&v3).await?;
    let project_id = v.project.as_ref().map(|(p, _)| p.id.clone());
    let catalog = match &project_id {
        Some(p) => id.catalog(Some(p), &v.user.id).await?,
        None => Vec::new(),
    };
    Ok(ok(render(&token, &v, &catalog)))
}

fn translate(auth: &Map<String, Value>) -> Result<Map<String, Value>> {
    let identity = if let Some(pc) = auth.get("passwordCredentials") {
        let text = |key: &str| -> Result<Option<&str>> {
            match pc.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(Error::bad_request(format!(
                    "Invalid input for field 'passwordCredentials.{key}': a string is required"
                ))),
            }
        };
        let username = text("username")?;
        let user_id = text("userId")?;
        let password = pc.get("password").and_then(Value::as_str).ok_or_else(|| {
            Error::bad_request("Invalid input for field 'passwordCredentials.password'")
        })?;
        let user = match (user_id, username) {
            (Some(id), _) => json!({"id": id, "password": password}),
            (None, Some(name)) => {
                json!({"name": name, "domain": {"id": "default"}, "password": password})
            }
            _ => {
                return Err(Error::bad_request(
                    "Invalid input for field 'passwordCredentials.username'",
                ))
            }
        };
        json!({"methods": ["password"], "password": {"user": user}})
    } else if let Some(t) = auth.get("token") {
        let tid = t
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::bad_request("Invalid input for field 'token.id'"))?;
        json!({"methods": ["token"], "token": {"id": tid}})
    } else {
        return Err(Error::bad_request(
            "Invalid input for field 'auth': passwordCredentials or token is required",
        ));
    };
    // As Keystone v2.0: an empty tenantName or tenantId asks for no scope
    // (clients send `"tenantName": ""` for an unscoped token).
    let field = |key: &str| -> Result<Option<&str>> {
        match auth.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::bad_request(format!(
                "Invalid input for field '{key}': a string is required"
            ))),
        }
    };
    let scope = if let Some(tid) = field("tenantId")? {
        json!({"project": {"id": tid}})
    } else if let Some(name) = field("tenantName")? {
        json!({"project": {"name": name, "domain": {"id": "default"}}})
    } else {
        Value::String("unscoped".into())
    };
    let mut out = Map::new();
    out.insert("auth".into(), json!({"identity": identity, "scope": scope}));
    Ok(out)
}

fn render(token: &str, v: &Validated, catalog: &[Value]) -> Value {
    let tenant = v.project.as_ref().map(|(p, _)| {
        json!({"id": p.id, "name": p.name, "enabled": p.enabled, "description": p.description})
    });
    let mut tok = json!({
        "id": token,
        "expires": iso_seconds(v.payload.expires_at),
        "issued_at": ferro_api::time::iso_naive_micros(v.payload.issued_at),
        "audit_ids": v.payload.audit_ids,
    });
    if let Some(t) = &tenant {
        tok["tenant"] = t.clone();
    }
    let service_catalog: Vec<Value> = catalog.iter().map(v2_service).collect();
    let roles: Vec<Value> = v.roles.iter().map(|r| json!({"name": r.name})).collect();
    let role_ids: Vec<Value> = v.roles.iter().map(|r| json!(r.id)).collect();
    json!({"access": {
        "token": tok,
        "serviceCatalog": service_catalog,
        "user": {
            "id": v.user.id,
            "name": v.user.name,
            "username": v.user.name,
            "roles": roles,
            "roles_links": [],
        },
        "metadata": {"is_admin": 0, "roles": role_ids},
    }})
}

/// A v3 catalog entry in v2.0 shape: one endpoint per region with
/// `publicURL`, `internalURL` and `adminURL`.
fn v2_service(s: &Value) -> Value {
    let mut by_region: Vec<(String, Map<String, Value>)> = Vec::new();
    for e in s["endpoints"].as_array().into_iter().flatten() {
        let region = e["region"].as_str().unwrap_or_default().to_owned();
        let idx = match by_region.iter().position(|(r, _)| *r == region) {
            Some(i) => i,
            None => {
                let mut m = Map::new();
                m.insert("region".into(), json!(region));
                m.insert("id".into(), e["id"].clone());
                by_region.push((region.clone(), m));
                by_region.len() - 1
            }
        };
        let key = format!("{}URL", e["interface"].as_str().unwrap_or("public"));
        by_region[idx].1.insert(key, e["url"].clone());
    }
    json!({
        "type": s["type"],
        "name": s["name"],
        "endpoints": by_region.into_iter().map(|(_, m)| Value::Object(m)).collect::<Vec<_>>(),
        "endpoints_links": [],
    })
}
