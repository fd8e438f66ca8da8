//! `/v3/domains/{domain_id}/config` and `/v3/domains/config/default`:
//! domain-specific configuration, stored and validated as Keystone does.
//! Ferrostack keeps one identity backend, so nothing reads these options;
//! they are kept for the clients and operators that manage them.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::{created, no_content, ok, Body, Ctx};
use super::domains::load as load_domain;
use crate::error::{Error, Result};
use crate::store::domain_configs::{self, ConfigOption};
use crate::validate::Object;
use crate::{policy, Identity};

/// The options a domain may set, with the defaults
/// `/v3/domains/config/default` shows (Keystone's own defaults).
const IDENTITY_OPTIONS: &[(&str, DefaultValue)] = &[
    ("driver", DefaultValue::Str("sql")),
    ("list_limit", DefaultValue::Null),
];

const LDAP_OPTIONS: &[(&str, DefaultValue)] = {
    use DefaultValue::{Bool, Float, Int, List, Null, Str};
    &[
        ("url", Str("ldap://localhost")),
        ("user", Null),
        ("suffix", Str("cn=example,cn=com")),
        ("query_scope", Str("one")),
        ("page_size", Int(0)),
        ("alias_dereferencing", Str("default")),
        ("debug_level", Null),
        ("chase_referrals", Null),
        ("user_tree_dn", Null),
        ("user_filter", Null),
        ("user_objectclass", Str("inetOrgPerson")),
        ("user_id_attribute", Str("cn")),
        ("user_name_attribute", Str("sn")),
        ("user_mail_attribute", Str("mail")),
        ("user_description_attribute", Str("description")),
        ("user_pass_attribute", Str("userPassword")),
        ("user_enabled_attribute", Str("enabled")),
        ("user_enabled_invert", Bool(false)),
        ("user_enabled_mask", Int(0)),
        ("user_enabled_default", Str("True")),
        ("user_attribute_ignore", List(&["default_project_id"])),
        ("user_default_project_id_attribute", Null),
        ("user_enabled_emulation", Bool(false)),
        ("user_enabled_emulation_dn", Null),
        ("user_enabled_emulation_use_group_config", Bool(false)),
        ("user_additional_attribute_mapping", List(&[])),
        ("group_tree_dn", Null),
        ("group_filter", Null),
        ("group_objectclass", Str("groupOfNames")),
        ("group_id_attribute", Str("cn")),
        ("group_name_attribute", Str("ou")),
        ("group_members_are_ids", Bool(false)),
        ("group_member_attribute", Str("member")),
        ("group_desc_attribute", Str("description")),
        ("group_attribute_ignore", List(&[])),
        ("group_additional_attribute_mapping", List(&[])),
        ("tls_cacertfile", Null),
        ("tls_cacertdir", Null),
        ("use_tls", Bool(false)),
        ("tls_req_cert", Str("demand")),
        ("use_pool", Bool(true)),
        ("pool_size", Int(10)),
        ("pool_retry_max", Int(3)),
        ("pool_retry_delay", Float(0.1)),
        ("pool_connection_timeout", Int(-1)),
        ("pool_connection_lifetime", Int(600)),
        ("use_auth_pool", Bool(true)),
        ("auth_pool_size", Int(100)),
        ("auth_pool_connection_lifetime", Int(60)),
    ]
};

/// Options that may be set but are never shown.
const SENSITIVE: &[(&str, &str)] = &[("ldap", "password")];

/// The read-only group any caller may read on the default domain.
const SECURITY_COMPLIANCE: &str = "security_compliance";
const READABLE_COMPLIANCE: &[&str] = &["password_regex", "password_regex_description"];

#[derive(Clone, Copy)]
enum DefaultValue {
    Null,
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(&'static [&'static str]),
}

impl DefaultValue {
    fn json(self) -> Value {
        match self {
            DefaultValue::Null => Value::Null,
            DefaultValue::Str(s) => json!(s),
            DefaultValue::Int(i) => json!(i),
            DefaultValue::Float(f) => json!(f),
            DefaultValue::Bool(b) => json!(b),
            DefaultValue::List(l) => json!(l),
        }
    }
}

fn whitelisted(group: &str) -> Option<&'static [(&'static str, DefaultValue)]> {
    match group {
        "identity" => Some(IDENTITY_OPTIONS),
        "ldap" => Some(LDAP_OPTIONS),
        _ => None,
    }
}

fn is_sensitive(group: &str, option: &str) -> bool {
    SENSITIVE.contains(&(group, option))
}

fn is_whitelisted(group: &str, option: &str) -> bool {
    whitelisted(group).is_some_and(|opts| opts.iter().any(|(o, _)| *o == option))
}

/// Keystone's `InvalidDomainConfig`: a 403.
fn invalid(reason: &str) -> Error {
    Error::forbidden(format!("Invalid domain specific configuration: {reason}."))
}

fn not_found(domain_id: &str, group: Option<&str>, option: Option<&str>) -> Error {
    let what = match (group, option) {
        (Some(g), Some(o)) => format!("option {o} in group {g}"),
        (Some(g), None) => format!("group {g}"),
        _ => "any options".to_owned(),
    };
    Error::not_found(format!(
        "Could not find {what} in domain configuration for domain {domain_id}."
    ))
}

/// The group (and option) named in a URL or a body must be one a domain may
/// configure.
fn check_group_and_option(group: Option<&str>, option: Option<&str>) -> Result<()> {
    let Some(group) = group else { return Ok(()) };
    if whitelisted(group).is_none() {
        return Err(invalid(&format!(
            "Group {group} is not supported for domain specific configurations"
        )));
    }
    if let Some(option) = option {
        if !is_whitelisted(group, option) && !is_sensitive(group, option) {
            return Err(invalid(&format!(
                "Option {option} in group {group} is not supported for domain specific \
                 configurations"
            )));
        }
    }
    Ok(())
}

/// A request's `config`: groups of options, each group a non-empty object
/// of supported options.
fn check_config(config: &Object) -> Result<Vec<ConfigOption>> {
    if config.is_empty() {
        return Err(invalid("No options specified"));
    }
    let mut out = Vec::new();
    for (group, options) in config {
        let options = match options {
            Value::Object(m) if !m.is_empty() => m,
            _ => {
                return Err(invalid(&format!(
                    "The value of group {group} specified in the config should be a \
                     dictionary of options"
                )))
            }
        };
        for (option, value) in options {
            check_group_and_option(Some(group), Some(option))?;
            out.push(ConfigOption {
                group: group.clone(),
                option: option.clone(),
                value: value.clone(),
                sensitive: is_sensitive(group, option),
            });
        }
    }
    Ok(out)
}

/// The `config` object of a request body (absent counts as empty, as in
/// Keystone, and is then refused as "No options specified").
fn body_config(body: &Body) -> Result<Object> {
    match body.object()?.remove("config") {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(Error::bad_request(
            "Invalid input for field 'config': must be an object",
        )),
    }
}

/// Options as `{group: {option: value}}`, leaving out sensitive ones.
fn as_config(options: &[ConfigOption]) -> Object {
    let mut config = Map::new();
    for o in options.iter().filter(|o| !o.sensitive) {
        if let Value::Object(g) = config
            .entry(o.group.clone())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            g.insert(o.option.clone(), o.value.clone());
        }
    }
    config
}

/// `GET /v3/domains/{domain_id}/config[/{group}[/{option}]]`.
async fn show(
    id: &Identity,
    ctx: &ferro_api::AuthContext,
    domain_id: &str,
    group: Option<&str>,
    option: Option<&str>,
) -> Result<Response> {
    if group == Some(SECURITY_COMPLIANCE) {
        return show_security_compliance(id, domain_id, option).await;
    }
    policy::reader(ctx, "identity:get_domain_config")?;
    check_group_and_option(group, option)?;
    load_domain(id, domain_id).await?;
    let options = domain_configs::list(id.db(), domain_id, group, option).await?;
    let shown: Vec<ConfigOption> = options.into_iter().filter(|o| !o.sensitive).collect();
    if shown.is_empty() {
        return Err(not_found(domain_id, group, option));
    }
    match (option, shown.as_slice()) {
        (Some(_), [one]) => Ok(ok(json!({"config": {one.option.clone(): one.value}}))),
        _ => Ok(ok(json!({"config": as_config(&shown)}))),
    }
}

/// The password rules (`password_regex`, `password_regex_description`) of
/// the default domain: readable by any caller, so clients can say what a
/// password must look like.
async fn show_security_compliance(
    id: &Identity,
    domain_id: &str,
    option: Option<&str>,
) -> Result<Response> {
    if domain_id != "default" {
        return Err(invalid(
            "Reading security compliance information for any domain other than the default \
             domain is not allowed or supported",
        ));
    }
    if option.is_some_and(|o| !READABLE_COMPLIANCE.contains(&o)) {
        return Err(invalid(
            "Reading security compliance values other than password_regex and \
             password_regex_description is not allowed",
        ));
    }
    let rules = &id.config().security_compliance;
    let value = |o: &str| match o {
        "password_regex" => json!(rules.password_regex_source),
        _ => json!(rules.password_regex_description),
    };
    match option {
        Some(o) => Ok(ok(json!({"config": {o: value(o)}}))),
        None => {
            let group: Map<String, Value> = READABLE_COMPLIANCE
                .iter()
                .map(|o| ((*o).to_owned(), value(o)))
                .collect();
            Ok(ok(json!({"config": {SECURITY_COMPLIANCE: group}})))
        }
    }
}

pub async fn show_all(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(domain_id): Path<String>,
) -> Result<Response> {
    show(&id, &ctx, &domain_id, None, None).await
}

pub async fn show_group(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group)): Path<(String, String)>,
) -> Result<Response> {
    show(&id, &ctx, &domain_id, Some(&group), None).await
}

pub async fn show_option(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group, option)): Path<(String, String, String)>,
) -> Result<Response> {
    show(&id, &ctx, &domain_id, Some(&group), Some(&option)).await
}

/// `PUT /v3/domains/{domain_id}/config`: replace the whole configuration;
/// 201 when the domain had none, else 200.
pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(domain_id): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_domain_config")?;
    load_domain(&id, &domain_id).await?;
    let options = check_config(&body_config(&body)?)?;
    let had_config = !domain_configs::list(id.db(), &domain_id, None, None)
        .await?
        .is_empty();
    domain_configs::replace(id.db(), &domain_id, &options).await?;
    let stored = domain_configs::list(id.db(), &domain_id, None, None).await?;
    let body = json!({"config": as_config(&stored)});
    Ok(if had_config { ok(body) } else { created(body) })
}

/// `PATCH .../config[/{group}[/{option}]]`: merge options in. With a group
/// (and option) in the URL, the body holds that group (option) only, and it
/// must already be set.
async fn update(
    id: &Identity,
    ctx: &ferro_api::AuthContext,
    domain_id: &str,
    group: Option<&str>,
    option: Option<&str>,
    body: &Body,
) -> Result<Response> {
    policy::admin(ctx, "identity:update_domain_config")?;
    load_domain(id, domain_id).await?;
    let mut config = body_config(body)?;
    if let (Some(g), Some(_)) = (group, option) {
        // The body names just the option: `{"config": {"url": ...}}`.
        let mut wrapped = Map::new();
        wrapped.insert(g.to_owned(), Value::Object(config));
        config = wrapped;
    }
    let options = check_config(&config)?;
    check_group_and_option(group, option)?;
    if let Some(g) = group {
        let in_group = config.get(g).and_then(Value::as_object);
        let single_option = in_group.is_some_and(|m| m.len() == 1);
        if config.len() != 1 || (option.is_some() && !single_option) {
            return Err(invalid(&match option {
                Some(o) => format!(
                    "Trying to update option {o} in group {g}, so that, and only that, option \
                     must be specified  in the config"
                ),
                None => format!(
                    "Trying to update group {g}, so that, and only that, group must be \
                     specified in the config"
                ),
            }));
        }
        let Some(in_group) = in_group else {
            let other = config.keys().next().cloned().unwrap_or_default();
            return Err(invalid(&format!(
                "request to update group {g}, but config provided contains group {other} \
                 instead"
            )));
        };
        if let Some(o) = option {
            if !in_group.contains_key(o) {
                let other = in_group.keys().next().cloned().unwrap_or_default();
                return Err(invalid(&format!(
                    "Trying to update option {o} in group {g}, but config provided contains \
                     option {other} instead"
                )));
            }
        }
        if domain_configs::list(id.db(), domain_id, group, option)
            .await?
            .is_empty()
        {
            return Err(not_found(domain_id, group, option));
        }
    }
    domain_configs::merge(id.db(), domain_id, &options).await?;
    let stored = domain_configs::list(id.db(), domain_id, None, None).await?;
    let shown = as_config(&stored);
    if shown.is_empty() {
        return Err(not_found(domain_id, None, None));
    }
    Ok(ok(json!({"config": shown})))
}

pub async fn update_all(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(domain_id): Path<String>,
    body: Body,
) -> Result<Response> {
    update(&id, &ctx, &domain_id, None, None, &body).await
}

pub async fn update_group(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group)): Path<(String, String)>,
    body: Body,
) -> Result<Response> {
    update(&id, &ctx, &domain_id, Some(&group), None, &body).await
}

pub async fn update_option(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group, option)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response> {
    update(&id, &ctx, &domain_id, Some(&group), Some(&option), &body).await
}

/// `DELETE .../config[/{group}[/{option}]]`: a group or option that is not
/// set is 404; the whole configuration may be deleted when empty.
async fn delete(
    id: &Identity,
    ctx: &ferro_api::AuthContext,
    domain_id: &str,
    group: Option<&str>,
    option: Option<&str>,
) -> Result<Response> {
    policy::admin(ctx, "identity:delete_domain_config")?;
    load_domain(id, domain_id).await?;
    check_group_and_option(group, option)?;
    if let Some(g) = group {
        if domain_configs::list(id.db(), domain_id, Some(g), None)
            .await?
            .is_empty()
        {
            return Err(not_found(domain_id, group, None));
        }
        if option.is_some()
            && domain_configs::list(id.db(), domain_id, group, option)
                .await?
                .is_empty()
        {
            return Err(not_found(domain_id, group, option));
        }
    }
    domain_configs::delete(id.db(), domain_id, group, option).await?;
    Ok(no_content())
}

pub async fn delete_all(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(domain_id): Path<String>,
) -> Result<Response> {
    delete(&id, &ctx, &domain_id, None, None).await
}

pub async fn delete_group(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group)): Path<(String, String)>,
) -> Result<Response> {
    delete(&id, &ctx, &domain_id, Some(&group), None).await
}

pub async fn delete_option(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((domain_id, group, option)): Path<(String, String, String)>,
) -> Result<Response> {
    delete(&id, &ctx, &domain_id, Some(&group), Some(&option)).await
}

/// `GET /v3/domains/config[/{group}[/{option}]]/default`: Keystone's
/// defaults of the options a domain may set (sensitive ones cannot be read).
fn defaults(group: Option<&str>, option: Option<&str>) -> Result<Value> {
    check_group_and_option(group, option)?;
    let group_json = |opts: &[(&str, DefaultValue)]| -> Value {
        Value::Object(
            opts.iter()
                .map(|(o, d)| ((*o).to_owned(), d.json()))
                .collect(),
        )
    };
    Ok(match (group, option) {
        (Some(g), Some(o)) => {
            let found = whitelisted(g).and_then(|opts| opts.iter().find(|(n, _)| *n == o));
            let Some((_, d)) = found else {
                return Err(invalid(&format!(
                    "Reading the default for option {o} in group {g} is not supported"
                )));
            };
            json!({ o: d.json() })
        }
        (Some(g), None) => json!({ g: group_json(whitelisted(g).unwrap_or(&[])) }),
        _ => json!({
            "identity": group_json(IDENTITY_OPTIONS),
            "ldap": group_json(LDAP_OPTIONS),
        }),
    })
}

pub async fn default_all(Ctx(ctx): Ctx) -> Result<Response> {
    policy::reader(&ctx, "identity:get_domain_config_default")?;
    Ok(ok(json!({"config": defaults(None, None)?})))
}

pub async fn default_group(Ctx(ctx): Ctx, Path(group): Path<String>) -> Result<Response> {
    policy::reader(&ctx, "identity:get_domain_config_default")?;
    Ok(ok(json!({"config": defaults(Some(&group), None)?})))
}

pub async fn default_option(
    Ctx(ctx): Ctx,
    Path((group, option)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader(&ctx, "identity:get_domain_config_default")?;
    Ok(ok(
        json!({"config": defaults(Some(&group), Some(&option))?}),
    ))
}
