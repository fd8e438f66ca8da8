//! Role grants (every user/group × project/domain/system route, and the
//! OS-INHERIT ones) and `GET /v3/role_assignments`.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ferro_api::BaseUrl;
use serde_json::{json, Value};

use super::common::{collection, no_content, Ctx, Filters, QueryParams};
use crate::error::{Error, Result};
use crate::store::assignments::{self, Actor, Assignment, Target, SYSTEM_ALL};
use crate::store::roles::{self, Role};
use crate::store::{domains, groups, projects, users};
use crate::{policy, Identity};

/// What a grant route addresses.
#[derive(Clone, Copy)]
struct Kind {
    target: Target,
    actor: Actor,
    inherited: bool,
}

pub fn routes() -> Router<Identity> {
    let mut r = Router::new().route("/v3/role_assignments", get(list_assignments));
    for (target, tpath) in [
        (Target::Project, "projects"),
        (Target::Domain, "domains"),
        (Target::System, "system"),
    ] {
        for (actor, apath) in [(Actor::User, "users"), (Actor::Group, "groups")] {
            let base = match target {
                Target::System => format!("/v3/system/{apath}/{{actor}}/roles"),
                _ => format!("/v3/{tpath}/{{target}}/{apath}/{{actor}}/roles"),
            };
            r = r.merge(grant_routes(
                &base,
                "",
                Kind {
                    target,
                    actor,
                    inherited: false,
                },
            ));
            if target != Target::System {
                let inh = format!("/v3/OS-INHERIT/{tpath}/{{target}}/{apath}/{{actor}}/roles");
                r = r.merge(grant_routes(
                    &inh,
                    "/inherited_to_projects",
                    Kind {
                        target,
                        actor,
                        inherited: true,
                    },
                ));
            }
        }
    }
    r
}

fn grant_routes(base: &str, suffix: &str, k: Kind) -> Router<Identity> {
    let one = format!("{base}/{{role}}{suffix}");
    let all = format!("{base}{suffix}");
    Router::new()
        .route(
            &one,
            axum::routing::put(move |s, c, p| grant(s, c, p, k))
                .head(move |s, c, p| check(s, c, p, k))
                .get(move |s, c, p| check(s, c, p, k))
                .delete(move |s, c, p| revoke(s, c, p, k)),
        )
        .route(&all, get(move |s, c, b, p| list_grants(s, c, b, p, k)))
}

/// Resolve the path to an assignment, checking that each part exists.
async fn resolve(id: &Identity, params: &HashMap<String, String>, k: Kind) -> Result<Assignment> {
    let get = |key: &str| params.get(key).cloned().unwrap_or_default();
    let (actor_id, role_id) = (get("actor"), get("role"));
    let target_id = match k.target {
        Target::System => SYSTEM_ALL.to_owned(),
        _ => get("target"),
    };
    match k.target {
        Target::Project => {
            projects::get(id.db(), &target_id)
                .await?
                .ok_or_else(|| Error::no_such("project", &target_id))?;
        }
        Target::Domain => {
            domains::get(id.db(), &target_id)
                .await?
                .ok_or_else(|| Error::no_such("domain", &target_id))?;
        }
        Target::System => {}
    }
    match k.actor {
        Actor::User => {
            users::get(id.db(), &actor_id)
                .await?
                .ok_or_else(|| Error::no_such("user", &actor_id))?;
        }
        Actor::Group => {
            groups::get(id.db(), &actor_id)
                .await?
                .ok_or_else(|| Error::no_such("group", &actor_id))?;
        }
    }
    if !role_id.is_empty() {
        roles::get(id.db(), &role_id)
            .await?
            .ok_or_else(|| Error::no_such("role", &role_id))?;
    }
    Ok(Assignment {
        actor: k.actor,
        actor_id,
        target: k.target,
        target_id,
        role_id,
        inherited: k.inherited,
    })
}

async fn grant(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(p): Path<HashMap<String, String>>,
    k: Kind,
) -> Result<Response> {
    policy::admin(&ctx, "identity:create_grant")?;
    let a = resolve(&id, &p, k).await?;
    assignments::grant(id.db(), &a).await?;
    Ok(no_content())
}

async fn check(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(p): Path<HashMap<String, String>>,
    k: Kind,
) -> Result<Response> {
    policy::reader(&ctx, "identity:check_grant")?;
    let a = resolve(&id, &p, k).await?;
    if !assignments::exists(id.db(), &a).await? {
        return Err(Error::not_found(format!(
            "Could not find role assignment with role: {}, {}: {}, {}: {}.",
            a.role_id,
            a.actor.as_str(),
            a.actor_id,
            a.target.as_str(),
            a.target_id
        )));
    }
    Ok(no_content())
}

async fn revoke(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(p): Path<HashMap<String, String>>,
    k: Kind,
) -> Result<Response> {
    policy::admin(&ctx, "identity:revoke_grant")?;
    let a = resolve(&id, &p, k).await?;
    if !assignments::revoke(id.db(), &a).await? {
        return Err(Error::not_found(format!(
            "Could not find role assignment with role: {}.",
            a.role_id
        )));
    }
    if a.actor == Actor::User && a.target == Target::Project && !a.inherited {
        id.revoke_user_project(&a.actor_id, &a.target_id).await?;
    }
    Ok(no_content())
}

async fn list_grants(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(p): Path<HashMap<String, String>>,
    k: Kind,
) -> Result<Response> {
    policy::reader(&ctx, "identity:list_grants")?;
    let a = resolve(&id, &p, k).await?;
    let held: BTreeSet<String> = assignments::list(id.db())
        .await?
        .into_iter()
        .filter(|x| {
            x.actor == a.actor
                && x.actor_id == a.actor_id
                && x.target == a.target
                && x.target_id == a.target_id
                && x.inherited == a.inherited
        })
        .map(|x| x.role_id)
        .collect();
    let items = roles::list(id.db())
        .await?
        .iter()
        .filter(|r| held.contains(&r.id))
        .map(|r| super::roles::render(r, &base))
        .collect();
    Ok(collection("roles", items, &base.0))
}

/// One row of `/v3/role_assignments`, before rendering.
#[derive(Clone)]
struct Row {
    a: Assignment,
    /// Set when expanded from a group membership (effective mode).
    via_group: Option<String>,
    /// Set when expanded from a prior role (effective mode).
    prior_role: Option<String>,
}

async fn list_assignments(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let f = Filters::new(&q);
    policy::domain_reader(
        &ctx,
        "identity:list_role_assignments",
        f.get("scope.domain.id"),
    )?;
    if f.flag("effective") && f.get("group.id").is_some() {
        return Err(Error::bad_request(
            "Invalid input: 'effective' cannot be combined with 'group.id' (groups are expanded).",
        ));
    }
    if f.flag("include_subtree") && f.get("scope.project.id").is_none() {
        return Err(Error::bad_request(
            "Invalid input for field 'include_subtree': requires 'scope.project.id'.",
        ));
    }
    let all_roles = roles::list(id.db()).await?;
    let mut rows: Vec<Row> = assignments::list(id.db())
        .await?
        .into_iter()
        .map(|a| Row {
            a,
            via_group: None,
            prior_role: None,
        })
        .collect();
    if f.flag("effective") {
        rows = expand_groups(&id, rows).await?;
        rows = expand_inherited(&id, rows).await?;
        rows = expand_implied(&id, rows, &all_roles).await?;
        rows.retain(|r| {
            all_roles
                .iter()
                .any(|x| x.id == r.a.role_id && x.domain_id.is_none())
        });
    }
    rows.retain(|r| keep(r, &f));
    let names = f.flag("include_names");
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(render(&id, r, &base, names, &all_roles).await?);
    }
    Ok(collection(
        "role_assignments",
        items,
        &base.join("/v3/role_assignments"),
    ))
}

fn keep(r: &Row, f: &Filters) -> bool {
    let a = &r.a;
    let eq = |key: &str, val: &str| f.get(key).is_none_or(|want| want == val);
    let is = |key: &str, cond: bool| f.get(key).is_none() || cond;
    eq("role.id", &a.role_id)
        && is(
            "user.id",
            a.actor == Actor::User && f.get("user.id") == Some(&a.actor_id),
        )
        && is(
            "group.id",
            a.actor == Actor::Group && f.get("group.id") == Some(&a.actor_id),
        )
        && is(
            "scope.project.id",
            a.target == Target::Project && f.get("scope.project.id") == Some(&a.target_id),
        )
        && is(
            "scope.domain.id",
            a.target == Target::Domain && f.get("scope.domain.id") == Some(&a.target_id),
        )
        && is("scope.system", a.target == Target::System)
        && is("scope.OS-INHERIT:inherited_to", a.inherited)
}

async fn expand_groups(id: &Identity, rows: Vec<Row>) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for r in rows {
        if r.a.actor != Actor::Group {
            out.push(r);
            continue;
        }
        for u in users::list_in_group(id.db(), &r.a.actor_id).await? {
            let mut a = r.a.clone();
            a.actor = Actor::User;
            a.actor_id = u.id;
            out.push(Row {
                a,
                via_group: Some(r.a.actor_id.clone()),
                prior_role: None,
            });
        }
    }
    Ok(out)
}

/// Inherited grants apply to the projects below their target, not the target.
async fn expand_inherited(id: &Identity, rows: Vec<Row>) -> Result<Vec<Row>> {
    let all = id.all_projects().await?;
    let below = |root: &str, target: Target| -> Vec<String> {
        all.iter()
            .filter(|p| match target {
                Target::Domain => p.domain_id == root,
                _ => is_descendant(&all, &p.id, root),
            })
            .map(|p| p.id.clone())
            .collect()
    };
    let mut out = Vec::new();
    for r in rows {
        if !r.a.inherited {
            out.push(r);
            continue;
        }
        for pid in below(&r.a.target_id, r.a.target) {
            let mut a = r.a.clone();
            a.target = Target::Project;
            a.target_id = pid;
            a.inherited = false;
            out.push(Row { a, ..r.clone() });
        }
    }
    Ok(out)
}

fn is_descendant(all: &[projects::Project], pid: &str, root: &str) -> bool {
    let mut cur = all
        .iter()
        .find(|p| p.id == pid)
        .and_then(|p| p.parent_id.clone());
    let mut hops = 0;
    while let Some(parent) = cur {
        if parent == root {
            return true;
        }
        hops += 1;
        if hops > 64 {
            return false;
        }
        cur = all
            .iter()
            .find(|p| p.id == parent)
            .and_then(|p| p.parent_id.clone());
    }
    false
}

async fn expand_implied(id: &Identity, rows: Vec<Row>, all: &[Role]) -> Result<Vec<Row>> {
    let rules = roles::list_implied(id.db()).await?;
    let mut out = Vec::new();
    for r in rows {
        let mut seen = BTreeSet::from([r.a.role_id.clone()]);
        let mut frontier = vec![r.a.role_id.clone()];
        while let Some(cur) = frontier.pop() {
            for (prior, implied) in rules.iter().filter(|(p, _)| *p == cur) {
                if seen.insert(implied.clone()) && all.iter().any(|x| x.id == *implied) {
                    let mut a = r.a.clone();
                    a.role_id = implied.clone();
                    out.push(Row {
                        a,
                        via_group: r.via_group.clone(),
                        prior_role: Some(prior.clone()),
                    });
                    frontier.push(implied.clone());
                }
            }
        }
        out.push(r);
    }
    Ok(out)
}

fn assignment_link(a: &Assignment, base: &BaseUrl) -> String {
    let actor = match a.actor {
        Actor::User => "users",
        Actor::Group => "groups",
    };
    match (a.target, a.inherited) {
        (Target::System, _) => base.join(&format!(
            "/v3/system/{actor}/{}/roles/{}",
            a.actor_id, a.role_id
        )),
        (t, false) => base.join(&format!(
            "/v3/{}s/{}/{actor}/{}/roles/{}",
            t.as_str(),
            a.target_id,
            a.actor_id,
            a.role_id
        )),
        (t, true) => base.join(&format!(
            "/v3/OS-INHERIT/{}s/{}/{actor}/{}/roles/{}/inherited_to_projects",
            t.as_str(),
            a.target_id,
            a.actor_id,
            a.role_id
        )),
    }
}

async fn render(
    id: &Identity,
    r: &Row,
    base: &BaseUrl,
    names: bool,
    all_roles: &[Role],
) -> Result<Value> {
    let a = &r.a;
    let mut role = json!({"id": a.role_id});
    if names {
        if let Some(x) = all_roles.iter().find(|x| x.id == a.role_id) {
            role["name"] = json!(x.name);
            if let Some(d) = &x.domain_id {
                role["domain"] = named_domain(id, d).await?;
            }
        }
    }
    let mut scope = match a.target {
        Target::System => json!({"system": {"all": true}}),
        Target::Project => {
            let mut p = json!({"id": a.target_id});
            if names {
                if let Some(x) = projects::get(id.db(), &a.target_id).await? {
                    p["name"] = json!(x.name);
                    p["domain"] = named_domain(id, &x.domain_id).await?;
                }
            }
            json!({"project": p})
        }
        Target::Domain => json!({"domain": named_domain_opt(id, &a.target_id, names).await?}),
    };
    if a.inherited {
        scope["OS-INHERIT:inherited_to"] = json!("projects");
    }
    let mut links = json!({"assignment": assignment_link(a, base)});
    if let Some(g) = &r.via_group {
        let mut ga = a.clone();
        ga.actor = Actor::Group;
        ga.actor_id = g.clone();
        links["assignment"] = json!(assignment_link(&ga, base));
        links["membership"] = json!(base.join(&format!("/v3/groups/{g}/users/{}", a.actor_id)));
    }
    if let Some(p) = &r.prior_role {
        links["prior_role"] = json!(base.join(&format!("/v3/roles/{p}")));
    }
    let mut out = json!({"role": role, "scope": scope, "links": links});
    let (key, actor) = match a.actor {
        Actor::User => {
            let mut u = json!({"id": a.actor_id});
            if names {
                if let Some(x) = users::get(id.db(), &a.actor_id).await? {
                    u["name"] = json!(x.name);
                    u["domain"] = named_domain(id, &x.domain_id).await?;
                }
            }
            ("user", u)
        }
        Actor::Group => {
            let mut g = json!({"id": a.actor_id});
            if names {
                if let Some(x) = groups::get(id.db(), &a.actor_id).await? {
                    g["name"] = json!(x.name);
                    g["domain"] = named_domain(id, &x.domain_id).await?;
                }
            }
            ("group", g)
        }
    };
    out[key] = actor;
    Ok(out)
}

async fn named_domain(id: &Identity, domain_id: &str) -> Result<Value> {
    named_domain_opt(id, domain_id, true).await
}

async fn named_domain_opt(id: &Identity, domain_id: &str, names: bool) -> Result<Value> {
    let mut d = json!({"id": domain_id});
    if names {
        if let Some(x) = domains::get(id.db(), domain_id).await? {
            d["name"] = json!(x.name);
        }
    }
    Ok(d)
}
