//! Availability zones, as Nova derives them: a host's zone is the
//! `availability_zone` of a host aggregate it belongs to, else the default
//! zone `nova`; the zones listed are those of the compute hosts.

use crate::error::Result;
use crate::store::{aggregates, services};
use crate::ComputeService;

/// Nova's `default_availability_zone`.
pub const DEFAULT_ZONE: &str = "nova";

/// The zone of `host`.
pub async fn of_host(svc: &ComputeService, host: &str) -> Result<String> {
    Ok(zone_in(&aggregates::list(svc.db()).await?, host))
}

/// The zone `aggs` give `host`.
fn zone_in(aggs: &[aggregates::Aggregate], host: &str) -> String {
    aggs.iter()
        .filter(|a| a.hosts.iter().any(|h| h == host))
        .find_map(|a| a.availability_zone().map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_ZONE.to_owned())
}

/// `(zone, hosts)` of every compute host, zones sorted, each once.
pub async fn all(svc: &ComputeService) -> Result<Vec<(String, Vec<String>)>> {
    let mut hosts: Vec<String> = services::list(svc.db())
        .await?
        .into_iter()
        .filter(|s| s.binary == "nova-compute")
        .map(|s| s.host)
        .collect();
    if hosts.is_empty() {
        hosts.push(svc.config().host.clone());
    }
    let aggs = aggregates::list(svc.db()).await?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for h in hosts {
        let z = zone_in(&aggs, &h);
        match out.iter_mut().find(|(name, _)| *name == z) {
            Some((_, list)) => list.push(h),
            None => out.push((z, vec![h])),
        }
    }
    out.sort();
    Ok(out)
}
