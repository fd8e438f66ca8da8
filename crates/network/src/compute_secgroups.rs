//! Security groups as compute asks for them: lookup by name or id in the
//! caller's project, the groups of a server's ports, and replacing a port's
//! groups (`addSecurityGroup` / `removeSecurityGroup`).

use ferro_api::services::{SecurityGroupInfo, SecurityGroupRuleInfo};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::logic::{self, ports, secgroups, Ctx};
use crate::state::{bool_of, str_of, Kind, Obj, State};

fn opt_str(o: &Obj, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn rule_info(r: &Obj) -> SecurityGroupRuleInfo {
    SecurityGroupRuleInfo {
        id: str_of(r, "id").to_owned(),
        direction: str_of(r, "direction").to_owned(),
        ethertype: str_of(r, "ethertype").to_owned(),
        protocol: opt_str(r, "protocol"),
        port_range_min: r.get("port_range_min").and_then(Value::as_i64),
        port_range_max: r.get("port_range_max").and_then(Value::as_i64),
        remote_ip_prefix: opt_str(r, "remote_ip_prefix"),
        remote_group_id: opt_str(r, "remote_group_id"),
    }
}

pub fn group_info(st: &State, g: &Obj) -> SecurityGroupInfo {
    let id = str_of(g, "id");
    SecurityGroupInfo {
        id: id.to_owned(),
        name: str_of(g, "name").to_owned(),
        description: str_of(g, "description").to_owned(),
        project_id: str_of(g, "project_id").to_owned(),
        rules: st
            .by(Kind::SecurityGroupRule, "security_group_id", id)
            .into_iter()
            .map(rule_info)
            .collect(),
    }
}

/// Neutron's find-by-name-or-id as Nova uses it: an id the caller may see,
/// else a unique name in the caller's project (`default` made on demand).
pub fn find(st: &mut State, ctx: &Ctx, name_or_id: &str) -> Result<SecurityGroupInfo> {
    if let Some(g) = st.get(Kind::SecurityGroup, name_or_id) {
        if logic::visible(st, Kind::SecurityGroup, g, ctx) {
            return Ok(group_info(st, g));
        }
    }
    let named: Vec<String> = st
        .iter(Kind::SecurityGroup)
        .filter(|g| str_of(g, "project_id") == ctx.project_id && str_of(g, "name") == name_or_id)
        .map(|g| str_of(g, "id").to_owned())
        .collect();
    let id = match (name_or_id == "default", named.len()) {
        (true, 0) => secgroups::ensure_default(st, &ctx.project_id)?,
        (_, 1) => named[0].clone(),
        (_, 0) => {
            return Err(Error::not_found(
                "SecurityGroupNotFound",
                format!(
                    "Security group {name_or_id} is not found for project {}",
                    ctx.project_id
                ),
            ))
        }
        _ => {
            return Err(Error::conflict(
                "NoUniqueMatch",
                format!(
                    "Multiple security_group matches found for name '{name_or_id}', use an ID to be more specific."
                ),
            ))
        }
    };
    let g = st
        .get(Kind::SecurityGroup, &id)
        .ok_or_else(|| Kind::SecurityGroup.not_found(&id))?;
    Ok(group_info(st, g))
}

/// Set a port's groups; the port must have port security enabled.
pub fn set_port_groups(st: &mut State, port_id: &str, ids: &[String]) -> Result<()> {
    let p = st
        .get_mut(Kind::Port, port_id)
        .ok_or_else(|| Kind::Port.not_found(port_id))?;
    if !ids.is_empty() && !bool_of(p, "port_security_enabled") {
        return Err(Error::bad(
            "SecurityGroupCannotBeApplied",
            "Network requires port_security_enabled and subnet associated in order to apply security groups.",
        ));
    }
    p.insert("security_groups".into(), json!(ids));
    logic::touch(p);
    ports::refresh_status(p);
    Ok(())
}
