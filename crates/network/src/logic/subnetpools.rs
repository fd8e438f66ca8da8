//! Subnet pools (`subnet_allocation`, `default-subnetpools`) and address
//! scopes (`address-scope`): where a subnet's CIDR comes from when the
//! request names a pool instead of a CIDR, as Neutron's IPAM does.

use serde_json::{json, Value};

use super::validate as v;
use super::{apply_name_desc, new_obj, owner_project, touch, Ctx};
use crate::error::{Error, Result};
use crate::ipam::Cidr;
use crate::state::{bool_of, str_of, Kind, Obj, State};

const POOL_CREATE_KEYS: &[&str] = &[
    "name",
    "description",
    "prefixes",
    "default_prefixlen",
    "min_prefixlen",
    "max_prefixlen",
    "shared",
    "is_default",
    "default_quota",
    "address_scope_id",
    "project_id",
    "tenant_id",
    "tags",
];

const POOL_UPDATE_KEYS: &[&str] = &[
    "name",
    "description",
    "prefixes",
    "default_prefixlen",
    "min_prefixlen",
    "max_prefixlen",
    "is_default",
    "default_quota",
    "address_scope_id",
];

/// Neutron's defaults per IP version: (smallest prefix length, host bits).
fn defaults(v6: bool) -> (i64, i64) {
    if v6 {
        (64, 128)
    } else {
        (8, 32)
    }
}

/// The pool's prefixes, parsed, one IP version, merged where they touch or
/// overlap (Neutron compacts them the same way).
fn parse_prefixes(list: &[String]) -> Result<(Vec<Cidr>, bool)> {
    if list.is_empty() {
        return Err(Error::bad(
            "EmptySubnetPoolPrefixList",
            "Invalid input for prefixes. Reason: the list of prefixes is empty.",
        ));
    }
    let mut out: Vec<Cidr> = Vec::new();
    for raw in list {
        let c = Cidr::parse(raw).ok_or_else(|| {
            Error::invalid_attr("prefixes", format!("'{raw}' is not a valid IP subnet"))
        })?;
        out.push(Cidr {
            addr: c.first(),
            ..c
        });
    }
    let v6 = out[0].v6;
    if out.iter().any(|c| c.v6 != v6) {
        return Err(Error::bad(
            "PrefixVersionMismatch",
            "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
        ));
    }
    Ok((merge(out), v6))
}

/// Merge overlapping or adjacent aligned prefixes (a smallest cover set).
fn merge(mut list: Vec<Cidr>) -> Vec<Cidr> {
    list.sort_by_key(|c| (c.first(), c.prefix));
    let mut out: Vec<Cidr> = Vec::new();
    for c in list {
        if out
            .last()
            .is_some_and(|l| l.first() <= c.first() && c.last() <= l.last())
        {
            continue;
        }
        out.push(c);
        // Two halves of one parent become the parent.
        while out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            if a.prefix == b.prefix && a.prefix > 0 {
                let parent = Cidr {
                    addr: a.first(),
                    prefix: a.prefix - 1,
                    v6: a.v6,
                };
                if parent.first() == a.first() && parent.last() == b.last() {
                    out.pop();
                    out.pop();
                    out.push(parent);
                    continue;
                }
            }
            break;
        }
    }
    out
}

fn prefix_strings(list: &[Cidr]) -> Value {
    json!(list.iter().map(|c| c.net_string()).collect::<Vec<_>>())
}

fn stored_prefixes(pool: &Obj) -> Vec<Cidr> {
    pool.get("prefixes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().and_then(Cidr::parse))
        .collect()
}

fn int_of(o: &Obj, key: &str) -> i64 {
    o.get(key).and_then(Value::as_i64).unwrap_or_default()
}

/// `min ≤ default ≤ max ≤ host bits`, and the prefixes no longer than min.
fn check_lengths(pool: &Obj, prefixes: &[Cidr]) -> Result<()> {
    let v6 = int_of(pool, "ip_version") == 6;
    let bits = defaults(v6).1;
    let (min, max, def) = (
        int_of(pool, "min_prefixlen"),
        int_of(pool, "max_prefixlen"),
        int_of(pool, "default_prefixlen"),
    );
    for (name, value) in [
        ("min_prefixlen", min),
        ("max_prefixlen", max),
        ("default_prefixlen", def),
    ] {
        if !(0..=bits).contains(&value) {
            return Err(Error::invalid_input(format!(
                "Illegal prefix bounds: {name}={value}, it must be between 0 and {bits}"
            )));
        }
    }
    if min > max {
        return Err(Error::invalid_input(format!(
            "Illegal prefix bounds: min_prefixlen={min}, max_prefixlen={max}"
        )));
    }
    if def < min || def > max {
        return Err(Error::invalid_input(format!(
            "Illegal prefix bounds: default_prefixlen={def}, it must be between {min} and {max}"
        )));
    }
    if let Some(p) = prefixes.iter().find(|p| i64::from(p.prefix) > max) {
        return Err(Error::invalid_input(format!(
            "Illegal prefix bounds: prefix {} is longer than max_prefixlen {max}",
            p.net_string()
        )));
    }
    Ok(())
}

/// An address scope the caller may use, of the pool's IP version.
fn check_scope(st: &State, ctx: &Ctx, scope: &str, version: i64) -> Result<()> {
    let s = st
        .get(Kind::AddressScope, scope)
        .filter(|s| ctx.owns(s) || bool_of(s, "shared"))
        .ok_or_else(|| Kind::AddressScope.not_found(scope))?;
    if int_of(s, "ip_version") != version {
        return Err(Error::invalid_input(format!(
            "Illegal subnetpool association: subnetpool cannot be associated with address scope {scope} of another IP version"
        )));
    }
    Ok(())
}

/// Only one default pool per IP version.
fn check_one_default(st: &State, version: i64, except: &str) -> Result<()> {
    let other = st.iter(Kind::SubnetPool).find(|p| {
        bool_of(p, "is_default") && int_of(p, "ip_version") == version && str_of(p, "id") != except
    });
    match other {
        Some(p) => Err(Error::bad(
            "InvalidInput",
            format!(
                "Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family ({}).",
                str_of(p, "id")
            ),
        )),
        None => Ok(()),
    }
}

pub fn create_pool(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_subnetpool")?;
    v::known_keys(body, POOL_CREATE_KEYS)?;
    let project = owner_project(body, ctx)?;
    // Neutron gives a pool's name no default, and refuses a blank one.
    v::opt_not_blank(body, "name", 255)?.ok_or_else(|| v::missing("name"))?;
    let raw = v::opt_subnet_list(body, "prefixes")?.ok_or_else(|| v::missing("prefixes"))?;
    let (prefixes, v6) = parse_prefixes(&raw)?;
    let version = if v6 { 6 } else { 4 };
    let (min_default, bits) = defaults(v6);
    let num = |key: &str| v::opt_non_negative(body, key);
    let min = num("min_prefixlen")?.unwrap_or(min_default);
    let max = num("max_prefixlen")?.unwrap_or(bits);
    let def = num("default_prefixlen")?.unwrap_or(min);
    let shared = v::opt_bool(body, "shared")?.unwrap_or(false);
    let is_default = v::opt_bool(body, "is_default")?.unwrap_or(false);
    if (shared || is_default) && !ctx.admin {
        return Err(Error::policy("create_subnetpool:shared"));
    }
    let scope = v::opt_nullable_uuid(body, "address_scope_id")?.flatten();
    if let Some(s) = &scope {
        check_scope(st, ctx, s, version)?;
    }
    if is_default {
        check_one_default(st, version, "")?;
    }
    let mut p = new_obj(&project);
    p.insert("name".into(), json!(""));
    p.insert("ip_version".into(), json!(version));
    p.insert("prefixes".into(), prefix_strings(&prefixes));
    p.insert("min_prefixlen".into(), json!(min));
    p.insert("max_prefixlen".into(), json!(max));
    p.insert("default_prefixlen".into(), json!(def));
    p.insert("shared".into(), json!(shared));
    p.insert("is_default".into(), json!(is_default));
    p.insert(
        "default_quota".into(),
        num("default_quota")?.map_or(Value::Null, |q| json!(q)),
    );
    p.insert("address_scope_id".into(), json!(scope));
    apply_name_desc(&mut p, body)?;
    check_lengths(&p, &prefixes)?;
    let out = p.clone();
    st.put(Kind::SubnetPool, p);
    Ok(out)
}

/// Subnets allocated from the pool.
fn allocated<'a>(st: &'a State, pool_id: &str) -> Vec<&'a Obj> {
    st.iter(Kind::Subnet)
        .filter(|s| str_of(s, "subnetpool_id") == pool_id)
        .collect()
}

pub fn update_pool(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_subnetpool")?;
    v::known_keys(body, POOL_UPDATE_KEYS)?;
    let mut p = super::fetch_owned(st, Kind::SubnetPool, id, ctx, "update_subnetpool")?.clone();
    let version = int_of(&p, "ip_version");
    let mut prefixes = stored_prefixes(&p);
    v::opt_not_blank(body, "name", 255)?;
    if let Some(raw) = v::opt_subnet_list(body, "prefixes")? {
        let (new, v6) = parse_prefixes(&raw)?;
        if v6 != (version == 6) {
            return Err(Error::bad(
                "PrefixVersionMismatch",
                "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
            ));
        }
        // Prefixes may grow, never shrink (use remove_prefixes for that).
        if prefixes.iter().any(|old| {
            !new.iter()
                .any(|n| n.first() <= old.first() && old.last() <= n.last())
        }) {
            return Err(Error::bad(
                "IllegalSubnetPoolPrefixUpdate",
                format!("Illegal update to prefixes: existing prefixes of subnet pool {id} must be kept"),
            ));
        }
        prefixes = new;
        p.insert("prefixes".into(), prefix_strings(&prefixes));
    }
    for key in [
        "min_prefixlen",
        "max_prefixlen",
        "default_prefixlen",
        "default_quota",
    ] {
        if let Some(n) = v::opt_non_negative(body, key)? {
            p.insert(key.into(), json!(n));
        }
    }
    if let Some(is_default) = v::opt_bool(body, "is_default")? {
        if !ctx.admin {
            return Err(Error::policy("update_subnetpool:is_default"));
        }
        if is_default {
            check_one_default(st, version, id)?;
        }
        p.insert("is_default".into(), json!(is_default));
    }
    if let Some(scope) = v::opt_nullable_uuid(body, "address_scope_id")? {
        if let Some(s) = &scope {
            check_scope(st, ctx, s, version)?;
        }
        p.insert("address_scope_id".into(), json!(scope));
    }
    apply_name_desc(&mut p, body)?;
    check_lengths(&p, &prefixes)?;
    touch(&mut p);
    let out = p.clone();
    st.put(Kind::SubnetPool, p);
    Ok(out)
}

pub fn delete_pool(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_subnetpool")?;
    super::fetch_owned(st, Kind::SubnetPool, id, ctx, "delete_subnetpool")?;
    if !allocated(st, id).is_empty() {
        return Err(Error::conflict(
            "SubnetPoolInUse",
            format!("Unable to complete operation on subnet pool {id}. There are one or more subnets allocated from it."),
        ));
    }
    st.remove(Kind::SubnetPool, id);
    Ok(())
}

/// The CIDR a subnet of `version` gets from `pool_id` (its `cidr` checked,
/// or the first free block of `prefixlen`); 404 for a pool the caller may
/// not use.
pub fn allocate(
    st: &State,
    ctx: &Ctx,
    pool_id: &str,
    version: i64,
    cidr: Option<Cidr>,
    prefixlen: Option<i64>,
) -> Result<Cidr> {
    let pool = st
        .get(Kind::SubnetPool, pool_id)
        .filter(|p| ctx.owns(p) || bool_of(p, "shared"))
        .ok_or_else(|| Kind::SubnetPool.not_found(pool_id))?;
    if int_of(pool, "ip_version") != version {
        return Err(Error::invalid_input(format!(
            "Cannot allocate IPv{version} subnet from IPv{} subnet pool",
            int_of(pool, "ip_version")
        )));
    }
    let prefixes = stored_prefixes(pool);
    let (min, max) = (int_of(pool, "min_prefixlen"), int_of(pool, "max_prefixlen"));
    let taken: Vec<Cidr> = allocated(st, pool_id)
        .into_iter()
        .filter_map(|s| Cidr::parse(str_of(s, "cidr")))
        .collect();
    let len = match (&cidr, prefixlen) {
        (Some(c), _) => i64::from(c.prefix),
        (None, Some(n)) => n,
        (None, None) => int_of(pool, "default_prefixlen"),
    };
    if len < min || len > max {
        return Err(Error::bad(
            "IllegalSubnetPoolPrefixBounds",
            format!(
                "Illegal prefix bounds: prefixlen={len}, min_prefixlen={min}, max_prefixlen={max}."
            ),
        ));
    }
    if let Some(c) = cidr {
        if !prefixes
            .iter()
            .any(|p| p.first() <= c.first() && c.last() <= p.last())
        {
            return Err(Error::bad(
                "CidrNotInSubnetPool",
                format!(
                    "Cidr {} is not within the prefixes of subnet pool {pool_id}.",
                    c.net_string()
                ),
            ));
        }
        if taken.iter().any(|t| t.overlaps(&c)) {
            return Err(Error::bad(
                "SubnetAllocationError",
                format!("Failed to allocate subnet: Cidr {} overlaps with another subnet of subnet pool {pool_id}.", c.net_string()),
            ));
        }
        return Ok(c);
    }
    let v6 = version == 6;
    let len = u8::try_from(len).unwrap_or(0);
    for p in &prefixes {
        if len < p.prefix {
            continue;
        }
        let step: u128 = if u32::from(len) >= u32::from(p.bits()) {
            1
        } else {
            1u128 << (u32::from(p.bits()) - u32::from(len))
        };
        let mut at = p.first();
        while at <= p.last() {
            let candidate = Cidr {
                addr: at,
                prefix: len,
                v6,
            };
            match taken.iter().find(|t| t.overlaps(&candidate)) {
                None => return Ok(candidate),
                // Skip past the block in the way.
                Some(t) => {
                    let next = t.last().max(candidate.last()).saturating_add(1);
                    let aligned = next.div_ceil(step).saturating_mul(step);
                    if aligned <= at || aligned == 0 {
                        break;
                    }
                    at = aligned;
                }
            }
        }
    }
    Err(Error::conflict(
        "SubnetAllocationError",
        format!(
            "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /{len}."
        ),
    ))
}

/// The default pool of an IP version, when there is one.
pub fn default_pool(st: &State, version: i64) -> Option<String> {
    st.iter(Kind::SubnetPool)
        .find(|p| bool_of(p, "is_default") && int_of(p, "ip_version") == version)
        .map(|p| str_of(p, "id").to_owned())
}

pub fn create_scope(st: &mut State, ctx: &Ctx, body: &Obj) -> Result<Obj> {
    ctx.can_write("create_address_scope")?;
    v::known_keys(
        body,
        &["name", "ip_version", "shared", "project_id", "tenant_id"],
    )?;
    let project = owner_project(body, ctx)?;
    let version = match v::opt_int(body, "ip_version")? {
        Some(Some(n @ (4 | 6))) => n,
        None => return Err(v::missing("ip_version")),
        Some(other) => {
            return Err(Error::invalid_attr(
                "ip_version",
                format!(
                    "{} is not in [4, 6]",
                    other.map_or("null".into(), |n| n.to_string())
                ),
            ))
        }
    };
    let shared = v::opt_bool(body, "shared")?.unwrap_or(false);
    if shared && !ctx.admin {
        return Err(Error::policy("create_address_scope:shared"));
    }
    let name = v::opt_str(body, "name", 255)?.unwrap_or_default();
    let mut s = Obj::new();
    s.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    s.insert("name".into(), json!(name));
    s.insert("project_id".into(), json!(project));
    s.insert("tenant_id".into(), json!(project));
    s.insert("ip_version".into(), json!(version));
    s.insert("shared".into(), json!(shared));
    let out = s.clone();
    st.put(Kind::AddressScope, s);
    Ok(out)
}

pub fn update_scope(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Obj> {
    ctx.can_write("update_address_scope")?;
    v::known_keys(body, &["name", "shared"])?;
    let mut s =
        super::fetch_owned(st, Kind::AddressScope, id, ctx, "update_address_scope")?.clone();
    if let Some(n) = v::opt_str(body, "name", 255)? {
        s.insert("name".into(), json!(n));
    }
    if let Some(shared) = v::opt_bool(body, "shared")? {
        if !ctx.admin {
            return Err(Error::policy("update_address_scope:shared"));
        }
        if !shared && bool_of(&s, "shared") {
            return Err(Error::bad(
                "InvalidInput",
                "Invalid input for operation: Unsharing of an address scope is not allowed.",
            ));
        }
        s.insert("shared".into(), json!(shared));
    }
    let out = s.clone();
    st.put(Kind::AddressScope, s);
    Ok(out)
}

pub fn delete_scope(st: &mut State, ctx: &Ctx, id: &str) -> Result<()> {
    ctx.can_write("delete_address_scope")?;
    super::fetch_owned(st, Kind::AddressScope, id, ctx, "delete_address_scope")?;
    if st
        .iter(Kind::SubnetPool)
        .any(|p| str_of(p, "address_scope_id") == id)
    {
        return Err(Error::conflict(
            "AddressScopeInUse",
            format!("Unable to complete operation on address scope {id}. There are one or more subnet pools in use on the address scope."),
        ));
    }
    st.remove(Kind::AddressScope, id);
    Ok(())
}

/// The body of `add_prefixes` / `remove_prefixes`: `{"prefixes": [cidr…]}`,
/// a list that is not empty (Neutron refuses an empty one).
fn prefix_op_body(body: &Obj) -> Result<Vec<String>> {
    v::known_keys(body, &["prefixes"])?;
    match body.get("prefixes") {
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|p| match p {
                Value::String(s) if Cidr::parse(s).is_some() => Ok(s.clone()),
                other => Err(Error::invalid_attr(
                    "prefixes",
                    format!("'{other}' is not a valid IP subnet"),
                )),
            })
            .collect(),
        _ => Err(Error::invalid_attr(
            "prefixes",
            "a non-empty list of prefixes is required",
        )),
    }
}

/// `a` without the addresses of `r` (prefixes nest or are disjoint).
fn subtract(a: Cidr, r: &Cidr) -> Vec<Cidr> {
    if r.last() < a.first() || a.last() < r.first() || r.v6 != a.v6 {
        return vec![a];
    }
    if r.first() <= a.first() && a.last() <= r.last() {
        return Vec::new();
    }
    // `r` lies inside `a`: keep the half without it, split the other.
    let half = |addr| Cidr {
        addr,
        prefix: a.prefix + 1,
        v6: a.v6,
    };
    let low = half(a.first());
    let high = half(low.last() + 1);
    let mut out = subtract(low, r);
    out.extend(subtract(high, r));
    out
}

/// `PUT /v2.0/subnetpools/{id}/add_prefixes`: the pool's prefixes grow
/// (checked as an update of `prefixes`); answers `{"prefixes": […]}`.
pub fn add_prefixes(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Value> {
    let add = prefix_op_body(body)?;
    let p = super::fetch_owned(st, Kind::SubnetPool, id, ctx, "add_prefixes")?;
    // The union goes through the update's checks: each prefix once, in the
    // `address/length` form those checks want.
    let mut all: Vec<String> = Vec::new();
    for c in stored_prefixes(p)
        .into_iter()
        .chain(add.iter().filter_map(|s| Cidr::parse(s)))
    {
        let c = c.net_string();
        if !all.contains(&c) {
            all.push(c);
        }
    }
    let mut update = Obj::new();
    update.insert("prefixes".into(), json!(all));
    let out = update_pool(st, ctx, id, &update)?;
    Ok(json!({ "prefixes": out.get("prefixes").cloned().unwrap_or(json!([])) }))
}

/// `PUT /v2.0/subnetpools/{id}/remove_prefixes`: the given ranges leave the
/// pool (400 if a subnet was allocated from them); answers
/// `{"prefixes": […]}`.
pub fn remove_prefixes(st: &mut State, ctx: &Ctx, id: &str, body: &Obj) -> Result<Value> {
    ctx.can_write("remove_prefixes")?;
    let raw = prefix_op_body(body)?;
    let mut p = super::fetch_owned(st, Kind::SubnetPool, id, ctx, "remove_prefixes")?.clone();
    let current = stored_prefixes(&p);
    let remove: Vec<Cidr> = raw
        .iter()
        .filter_map(|s| Cidr::parse(s))
        .map(|c| Cidr {
            addr: c.first(),
            ..c
        })
        .collect();
    let overlaps =
        |a: &Cidr, b: &Cidr| a.v6 == b.v6 && a.first() <= b.last() && b.first() <= a.last();
    if !current
        .iter()
        .any(|c| remove.iter().any(|r| overlaps(c, r)))
    {
        return Ok(json!({ "prefixes": prefix_strings(&current) }));
    }
    let in_use = allocated(st, id)
        .iter()
        .filter_map(|s| Cidr::parse(str_of(s, "cidr")))
        .any(|s| remove.iter().any(|r| overlaps(&s, r)));
    if in_use {
        return Err(Error::bad(
            "IllegalSubnetPoolPrefixUpdate",
            "Illegal update to prefixes: One or more the prefixes to be removed is in use by a \
             subnet.",
        ));
    }
    let mut left = current;
    for r in &remove {
        left = left.into_iter().flat_map(|c| subtract(c, r)).collect();
    }
    let left = merge(left);
    p.insert("prefixes".into(), prefix_strings(&left));
    touch(&mut p);
    st.put(Kind::SubnetPool, p);
    Ok(json!({ "prefixes": prefix_strings(&left) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    #[test]
    fn merges_halves_and_covered_prefixes() {
        let m = merge(vec![c("10.0.1.0/24"), c("10.0.0.0/24"), c("10.0.0.128/25")]);
        assert_eq!(
            m.iter().map(|x| x.net_string()).collect::<Vec<_>>(),
            ["10.0.0.0/23"]
        );
    }
}
