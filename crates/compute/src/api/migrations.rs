//! `GET /os-migrations` (admin): the deployment's migration records (each
//! resize makes one; with one host no cold or live migration runs). The
//! query is checked as Nova's schema of each version (2.59 `limit`,
//! `marker` (a migration uuid) and `changes-since`, unknown parameters
//! refused; 2.66 `changes-before`; 2.80 `user_id`, `project_id`); the view
//! grows `migration_type` and `links` (2.23), `uuid` (2.59), `user_id` and
//! `project_id` (2.80).

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::{iso_naive_micros, parse_iso};
use serde_json::{json, Value};

use super::common::{invalid, marker_not_found, ok, query_get, require_admin, Caller, QueryParams};
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::migrations::{self, Migration};
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
    listing::single_params(
        q,
        &[
            "limit",
            "marker",
            "changes-since",
            "changes-before",
            "user_id",
            "project_id",
        ],
    )?;
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
    Ok(())
}

/// Nova's integer flavor id, when ours is one.
fn flavor_number(id: &Option<String>) -> Value {
    id.as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .map_or(Value::Null, |n| json!(n))
}

fn view(m: &Migration, v: ApiVersion) -> Value {
    let mut out = json!({
        "id": m.id,
        "status": m.status,
        "instance_uuid": m.instance_uuid,
        "source_node": m.source_node,
        "source_compute": m.source_compute,
        "dest_node": m.dest_node,
        "dest_compute": m.dest_compute,
        "dest_host": m.dest_host,
        "old_instance_type_id": flavor_number(&m.old_flavor_id),
        "new_instance_type_id": flavor_number(&m.new_flavor_id),
        "created_at": iso_naive_micros(m.created_at),
        "updated_at": m.updated_at.map(iso_naive_micros),
    });
    if v.at_least(2, 23) {
        out["migration_type"] = json!(m.migration_type);
    }
    if v.at_least(2, 59) {
        out["uuid"] = json!(m.uuid);
    }
    if v.at_least(2, 80) {
        out["user_id"] = json!(m.user_id);
        out["project_id"] = json!(m.project_id);
    }
    out
}

/// The records a query selects (Nova's filters), newest first.
fn select(all: Vec<Migration>, q: &QueryParams, v: ApiVersion) -> Result<Vec<Migration>> {
    let eq = |key: &str, value: &str| query_get(q, key).is_none_or(|want| want == value);
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let since = time_param(q, "changes-since")?;
    let before = if v.at_least(2, 66) {
        time_param(q, "changes-before")?
    } else {
        None
    };
    Ok(all
        .into_iter()
        .filter(|m| {
            eq("instance_uuid", &m.instance_uuid)
                && eq("status", &m.status)
                && eq("migration_type", &m.migration_type)
                && eq("source_compute", &opt(&m.source_compute))
                && query_get(q, "host").is_none_or(|h| {
                    m.source_compute.as_deref() == Some(h) || m.dest_compute.as_deref() == Some(h)
                })
                && (!v.at_least(2, 80)
                    || (eq("user_id", &m.user_id) && eq("project_id", &m.project_id)))
        })
        .filter(|m| {
            let t = m.updated_at.unwrap_or(m.created_at);
            since.is_none_or(|s| t >= s) && before.is_none_or(|b| t <= b)
        })
        .collect())
}

pub async fn list_migrations(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    require_admin(&c, "os_compute_api:os-migrations:index")?;
    check_query(v, &q)?;
    let mut selected = select(migrations::list(svc.db()).await?, &q, v)?;
    if v.at_least(2, 59) {
        if let Some(m) = query_get(&q, "marker") {
            let at = selected
                .iter()
                .position(|x| x.uuid == m)
                .ok_or_else(|| marker_not_found(m))?;
            selected.drain(..=at);
        }
        if let Some(l) = query_get(&q, "limit") {
            selected.truncate(l.parse::<usize>().unwrap_or(usize::MAX));
        }
    }
    let items: Vec<Value> = selected.iter().map(|m| view(m, v)).collect();
    Ok(ok(json!({ "migrations": items })))
}
