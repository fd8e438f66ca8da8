//! `/os-quota-class-sets/{class}` as at microversion 2.1 (admin only). The
//! `default` class sets the defaults of every project; other classes are
//! stored and shown but apply to nobody (as upstream).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::common::{invalid, ok, require_admin, wrapped, Body, Caller};
use super::flavors::last;
use super::quota_sets::{parse_limits, render};
use crate::error::Result;
use crate::quota;
use crate::store::quotas;
use crate::ComputeService;

fn class_name(p: &[String]) -> Result<String> {
    let name = last(p);
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid("quota_class_name", "must be 1 to 255 characters"));
    }
    Ok(name.to_owned())
}

pub async fn show_quota_class_set(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-quota-class-sets:show")?;
    let class = class_name(&p)?;
    let limits = quota::class_limits(&svc, &class).await?;
    Ok(ok(
        json!({"quota_class_set": render(&limits, Some(&class))}),
    ))
}

pub async fn update_quota_class_set(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-quota-class-sets:update")?;
    let class = class_name(&p)?;
    let o = wrapped(&body.object()?, "quota_class_set")?;
    let updates = parse_limits(&o, &[])?;
    quotas::set_class_limits(svc.db(), &class, &updates).await?;
    let limits = quota::class_limits(&svc, &class).await?;
    Ok(ok(json!({"quota_class_set": render(&limits, None)})))
}
