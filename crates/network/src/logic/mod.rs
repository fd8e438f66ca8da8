//! The Neutron rules, on a [`State`]: shared by the HTTP API and by the
//! in-process [`ferro_api::services::NetworkApi`].

pub mod auto_allocate;
pub mod floatingips;
pub mod networks;
pub mod ports;
pub mod quotas;
pub mod routers;
pub mod secgroups;
pub mod subnetpools;
pub mod subnets;
pub mod validate;

use ferro_api::AuthContext;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::state::{bool_of, str_of, Kind, Obj, State};

/// Who is asking, as the policy rules need it.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub project_id: String,
    pub admin: bool,
    pub reader_only: bool,
}

impl Ctx {
    pub fn from_auth(a: &AuthContext) -> Ctx {
        let writer = a.is_admin() || a.has_role("member") || !a.has_role("reader");
        Ctx {
            project_id: a.project_id.clone().unwrap_or_default(),
            admin: a.is_admin(),
            reader_only: !writer,
        }
    }

    /// Refuse writes to readers.
    pub fn can_write(&self, action: &str) -> Result<()> {
        if self.reader_only {
            return Err(Error::policy(action));
        }
        Ok(())
    }

    pub fn owns(&self, obj: &Obj) -> bool {
        self.admin || (!self.project_id.is_empty() && str_of(obj, "project_id") == self.project_id)
    }
}

/// Whether `ctx` may see `obj` of `kind`.
pub fn visible(st: &State, kind: Kind, obj: &Obj, ctx: &Ctx) -> bool {
    if ctx.owns(obj) {
        return true;
    }
    match kind {
        Kind::Network => bool_of(obj, "shared") || bool_of(obj, "router:external"),
        Kind::Subnet => st
            .get(Kind::Network, str_of(obj, "network_id"))
            .is_some_and(|n| bool_of(n, "shared") || ctx.owns(n)),
        Kind::Port => st
            .get(Kind::Network, str_of(obj, "network_id"))
            .is_some_and(|n| ctx.owns(n)),
        Kind::SecurityGroupRule => st
            .get(Kind::SecurityGroup, str_of(obj, "security_group_id"))
            .is_some_and(|g| ctx.owns(g)),
        Kind::SubnetPool | Kind::AddressScope => bool_of(obj, "shared"),
        _ => false,
    }
}

/// The object if `ctx` may see it, else the resource's 404.
pub fn fetch<'a>(st: &'a State, kind: Kind, id: &str, ctx: &Ctx) -> Result<&'a Obj> {
    match st.get(kind, id) {
        Some(o) if visible(st, kind, o, ctx) => Ok(o),
        _ => Err(kind.not_found(id)),
    }
}

/// The object if `ctx` may change it: 404 when invisible, 403 when only visible.
pub fn fetch_owned<'a>(
    st: &'a State,
    kind: Kind,
    id: &str,
    ctx: &Ctx,
    action: &str,
) -> Result<&'a Obj> {
    let obj = fetch(st, kind, id, ctx)?;
    if !ctx.owns(obj) {
        return Err(Error::policy(action));
    }
    Ok(obj)
}

/// Attributes only the admin sees (upstream's default policy).
const ADMIN_ONLY: &[&str] = &[
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "binding:host_id",
    "binding:profile",
    "binding:vif_type",
    "binding:vif_details",
];

/// The API view of a stored object for `ctx`.
pub fn render(st: &State, kind: Kind, obj: &Obj, ctx: &Ctx) -> Obj {
    let mut out: Obj = obj
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .filter(|(k, _)| ctx.admin || !ADMIN_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let id = str_of(obj, "id");
    match kind {
        Kind::Network => {
            let mut subnets = st.ids_by(Kind::Subnet, "network_id", id);
            subnets.sort();
            out.insert("subnets".into(), json!(subnets));
            if bool_of(obj, "router:external") {
                out.entry("is_default").or_insert(json!(false));
            } else {
                out.remove("is_default");
            }
        }
        Kind::SecurityGroup => {
            let rules: Vec<Value> = st
                .by(Kind::SecurityGroupRule, "security_group_id", id)
                .into_iter()
                .map(|r| Value::Object(render(st, Kind::SecurityGroupRule, r, ctx)))
                .collect();
            out.insert("security_group_rules".into(), Value::Array(rules));
        }
        _ => {}
    }
    out
}

/// A new object's standard attributes.
pub fn new_obj(project_id: &str) -> Obj {
    let now = now();
    let mut o = Obj::new();
    o.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    o.insert("project_id".into(), json!(project_id));
    o.insert("tenant_id".into(), json!(project_id));
    o.insert("description".into(), json!(""));
    o.insert("tags".into(), json!([]));
    o.insert("created_at".into(), json!(now));
    o.insert("updated_at".into(), json!(now));
    o.insert("revision_number".into(), json!(0));
    o
}

/// Bump `updated_at` and `revision_number` after a change.
pub fn touch(o: &mut Obj) {
    let rev = o
        .get("revision_number")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    o.insert("revision_number".into(), json!(rev + 1));
    o.insert("updated_at".into(), json!(now()));
}

pub fn now() -> String {
    ferro_api::time::iso_seconds(ferro_api::time::now_micros())
}

/// The project a new resource belongs to: the body's `project_id` /
/// `tenant_id` (admin only when it is not the caller's own), else the caller's.
pub fn owner_project(body: &Obj, ctx: &Ctx) -> Result<String> {
    let pid = validate::opt_str(body, "project_id", 255)?;
    let tid = validate::opt_str(body, "tenant_id", 255)?;
    if let (Some(p), Some(t)) = (&pid, &tid) {
        if p != t {
            return Err(Error::bad_request(
                "'project_id' and 'tenant_id' do not match",
            ));
        }
    }
    let want = pid.or(tid).unwrap_or_else(|| ctx.project_id.clone());
    if want != ctx.project_id && !ctx.admin {
        return Err(Error::forbidden(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
        ));
    }
    if want.is_empty() {
        return Err(Error::bad_request(
            "Failed to parse request. Required attribute 'project_id' not specified",
        ));
    }
    Ok(want)
}

/// Apply the common writable attributes `name` / `description`.
pub fn apply_name_desc(o: &mut Obj, body: &Obj) -> Result<()> {
    if let Some(n) = validate::opt_str(body, "name", 255)? {
        o.insert("name".into(), json!(n));
    }
    if let Some(d) = validate::opt_str(body, "description", 255)? {
        o.insert("description".into(), json!(d));
    }
    if body.contains_key("tags") {
        let tags = validate::tags(body.get("tags"))?;
        o.insert("tags".into(), json!(tags));
    }
    Ok(())
}
