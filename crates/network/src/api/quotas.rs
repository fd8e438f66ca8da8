//! `/v2.0/quotas`: per-project limits (admin sets them; a project reads its own).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ctx, Body, Caller};
use crate::error::{Error, Result};
use crate::logic::{quotas, validate, Ctx};
use crate::state::{str_of, Kind};
use crate::NetworkService;

fn may_read(ctx: &Ctx, project: &str) -> Result<()> {
    if ctx.admin || ctx.project_id == project {
        Ok(())
    } else {
        Err(Error::policy("get_quota"))
    }
}

fn strip(p: &str) -> String {
    p.strip_suffix(".json").unwrap_or(p).to_owned()
}

pub async fn list(State(svc): State<NetworkService>, caller: Caller) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    if !ctx.admin {
        return Err(Error::policy("get_quota"));
    }
    let st = svc.read().await?;
    let list: Vec<Value> = st
        .iter(Kind::Quota)
        .map(|q| {
            let pid = str_of(q, "id");
            let mut set = quotas::quota_set(&st, pid);
            set.insert("project_id".into(), json!(pid));
            set.insert("tenant_id".into(), json!(pid));
            Value::Object(set)
        })
        .collect();
    Ok(Json(json!({"quotas": list})))
}

pub async fn show(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    let project = strip(&project);
    if project == "tenant" || project == "project" {
        return Ok(Json(json!({"tenant": {"tenant_id": ctx.project_id}})));
    }
    may_read(&ctx, &project)?;
    let st = svc.read().await?;
    Ok(Json(json!({"quota": quotas::quota_set(&st, &project)})))
}

pub async fn defaults(caller: Caller, Path(project): Path<String>) -> Result<Json<Value>> {
    may_read(&ctx(&caller), &project)?;
    Ok(Json(json!({"quota": quotas::defaults()})))
}

pub async fn details(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<Value>> {
    may_read(&ctx(&caller), &project)?;
    let st = svc.read().await?;
    Ok(Json(json!({"quota": quotas::details(&st, &project)})))
}

pub async fn update(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let ctx = ctx(&caller);
    if !ctx.admin {
        return Err(Error::policy("update_quota"));
    }
    let project = strip(&project);
    // Neutron's quota rows hold project ids of up to 255 characters; a NUL
    // is no project id (and PostgreSQL cannot store one: refused the same
    // way on every backend).
    if project.chars().count() > 255 {
        return Err(Error::invalid_attr(
            "project_id",
            "it exceeds maximum length of 255",
        ));
    }
    if project.contains('\0') {
        return Err(Error::invalid_attr(
            "project_id",
            "it contains a NUL character",
        ));
    }
    let map = body.object()?;
    let q = validate::resource(&map, "quota")?;
    let out = svc.write(|st| quotas::update(st, &project, &q)).await?;
    Ok(Json(json!({"quota": out})))
}

pub async fn reset(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<StatusCode> {
    let ctx = ctx(&caller);
    if !ctx.admin {
        return Err(Error::policy("delete_quota"));
    }
    let project = strip(&project);
    svc.write(|st| {
        st.remove(Kind::Quota, &project);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
