//! The compute quota limits in force. A limit comes from, most specific
//! first: the user's row, the project's row, the `default` quota class,
//! upstream's default. `-1` means unlimited. The network-era resources
//! (`fixed_ips`, `floating_ips`, `security_groups`, `security_group_rules`)
//! are kept and shown but not enforced here (Neutron owns them).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::store::{instances, quotas};
use crate::ComputeService;

/// Every resource with upstream's default limit, in the order Nova lists them.
pub const RESOURCES: [(&str, i64); 14] = [
    ("cores", 20),
    ("fixed_ips", -1),
    ("floating_ips", -1),
    ("injected_file_content_bytes", 10240),
    ("injected_file_path_bytes", 255),
    ("injected_files", 5),
    ("instances", 10),
    ("key_pairs", 100),
    ("metadata_items", 128),
    ("ram", 51200),
    ("security_group_rules", -1),
    ("security_groups", -1),
    ("server_group_members", 10),
    ("server_groups", 10),
];

/// The class every project belongs to.
pub const DEFAULT_CLASS: &str = "default";

/// A limit per resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits(pub BTreeMap<String, i64>);

impl Limits {
    fn builtin() -> Self {
        Limits(
            RESOURCES
                .iter()
                .map(|(r, l)| ((*r).to_owned(), *l))
                .collect(),
        )
    }

    fn overlay(mut self, rows: Vec<(String, i64)>) -> Self {
        for (r, l) in rows {
            if self.0.contains_key(&r) {
                self.0.insert(r, l);
            }
        }
        self
    }

    pub fn get(&self, resource: &str) -> i64 {
        self.0.get(resource).copied().unwrap_or(-1)
    }
}

/// The limits of a quota class (upstream defaults where it sets none).
pub async fn class_limits(svc: &ComputeService, class: &str) -> Result<Limits> {
    let mut limits = Limits::builtin();
    if class != DEFAULT_CLASS {
        limits = limits.overlay(quotas::class_limits(svc.db(), DEFAULT_CLASS).await?);
    }
    Ok(limits.overlay(quotas::class_limits(svc.db(), class).await?))
}

/// The defaults every project starts with.
pub async fn defaults(svc: &ComputeService) -> Result<Limits> {
    class_limits(svc, DEFAULT_CLASS).await
}

pub async fn project_limits(svc: &ComputeService, project: &str) -> Result<Limits> {
    let rows = quotas::limits(svc.db(), project, "").await?;
    Ok(defaults(svc).await?.overlay(rows))
}

pub async fn user_limits(svc: &ComputeService, project: &str, user: &str) -> Result<Limits> {
    let rows = quotas::limits(svc.db(), project, user).await?;
    Ok(project_limits(svc, project).await?.overlay(rows))
}

/// `used + requested` must fit `limit` (unless unlimited), else Nova's 403.
pub fn check(resource: &str, requested: i64, used: i64, limit: i64) -> Result<()> {
    if limit >= 0 && used.saturating_add(requested) > limit {
        return Err(Error::forbidden(format!(
            "Quota exceeded for {resource}: Requested {requested}, but already used {used} of {limit} {resource}"
        )));
    }
    Ok(())
}

/// Room for `n` more servers of `vcpus`/`ram` each, for the project and for
/// the user within it.
pub async fn check_servers(
    svc: &ComputeService,
    project: &str,
    user: &str,
    n: i64,
    vcpus: i64,
    ram: i64,
) -> Result<()> {
    let all = instances::list(svc.db(), Some(project)).await?;
    let mine: Vec<_> = all.iter().filter(|i| i.user_id == user).cloned().collect();
    for (list, limits) in [
        (&all, project_limits(svc, project).await?),
        (&mine, user_limits(svc, project, user).await?),
    ] {
        let (count, cores, mem) = instances::sum_usage(list);
        check("instances", n, count, limits.get("instances"))?;
        check("cores", n.saturating_mul(vcpus), cores, limits.get("cores"))?;
        check("ram", n.saturating_mul(ram), mem, limits.get("ram"))?;
    }
    Ok(())
}

/// A server's metadata may hold at most the project's `metadata_items`.
pub async fn check_metadata_items(svc: &ComputeService, project: &str, count: usize) -> Result<()> {
    let limit = project_limits(svc, project).await?.get("metadata_items");
    if limit >= 0 && count as i64 > limit {
        return Err(Error::forbidden(format!(
            "Quota exceeded for metadata_items: at most {limit} items"
        )));
    }
    Ok(())
}
