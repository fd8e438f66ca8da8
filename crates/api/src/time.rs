//! Timestamps in the formats OpenStack APIs use.

use chrono::{DateTime, TimeZone, Utc};

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// `2026-11-22T18:40:45.123456Z`, Keystone's token timestamp format.
pub fn iso_micros(micros: i64) -> String {
    to_datetime(micros)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// `2026-11-22T18:40:45Z`, the second-precision format most APIs use.
pub fn iso_seconds(micros: i64) -> String {
    to_datetime(micros).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-11-22T18:40:45.000000`, Keystone's resource timestamp format.
pub fn iso_naive_micros(micros: i64) -> String {
    to_datetime(micros)
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

fn to_datetime(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros)
        .single()
        .unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_default())
}

/// Parse an ISO-8601 timestamp as clients send it (with or without zone or
/// fraction); returns microseconds since the epoch.
pub fn parse_iso(s: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    let trimmed = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(trimmed, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    None
}
