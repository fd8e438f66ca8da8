//! Per-project quotas with upstream's defaults, enforced on create (409 `OverQuota`).

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::state::{str_of, Kind, Obj, State};

/// (resource, kind counted, default limit).
pub const RESOURCES: &[(&str, Kind, i64)] = &[
    ("network", Kind::Network, 100),
    ("subnet", Kind::Subnet, 100),
    ("port", Kind::Port, 500),
    ("router", Kind::Router, 10),
    ("floatingip", Kind::FloatingIp, 50),
    ("security_group", Kind::SecurityGroup, 10),
    ("security_group_rule", Kind::SecurityGroupRule, 100),
];

pub fn default_of(resource: &str) -> Option<i64> {
    RESOURCES
        .iter()
        .find(|(r, _, _)| *r == resource)
        .map(|(_, _, d)| *d)
}

pub fn limit(st: &State, project: &str, resource: &str) -> i64 {
    st.get(Kind::Quota, project)
        .and_then(|q| q.get(resource))
        .and_then(Value::as_i64)
        .or_else(|| default_of(resource))
        .unwrap_or(-1)
}

pub fn used(st: &State, project: &str, kind: Kind) -> i64 {
    st.iter(kind)
        .filter(|o| str_of(o, "project_id") == project)
        .count() as i64
}

/// 409 when creating one more `kind` would exceed the project's quota.
/// Call before inserting the new object.
pub fn check(st: &State, project: &str, kind: Kind) -> Result<()> {
    let Some((resource, _, _)) = RESOURCES.iter().find(|(_, k, _)| *k == kind) else {
        return Ok(());
    };
    let lim = limit(st, project, resource);
    if lim >= 0 && used(st, project, kind) + 1 > lim {
        return Err(Error::conflict(
            "OverQuota",
            format!("Quota exceeded for resources: ['{resource}']."),
        ));
    }
    Ok(())
}

/// `{"network": 100, ...}` for a project.
pub fn quota_set(st: &State, project: &str) -> Obj {
    RESOURCES
        .iter()
        .map(|(r, _, _)| ((*r).to_owned(), json!(limit(st, project, r))))
        .collect()
}

pub fn defaults() -> Obj {
    RESOURCES
        .iter()
        .map(|(r, _, d)| ((*r).to_owned(), json!(d)))
        .collect()
}

pub fn details(st: &State, project: &str) -> Obj {
    RESOURCES
        .iter()
        .map(|(r, k, _)| {
            (
                (*r).to_owned(),
                json!({"limit": limit(st, project, r), "used": used(st, project, *k), "reserved": 0}),
            )
        })
        .collect()
}

/// Apply `{"quota": {...}}` values (integers >= -1) for a project.
pub fn update(st: &mut State, project: &str, body: &Obj) -> Result<Obj> {
    let mut stored = st.get(Kind::Quota, project).cloned().unwrap_or_else(|| {
        let mut o = Obj::new();
        o.insert("id".into(), json!(project));
        o.insert("project_id".into(), json!(project));
        o
    });
    for (k, v) in body {
        if default_of(k).is_none() {
            return Err(Error::bad_request(format!(
                "Unrecognized attribute(s) '{k}'"
            )));
        }
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            // Quotas are 32-bit columns in Neutron's database.
            Some(n) if n > i64::from(i32::MAX) => {
                return Err(Error::invalid_attr(
                    k,
                    format!("'{n}' is too large - must be no larger than '{}'", i32::MAX),
                ))
            }
            Some(n) if n >= -1 => {
                stored.insert(k.clone(), json!(n));
            }
            _ => {
                return Err(Error::invalid_attr(
                    k,
                    format!(
                        "'{v}' is not a valid quota value: an integer of -1 or more is expected"
                    ),
                ))
            }
        }
    }
    st.put(Kind::Quota, stored);
    Ok(quota_set(st, project))
}
