//! `/v3/users/{user_id}/access_rules`: the access rules a user's
//! application credentials were made with. A rule outlives the credentials
//! that named it and is deleted on its own, but not while one still does.

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::app_creds::not_delegated;
use super::common::{collection, no_content, ok, Ctx, Filters, QueryParams};
use crate::error::{Error, Result};
use crate::store::{access_rules, app_creds};
use crate::{policy, Identity};

fn render(rule: &Value, base: &BaseUrl) -> Value {
    let id = rule["id"].as_str().unwrap_or_default();
    json!({
        "id": id,
        "service": rule["service"],
        "path": rule["path"],
        "method": rule["method"],
        // Keystone's self link for a rule (its own path, kept as is).
        "links": {"self": base.join(&format!("/v3/access_rules/{id}"))},
    })
}

/// The user's rules: the stored ones, then any an application credential
/// made before rules were stored on their own still names.
async fn user_rules(id: &Identity, uid: &str) -> Result<Vec<Value>> {
    let mut out: Vec<Value> = access_rules::list_for_user(id.db(), uid)
        .await?
        .into_iter()
        .map(|r| json!({"id": r.id, "service": r.service, "path": r.path, "method": r.method}))
        .collect();
    for ac in app_creds::list_for_user(id.db(), uid).await? {
        for r in ac.access_rules.as_array().into_iter().flatten() {
            if r["id"].is_string() && !out.iter().any(|o| o["id"] == r["id"]) {
                out.push(r.clone());
            }
        }
    }
    Ok(out)
}

/// Whether one of the user's application credentials names the rule.
async fn in_use(id: &Identity, uid: &str, rule_id: &str) -> Result<bool> {
    Ok(app_creds::list_for_user(id.db(), uid)
        .await?
        .iter()
        .any(|ac| {
            ac.access_rules
                .as_array()
                .is_some_and(|l| l.iter().any(|r| r["id"] == json!(rule_id)))
        }))
}

async fn load(id: &Identity, uid: &str, rule_id: &str) -> Result<Value> {
    user_rules(id, uid)
        .await?
        .into_iter()
        .find(|r| r["id"] == json!(rule_id))
        .ok_or_else(|| Error::no_such("access rule", rule_id))
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    q: QueryParams,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:list_access_rules", &uid)?;
    not_delegated(&ctx)?;
    let items = user_rules(&id, &uid)
        .await?
        .iter()
        .map(|r| render(r, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["service", "path", "method"]);
    Ok(collection(
        "access_rules",
        items,
        &base.join(&format!("/v3/users/{uid}/access_rules")),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((uid, rid)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:get_access_rule", &uid)?;
    not_delegated(&ctx)?;
    let rule = load(&id, &uid, &rid).await?;
    Ok(ok(json!({"access_rule": render(&rule, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((uid, rid)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:delete_access_rule", &uid)?;
    not_delegated(&ctx)?;
    load(&id, &uid, &rid).await?;
    if in_use(&id, &uid, &rid).await? {
        return Err(Error::forbidden("May not delete access rule in use"));
    }
    access_rules::delete(id.db(), &rid).await?;
    Ok(no_content())
}
