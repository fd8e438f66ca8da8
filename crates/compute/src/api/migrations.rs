//! `GET /os-migrations` (admin): the deployment's migrations. With one
//! host no migration ever runs, so the list is empty; the query is checked
//! as Nova's schema of each version (2.59 `limit`, `marker` — never found —
//! and `changes-since`, unknown parameters refused; 2.66 `changes-before`;
//! 2.80 `user_id`, `project_id`).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::parse_iso;
use serde_json::json;

use super::common::{invalid, marker_not_found, ok, query_get, require_admin, Caller, QueryParams};
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::ComputeService;

fn time_param(q: &QueryParams, key: &str) -> Result<Option<i64>> {
    query_get(q, key)
        .map(|s| parse_iso(s).ok_or_else(|| invalid(key, &format!("'{s}' is not a 'date-time'"))))
        .transpose()
}

fn check_query(v: ApiVersion, q: &QueryParams) -> Result<()> {
    if !v.at_least(2, 59) {
        return Ok(());
    }
    let mut allowed = vec![
        "hidden",
        "host",
        "instance_uuid",
        "source_compute",
        "status",
        "migration_type",
        "limit",
        "marker",
        "changes-since",
    ];
    if v.at_least(2, 66) {
        allowed.push("changes-before");
    }
    if v.at_least(2, 80) {
        allowed.extend(["user_id", "project_id"]);
    }
    listing::only_params(q, &allowed)?;
    if let Some(l) = query_get(q, "limit") {
        l.parse::<usize>()
            .map_err(|_| invalid("limit", &format!("{l:?} is not a non-negative integer")))?;
    }
    let since = time_param(q, "changes-since")?;
    let before = if v.at_least(2, 66) {
        time_param(q, "changes-before")?
    } else {
        None
    };
    if let (Some(s), Some(b)) = (since, before) {
        if b < s {
            return Err(Error::bad_request(
                "The value of changes-since must be less than or equal to changes-before.",
            ));
        }
    }
    match query_get(q, "marker") {
        Some(m) => Err(marker_not_found(m)),
        None => Ok(()),
    }
}

pub async fn list_migrations(
    State(_svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-migrations:index")?;
    check_query(v, &q)?;
    Ok(ok(json!({ "migrations": [] })))
}
