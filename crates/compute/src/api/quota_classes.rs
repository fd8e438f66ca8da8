//! `/os-quota-class-sets/{class}` (admin only). The `default` class sets
//! the defaults of every project; other classes are stored and shown but
//! apply to nobody (as upstream).
//!
//! Per microversion, as Nova: before 2.50 the server group quotas are not
//! shown (though they may be set); 2.50 shows them and drops the network
//! quotas (refused in updates); 2.57 drops the `injected_file*` ones;
//! 2.102 unknown query parameters are refused.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::common::{invalid, ok, require_admin, wrapped, Body, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use super::quota_sets::{class_filtered, parse_limits, render};
use crate::error::Result;
use crate::microversion::ApiVersion;
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
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 102) {
        listing::only_params(&q, &[])?;
    }
    require_admin(&c, "os_compute_api:os-quota-class-sets:show")?;
    let class = class_name(&p)?;
    let limits = quota::class_limits(&svc, &class).await?;
    Ok(ok(
        json!({"quota_class_set": render(&limits, Some(&class), &class_filtered(v))}),
    ))
}

pub async fn update_quota_class_set(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-quota-class-sets:update")?;
    let class = class_name(&p)?;
    let o = wrapped(&body.object()?, "quota_class_set")?;
    // Before 2.50 the server group quotas are hidden but still accepted.
    let hidden = class_filtered(v);
    let refused: Vec<&str> = hidden
        .iter()
        .copied()
        .filter(|r| v.at_least(2, 50) || !r.starts_with("server_group"))
        .collect();
    let updates = parse_limits(&o, &[], &refused)?;
    quotas::set_class_limits(svc.db(), &class, &updates).await?;
    let limits = quota::class_limits(&svc, &class).await?;
    Ok(ok(
        json!({"quota_class_set": render(&limits, None, &hidden)}),
    ))
}
