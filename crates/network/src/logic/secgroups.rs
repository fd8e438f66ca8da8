//! Security groups and rules, with the per-project `default` group.

use serde_json::{json, Value};

use super::{new_obj, owner_project, quotas, touch, validate as v, Ctx};
use crate::error::{Error, Result};
use crate::ipam::Cidr;
use crate::state::{bool_of, str_of, Kind, Obj, State};

const PROTOCOLS: &[(&str, u8)] = &[
    ("ah", 51),
    ("dccp", 33),
    ("egp", 8),
    ("esp", 50),
    ("gre", 47),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("ospf", 89),
    ("pgm", 113),
    ("rsvp", 46),
    ("sctp", 132),
    ("tcp", 6),
    ("udp", 17),
    ("udplite", 136),
    ("vrrp", 112),
];

/// The number of a protocol as a rule stores it (a name or a number).
pub fn protocol_number(p: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|(name, _)| *name == p)
        .map(|(_, n)| *n)
        .or_else(|| p.parse().ok())
}

/// Protocols whose rules carry TCP/UDP-style port ranges.
const PORT_PROTOCOLS: &[u8] = &[6, 17, 33, 132, 136];

/// The id of `project`'s `default` group, created with upstream's rules on first use.
pub fn ensure_default(st: &mut State, project: &str) -> Result<String> {
    if project.is_empty() {
        return Err(Error::bad_request(
            "A project is required for a security group.",
        ));
    }
    if let Some(sg) = st
        .iter(Kind::SecurityGroup)
        .find(|g| str_of(g, "project_id") == project && bool_of(g, "_default"))
    {
        return Ok(str_of(sg, "id").to_owned());
    }
    let mut g = new_obj(project);
    g.insert("name".into(), json!("default"));
    g.insert("description".into(), json!("Default security group"));
    g.insert("stateful".into(), json!(true));
    g.insert("shared".into(), json!(false));
    g.insert("_default".into(), json!(true));
    let id = str_of(&g, "id").to_owned();
    st.put(Kind::SecurityGroup, g);
    for (direction, ethertype, remote) in [
        ("ingress", "IPv4", Some(id.clone())),
        ("ingress", "IPv6", Some(id.clone())),
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
    ] {
        st.put(
            Kind::SecurityGroupRule,
            rule_obj(project, &id, direction, ethertype, remote),
        );
    }
    Ok(id)
}

fn rule_obj(
    project: &str,
    sg: &str,
    direction: &str,
    ethertype: &str,
    remote: Option<String>,
) -> Obj {
    let mut r = new_obj(project);
    r.remove("tags");
    r.insert("security_group_id".into(), json!(sg));
    r.insert("direction".into(), json!(direction));
    r.insert("ethertype".into(), json!(ethertype));
    r.insert("protocol".into(), Value::Null);
    r.insert("port_range_min".into(), Value::Null);
    r.insert("port_range_max".into(), Value::Null);
    r.insert("remote_ip_prefix".into(), Value::Null);
    r.insert("normalized_cidr".into(), Value::Null);
    r.insert("remote_group_id".into(), json!(remote));
    r.insert("remote_address_group_id".into(), Value::Null);
    r
}

pub fn create(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_security_group")?;
    v::known_keys(
        body,
        &[
            "name",
            "description",
            "project_id",
            "tenant_id",
            "stateful",
            "tags",
        ],
    )?;
    let project = owner_project(body, ctx)?;
    ensure_default(st, &project)?;
    let name = v::opt_str(body, "name", 255)?.unwrap_or_default();
    if name == "default" {
        return Err(Error::conflict(
            "SecurityGroupDefaultAlreadyExists",
            "Default security group already exists.",
        ));
    }
    quotas::check(st, &project, Kind::SecurityGroup)?;
    let mut g = new_obj(&project);
    g.insert("name".into(), json!(name));
    g.insert(
        "stateful".into(),
        json!(v::opt_bool(body, "stateful")?.unwrap_or(true)),
    );
    g.insert("shared".into(), json!(false));
    super::apply_name_desc(&mut g, body)?;
    let id = str_of(&g, "id").to_owned();
    st.put(Kind::SecurityGroup, g.clone());
    for ethertype in ["IPv4", "IPv6"] {
        st.put(
            Kind::SecurityGroupRule,
            rule_obj(&project, &id, "egress", ethertype, None),
        );
    }
    Ok(g)
}

pub fn update(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_security_group")?;
    let mut g =
        super::fetch_owned(st, Kind::SecurityGroup, id, ctx, "update_security_group")?.clone();
    v::read_only(
        body,
        &["id", "project_id", "tenant_id", "security_group_rules"],
    )?;
    v::known_keys(body, &["name", "description", "stateful"])?;
    if bool_of(&g, "_default") && body.get("name").is_some_and(|n| n != "default") {
        return Err(Error::conflict(
            "SecurityGroupCannotUpdateDefault",
            "Updating default security group not allowed.",
        ));
    }
    if body.get("name").and_then(Value::as_str) == Some("default") && !bool_of(&g, "_default") {
        return Err(Error::conflict(
            "SecurityGroupDefaultAlreadyExists",
            "Default security group already exists.",
        ));
    }
    super::apply_name_desc(&mut g, body)?;
    if let Some(b) = v::opt_bool(body, "stateful")? {
        if b != bool_of(&g, "stateful") && st.iter(Kind::Port).any(|p| uses_group(p, id)) {
            return Err(Error::conflict(
                "SecurityGroupInUse",
                format!("Security Group {id} in use."),
            ));
        }
        g.insert("stateful".into(), json!(b));
    }
    touch(&mut g);
    st.put(Kind::SecurityGroup, g.clone());
    Ok(g)
}

fn uses_group(p: &Obj, id: &str) -> bool {
    p["security_groups"]
        .as_array()
        .is_some_and(|a| a.iter().any(|g| g == id))
}

pub fn delete(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_security_group")?;
    let g = super::fetch_owned(st, Kind::SecurityGroup, id, ctx, "delete_security_group")?;
    if bool_of(g, "_default") && !ctx.admin {
        return Err(Error::conflict(
            "SecurityGroupCannotRemoveDefault",
            "Removing default security group not allowed.",
        ));
    }
    if st.iter(Kind::Port).any(|p| uses_group(p, id)) {
        return Err(Error::conflict(
            "SecurityGroupInUse",
            format!("Security Group {id} in use."),
        ));
    }
    let rules: Vec<String> = st
        .iter(Kind::SecurityGroupRule)
        .filter(|r| str_of(r, "security_group_id") == id || str_of(r, "remote_group_id") == id)
        .map(|r| str_of(r, "id").to_owned())
        .collect();
    for r in rules {
        st.remove(Kind::SecurityGroupRule, &r);
    }
    st.remove(Kind::SecurityGroup, id);
    Ok(())
}

const RULE_KEYS: &[&str] = &[
    "security_group_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
    "description",
    "project_id",
    "tenant_id",
];

/// The protocol as stored (name or number string) and its number.
fn protocol(body: &Obj) -> Result<Option<(Value, u8)>> {
    let raw = match body.get("protocol") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() || s.eq_ignore_ascii_case("any") => return Ok(None),
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => String::new(),
    };
    if let Some((_, n)) = PROTOCOLS.iter().find(|(name, _)| *name == raw) {
        return Ok(Some((json!(raw), *n)));
    }
    match raw.parse::<u16>() {
        Ok(n) if n <= 255 => Ok(Some((json!(n.to_string()), n as u8))),
        _ => Err(Error::bad("SecurityGroupRuleInvalidProtocol", format!(
            "Security group rule protocol {} not supported. Only protocol values {:?} and integer representations [0 to 255] are supported.",
            body.get("protocol").cloned().unwrap_or(Value::Null),
            PROTOCOLS.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        ))),
    }
}

fn port_value(body: &Obj, key: &str) -> Result<Option<i64>> {
    match v::opt_int(body, key)?.flatten() {
        Some(n) if !(0..=65535).contains(&n) => Err(Error::bad(
            "InvalidInput",
            format!("Invalid input for operation: Invalid value for port {n}."),
        )),
        other => Ok(other),
    }
}

pub fn create_rule(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_security_group_rule")?;
    v::known_keys(body, RULE_KEYS)?;
    let sg_id = v::req_uuid(body, "security_group_id")?;
    let direction = v::req_str(body, "direction", 16)?;
    if direction != "ingress" && direction != "egress" {
        return Err(Error::invalid_attr(
            "direction",
            format!("'{direction}' is not in ['ingress', 'egress']"),
        ));
    }
    let ethertype = v::opt_str(body, "ethertype", 16)?.unwrap_or_else(|| "IPv4".into());
    let ethertype = match ethertype.to_ascii_lowercase().as_str() {
        "ipv4" => "IPv4",
        "ipv6" => "IPv6",
        _ => return Err(Error::bad("SecurityGroupRuleInvalidEtherType", format!(
            "Security group rule for ethertype '{ethertype}' not supported. Allowed values are ['IPv4', 'IPv6']."
        ))),
    };
    let proto = protocol(body)?;
    let (min, max) = (
        port_value(body, "port_range_min")?,
        port_value(body, "port_range_max")?,
    );
    check_ports(proto.as_ref().map(|p| p.1), min, max)?;
    let prefix = match v::opt_nullable_str(body, "remote_ip_prefix", 64)?.flatten() {
        Some(p) => {
            let c = Cidr::parse(&p).ok_or_else(|| {
                Error::invalid_attr(
                    "remote_ip_prefix",
                    format!("'{p}' is not a valid IP subnet"),
                )
            })?;
            if c.v6 != (ethertype == "IPv6") {
                return Err(Error::bad(
                    "SecurityGroupRuleParameterConflict",
                    format!("Conflicting value ethertype {ethertype} for CIDR {p}"),
                ));
            }
            Some((p, c))
        }
        None => None,
    };
    let remote_group = v::opt_nullable_str(body, "remote_group_id", 64)?.flatten();
    if remote_group.is_some() && prefix.is_some() {
        return Err(Error::bad(
            "SecurityGroupRemoteGroupAndRemoteIpPrefix",
            "Only remote_ip_prefix or remote_group_id may be provided.",
        ));
    }
    if let Some(Some(_)) = v::opt_nullable_str(body, "remote_address_group_id", 64)? {
        return Err(Error::invalid_input(
            "address groups are not supported: remote_address_group_id must be null",
        ));
    }
    let sg = super::fetch(st, Kind::SecurityGroup, &sg_id, ctx)?.clone();
    if !ctx.owns(&sg) {
        return Err(Error::policy("create_security_group_rule"));
    }
    if let Some(rg) = &remote_group {
        super::fetch(st, Kind::SecurityGroup, rg, ctx)?;
    }
    let project = if body.contains_key("project_id") || body.contains_key("tenant_id") {
        owner_project(body, ctx)?
    } else {
        str_of(&sg, "project_id").to_owned()
    };
    let mut r = rule_obj(
        &project,
        &sg_id,
        &direction,
        ethertype,
        remote_group.clone(),
    );
    r.insert(
        "protocol".into(),
        proto.as_ref().map(|p| p.0.clone()).unwrap_or(Value::Null),
    );
    r.insert("port_range_min".into(), json!(min));
    r.insert("port_range_max".into(), json!(max));
    if let Some((p, c)) = &prefix {
        r.insert("remote_ip_prefix".into(), json!(p));
        r.insert("normalized_cidr".into(), json!(c.net_string()));
    }
    if let Some(d) = v::opt_str(body, "description", 255)? {
        r.insert("description".into(), json!(d));
    }
    let key = rule_key(&r);
    if let Some(dup) = st
        .iter(Kind::SecurityGroupRule)
        .find(|o| rule_key(o) == key)
    {
        return Err(Error::conflict(
            "SecurityGroupRuleExists",
            format!(
                "Security group rule already exists. Rule id is {}.",
                str_of(dup, "id")
            ),
        ));
    }
    quotas::check(st, &project, Kind::SecurityGroupRule)?;
    st.put(Kind::SecurityGroupRule, r.clone());
    Ok(r)
}

fn check_ports(proto: Option<u8>, min: Option<i64>, max: Option<i64>) -> Result<()> {
    match proto {
        None if min.is_some() || max.is_some() => Err(Error::bad(
            "SecurityGroupProtocolRequiredWithPorts",
            "Must also specify protocol if port range is given.",
        )),
        Some(p) if PORT_PROTOCOLS.contains(&p) => match (min, max) {
            (None, None) => Ok(()),
            (Some(a), Some(b)) if a >= 1 && a <= b => Ok(()),
            (Some(0), _) | (_, Some(0)) => Err(Error::bad(
                "SecurityGroupInvalidPortValue",
                "Invalid value for port 0.",
            )),
            _ => Err(Error::bad(
                "SecurityGroupInvalidPortRange",
                "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            )),
        },
        Some(1) | Some(58) => {
            for (name, val) in [("type", min), ("code", max)] {
                if val.is_some_and(|x| x > 255) {
                    return Err(Error::bad(
                        "SecurityGroupInvalidIcmpValue",
                        format!(
                            "Invalid value for ICMP {name} ({}): must be between 0 and 255.",
                            val.unwrap_or_default()
                        ),
                    ));
                }
            }
            if min.is_none() && max.is_some() {
                return Err(Error::bad("SecurityGroupMissingIcmpType", format!(
                    "ICMP code (port-range-max) {} is provided but ICMP type (port-range-min) is missing.", max.unwrap_or_default()
                )));
            }
            Ok(())
        }
        Some(_) if min.is_some() || max.is_some() => Err(Error::bad(
            "SecurityGroupInvalidProtocolForPortRange",
            "Ports can only be given for TCP, UDP, UDP-Lite, SCTP, DCCP and ICMP protocols.",
        )),
        _ => Ok(()),
    }
}

/// What makes two rules the same (upstream's duplicate check).
fn rule_key(r: &Obj) -> Value {
    let proto = match r.get("protocol") {
        Some(Value::String(s)) => PROTOCOLS
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| s.clone()),
        _ => String::new(),
    };
    let prefix = match r.get("normalized_cidr").and_then(Value::as_str) {
        Some("0.0.0.0/0") | Some("::/0") | None => String::new(),
        Some(p) => p.to_owned(),
    };
    json!([
        r["security_group_id"],
        r["direction"],
        r["ethertype"],
        proto,
        r["port_range_min"],
        r["port_range_max"],
        prefix,
        r["remote_group_id"]
    ])
}

pub fn delete_rule(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_security_group_rule")?;
    let r = super::fetch(st, Kind::SecurityGroupRule, id, ctx)?;
    let owner_ok = ctx.owns(r)
        || st
            .get(Kind::SecurityGroup, str_of(r, "security_group_id"))
            .is_some_and(|g| ctx.owns(g));
    if !owner_ok {
        return Err(Error::policy("delete_security_group_rule"));
    }
    st.remove(Kind::SecurityGroupRule, id);
    Ok(())
}
