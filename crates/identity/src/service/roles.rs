//! Effective roles: direct and group assignments, inherited ones from the
//! domain and parent projects, expanded through implied roles.

use std::collections::{BTreeSet, HashMap};

use crate::error::Result;
use crate::store::assignments::{self, Assignment, Target, SYSTEM_ALL};
use crate::store::roles::{self, Role};
use crate::store::{groups, projects, Db};
use crate::token::Scope;

/// The ids of `project_id` and all its ancestor projects, nearest first,
/// plus its domain id last (as upstream, a top-level project's parent is its
/// domain).
pub async fn lineage(db: &Db, project_id: &str) -> Result<(Vec<String>, String)> {
    let chain = projects::ancestry(db, project_id).await?;
    let domain = chain.last().map(|(_, d)| d.clone()).unwrap_or_default();
    Ok((chain.into_iter().map(|(id, _)| id).collect(), domain))
}

/// Whether assignment `a` grants its role on `scope` (ignoring who holds it).
pub fn applies(a: &Assignment, scope: &Scope, project_chain: &[String], domain_id: &str) -> bool {
    match scope {
        Scope::Project(pid) => match a.target {
            Target::Project if !a.inherited => &a.target_id == pid,
            Target::Project => project_chain.iter().skip(1).any(|p| p == &a.target_id),
            Target::Domain => a.inherited && a.target_id == domain_id,
            Target::System => false,
        },
        Scope::Domain(did) => a.target == Target::Domain && !a.inherited && &a.target_id == did,
        Scope::System => a.target == Target::System && a.target_id == SYSTEM_ALL,
        Scope::Unscoped => false,
    }
}

/// The role ids a user holds on `scope` directly or through groups, before
/// implied-role expansion.
pub async fn direct_role_ids(db: &Db, user_id: &str, scope: &Scope) -> Result<BTreeSet<String>> {
    if *scope == Scope::Unscoped {
        return Ok(BTreeSet::new());
    }
    let group_ids = groups::group_ids_for_user(db, user_id).await?;
    let held = assignments::list_for_actors(db, user_id, &group_ids).await?;
    let (chain, domain) = match scope {
        Scope::Project(p) => lineage(db, p).await?,
        _ => (Vec::new(), String::new()),
    };
    Ok(held
        .iter()
        .filter(|a| applies(a, scope, &chain, &domain))
        .map(|a| a.role_id.clone())
        .collect())
}

/// Expand role ids through implied roles; returns the global roles only
/// (domain-specific roles count only through what they imply, as upstream).
pub async fn expand(db: &Db, ids: BTreeSet<String>) -> Result<Vec<Role>> {
    let all = expand_ids(db, ids).await?;
    let mut out: Vec<Role> = roles::list(db)
        .await?
        .into_iter()
        .filter(|r| all.contains(&r.id) && r.domain_id.is_none())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Role ids expanded through implied roles, domain-specific ones kept.
pub async fn expand_ids(db: &Db, ids: BTreeSet<String>) -> Result<BTreeSet<String>> {
    let implied = roles::list_implied(db).await?;
    let mut all = ids.clone();
    let mut frontier: Vec<String> = ids.into_iter().collect();
    while let Some(r) = frontier.pop() {
        for (prior, imp) in &implied {
            if *prior == r && all.insert(imp.clone()) {
                frontier.push(imp.clone());
            }
        }
    }
    Ok(all)
}

/// Every role id a user holds on `scope`: direct, group, inherited and
/// implied, domain-specific roles included (what a trustor can delegate).
pub async fn effective_ids(db: &Db, user_id: &str, scope: &Scope) -> Result<BTreeSet<String>> {
    let ids = direct_role_ids(db, user_id, scope).await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    expand_ids(db, ids).await
}

/// The roles a user effectively holds on `scope`.
pub async fn effective(db: &Db, user_id: &str, scope: &Scope) -> Result<Vec<Role>> {
    let ids = direct_role_ids(db, user_id, scope).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    expand(db, ids).await
}

/// Project ids on which a user has any role (directly, via groups or by
/// inheritance).
pub async fn projects_of_user(db: &Db, user_id: &str) -> Result<Vec<String>> {
    let group_ids = groups::group_ids_for_user(db, user_id).await?;
    let held = assignments::list_for_actors(db, user_id, &group_ids).await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let tree = projects::tree(db).await?;
    let parents: HashMap<&str, Option<&str>> = tree
        .iter()
        .map(|(id, parent, _)| (id.as_str(), parent.as_deref()))
        .collect();
    let mut out = Vec::new();
    for (id, _, domain) in &tree {
        let mut chain = vec![id.clone()];
        let mut cur = parents.get(id.as_str()).copied().flatten();
        while let Some(p) = cur {
            if chain.iter().any(|c| c == p) || !parents.contains_key(p) {
                break;
            }
            chain.push(p.to_owned());
            cur = parents.get(p).copied().flatten();
        }
        let scope = Scope::Project(id.clone());
        if held.iter().any(|a| applies(a, &scope, &chain, domain)) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Domain ids on which a user has a role.
pub async fn domains_of_user(db: &Db, user_id: &str) -> Result<Vec<String>> {
    let group_ids = groups::group_ids_for_user(db, user_id).await?;
    let held = assignments::list_for_actors(db, user_id, &group_ids).await?;
    let mut out: Vec<String> = held
        .iter()
        .filter(|a| a.target == Target::Domain && !a.inherited)
        .map(|a| a.target_id.clone())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
