//! `/v3/{project_id}/os-quota-class-sets/{class}` (admin): quota classes.
//! The `default` class sets the defaults every project starts from; keys
//! are the quota resources and `<resource>_<volume type name>` (per-type
//! values are stored and shown, not enforced).

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{ok, valid_id, Body, Ctx};
use super::validate;
use crate::error::{Error, Result};
use crate::store::{quotas, types};
use crate::VolumeService;

fn class(ctx: &Ctx) -> Result<String> {
    let c = ctx.param("class");
    if !valid_id(c) {
        return Err(Error::bad_request("Invalid quota class name."));
    }
    Ok(c.to_owned())
}

async fn body(svc: &VolumeService, name: &str) -> Result<Map<String, Value>> {
    let mut m: Map<String, Value> = quotas::class_db(svc.db(), name)
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    // per-type keys of every type, unlimited unless set
    for t in types::list(svc.db()).await? {
        for r in ["volumes", "snapshots", "gigabytes"] {
            m.entry(format!("{r}_{}", t.name)).or_insert(json!(-1));
        }
    }
    Ok(m)
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_admin()?;
    let name = class(&ctx)?;
    let mut m = body(&svc, &name).await?;
    m.insert("id".into(), json!(name));
    Ok(ok(json!({ "quota_class_set": m })))
}

pub async fn update(State(svc): State<VolumeService>, ctx: Ctx, b: Body) -> Result<Response> {
    ctx.require_admin()?;
    let name = class(&ctx)?;
    let obj = validate::wrapped_only(&b, "quota_class_set", &[])?;
    let type_names: Vec<String> = types::list(svc.db())
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut values = Vec::new();
    for (k, v) in &obj {
        let per_type = ["volumes_", "snapshots_", "gigabytes_"].iter().any(|p| {
            k.strip_prefix(p)
                .is_some_and(|t| type_names.iter().any(|n| n == t))
        });
        if quotas::default_of(k).is_none() && !per_type {
            return Err(Error::bad_request(format!("Bad key(s) in quota set: {k}")));
        }
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .filter(|n| (-1..=i32::MAX as i64).contains(n))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid input for field/attribute {k}: must be an integer >= -1."
            ))
        })?;
        values.push((k.clone(), n));
    }
    quotas::set(svc.db(), &quotas::class_key(&name), &values).await?;
    Ok(ok(json!({ "quota_class_set": body(&svc, &name).await? })))
}
