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
        return Err(Error::bad_request(
            "Invalid input received: quota_class_name must be 1 to 255 characters (no NUL).",
        ));
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

/// A limit as Cinder's `quota_class_set` schema takes it: an integer from
/// -1 to 2^31-1, or a string of digits.
fn limit_value(k: &str, v: &Value) -> Result<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            s.parse::<i64>().ok()
        }
        _ => None,
    };
    n.filter(|n| (-1..=i32::MAX as i64).contains(n))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid input for field/attribute {k}. Value: {v}. It must be an integer from \
                 -1 to {} or a string of digits.",
                i32::MAX
            ))
        })
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
    let mut bad = Vec::new();
    for (k, v) in &obj {
        let per_type = ["volumes_", "snapshots_", "gigabytes_"].iter().any(|p| {
            k.strip_prefix(p)
                .is_some_and(|t| type_names.iter().any(|n| n == t))
        });
        let key_ok = (1..=300).contains(&k.chars().count())
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:. ".contains(c));
        if !key_ok || (quotas::default_of(k).is_none() && !per_type) {
            bad.push(k.as_str());
            continue;
        }
        values.push((k.clone(), limit_value(k, v)?));
    }
    if !bad.is_empty() {
        return Err(Error::bad_request(format!(
            "Invalid input received: Bad key(s) in quota class set: {}",
            bad.join(", ")
        )));
    }
    quotas::set(svc.db(), &quotas::class_key(&name), &values).await?;
    Ok(ok(json!({ "quota_class_set": body(&svc, &name).await? })))
}
