//! `/os-instance_usage_audit_log[/{before}]` (admin only): the state of the
//! monthly instance usage audit per compute host. No host here runs that
//! periodic task, so every compute host is "not run" for the period.
//! (2.102: unknown query parameters are refused.)

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::common::{ok, require_admin, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::services;
use crate::ComputeService;

/// A moment as (year, month, day, seconds into the day, microseconds).
type Moment = (i64, u32, u32, u32, u32);

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, as Nova's `strptime` formats.
fn parse_moment(s: &str) -> Option<Moment> {
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('-');
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (a, format!("{f:0<6}").parse().ok()?)
        }
        Some(_) => return None,
        None => (time, 0),
    };
    let mut t = hms.split(':');
    let (h, mi, se) = (t.next()?, t.next()?, t.next()?);
    let num = |x: &str| {
        x.parse::<u32>()
            .ok()
            .filter(|_| x.bytes().all(|b| b.is_ascii_digit()))
    };
    let (month, dd, hh, mm, ss) = (num(m)?, num(day)?, num(h)?, num(mi)?, num(se)?);
    let valid =
        (1..=12).contains(&month) && (1..=31).contains(&dd) && hh < 24 && mm < 60 && ss < 60;
    (valid && d.next().is_none() && t.next().is_none()).then_some((
        y.parse().ok().filter(|y: &i64| *y > 0)?,
        month,
        dd,
        hh * 3600 + mm * 60 + ss,
        frac,
    ))
}

fn now_moment() -> Option<Moment> {
    let iso = ferro_api::time::iso_seconds(ferro_api::time::now_micros());
    parse_moment(&iso.replace('T', " ").replace('Z', ""))
}

fn month_before(y: i64, m: u32) -> (i64, u32) {
    if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    }
}

/// Nova's `last_completed_audit_period` for monthly periods: the month
/// that ended last at or before `at`.
fn audit_period(at: Moment) -> (String, String) {
    let (y, m, d, secs, micros) = at;
    let at_start = d == 1 && secs == 0 && micros == 0;
    let end = if at_start { month_before(y, m) } else { (y, m) };
    let begin = month_before(end.0, end.1);
    let fmt = |(y, m): (i64, u32)| format!("{y:04}-{m:02}-01 00:00:00");
    (fmt(begin), fmt(end))
}

async fn audit_log(svc: &ComputeService, at: Moment) -> Result<Value> {
    let (begin, end) = audit_period(at);
    let mut hosts: Vec<String> = services::list(svc.db())
        .await?
        .into_iter()
        .filter(|s| s.binary == "nova-compute")
        .map(|s| s.host)
        .collect();
    hosts.dedup();
    let n = hosts.len();
    Ok(json!({
        "period_beginning": begin,
        "period_ending": end,
        "num_hosts": n,
        "num_hosts_done": 0,
        "num_hosts_running": 0,
        "num_hosts_not_run": n,
        "hosts_not_run": hosts,
        "total_instances": 0,
        "total_errors": 0,
        "overall_status": if n == 0 { "ALL hosts done. 0 errors.".to_owned() } else { format!("0 of {n} hosts done. 0 errors.") },
        "log": {},
    }))
}

pub async fn list_audit_logs(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
) -> Result<Response> {
    listing::no_query_from_2_102(v, &q)?;
    require_admin(&c, "os_compute_api:os-instance-usage-audit-log:list")?;
    let now = now_moment().ok_or_else(|| Error::internal("clock unreadable"))?;
    Ok(ok(
        json!({"instance_usage_audit_logs": audit_log(&svc, now).await?}),
    ))
}

pub async fn show_audit_log(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    listing::no_query_from_2_102(v, &q)?;
    require_admin(&c, "os_compute_api:os-instance-usage-audit-log:show")?;
    let raw = last(&p);
    let before = parse_moment(raw)
        .ok_or_else(|| Error::bad_request(format!("Invalid timestamp for date {raw}")))?;
    Ok(ok(
        json!({"instance_usage_audit_log": audit_log(&svc, before).await?}),
    ))
}

#[cfg(test)]
mod tests {
    use super::{audit_period, parse_moment};

    #[test]
    fn periods() {
        let at = parse_moment("2026-11-29 20:00:00").unwrap();
        assert_eq!(
            audit_period(at),
            ("2026-10-01 00:00:00".into(), "2026-11-01 00:00:00".into())
        );
        let at = parse_moment("2026-01-01 00:00:00.000000").unwrap();
        assert_eq!(
            audit_period(at),
            ("2025-11-01 00:00:00".into(), "2025-12-01 00:00:00".into())
        );
        let at = parse_moment("2026-01-15 10:00:00.5").unwrap();
        assert_eq!(
            audit_period(at),
            ("2025-12-01 00:00:00".into(), "2026-01-01 00:00:00".into())
        );
        for bad in [
            "invalid_time",
            "2026-13-01 00:00:00",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00",
        ] {
            assert!(parse_moment(bad).is_none(), "{bad}");
        }
    }
}
