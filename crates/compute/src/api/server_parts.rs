//! Sub-resources of a server: metadata and ips.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::common::parent_and_last as pair;
use super::common::{load_server, no_content, ok, require_member, wrapped, Body, Caller};
use super::flavors::last;
use super::server_fields::check_metadata;
use crate::error::{Error, Result};
use crate::quota;
use crate::store::instances;
use crate::worker::owner_context;
use crate::ComputeService;

pub async fn list_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "metadata": i.metadata })))
}

async fn write_meta(
    svc: &ComputeService,
    c: &Caller,
    id: &str,
    body: &Body,
    replace: bool,
) -> Result<Response> {
    require_member(c)?;
    let mut i = load_server(svc, c, id).await?;
    let new = wrapped(&body.object()?, "metadata")?;
    check_metadata(&new)?;
    if replace {
        i.metadata = new;
    } else {
        i.metadata.extend(new);
    }
    check_metadata(&i.metadata)?;
    quota::check_metadata_items(svc, &i.project_id, i.metadata.len()).await?;
    instances::update_fields(svc.db(), &i).await?;
    Ok(ok(json!({ "metadata": i.metadata })))
}

pub async fn merge_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    write_meta(&svc, &c, last(&p), &body, false).await
}

pub async fn replace_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    write_meta(&svc, &c, last(&p), &body, true).await
}

pub async fn show_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, key) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let v = i
        .metadata
        .get(&key)
        .ok_or_else(|| Error::not_found("Metadata item was not found"))?;
    Ok(ok(json!({ "meta": { key: v } })))
}

pub async fn put_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
    body: Body,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, key) = pair(&p);
    let meta = wrapped(&body.object()?, "meta")?;
    if meta.len() != 1 || !meta.contains_key(&key) {
        return Err(Error::bad_request("Request body and URI mismatch"));
    }
    check_metadata(&meta)?;
    let mut i = load_server(&svc, &c, &sid).await?;
    i.metadata.extend(meta.clone());
    check_metadata(&i.metadata)?;
    quota::check_metadata_items(&svc, &i.project_id, i.metadata.len()).await?;
    instances::update_fields(svc.db(), &i).await?;
    Ok(ok(json!({ "meta": meta })))
}

pub async fn delete_meta(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let (sid, key) = pair(&p);
    let mut i = load_server(&svc, &c, &sid).await?;
    if i.metadata.remove(&key).is_none() {
        return Err(Error::not_found("Metadata item was not found"));
    }
    instances::update_fields(svc.db(), &i).await?;
    Ok(no_content())
}

async fn address_map(svc: &ComputeService, i: &instances::Instance) -> Result<Map<String, Value>> {
    let ports = svc
        .peers()
        .network
        .ports_of_device(&owner_context(i), &i.id)
        .await?;
    let mut out = Map::new();
    for p in ports {
        let list = out
            .entry(p.network_name.clone())
            .or_insert_with(|| json!([]));
        if let Some(l) = list.as_array_mut() {
            for (_, ip, v) in &p.fixed_ips {
                l.push(json!({"version": v, "addr": ip}));
            }
            for f in &p.floating_ips {
                l.push(json!({"version": 4, "addr": f}));
            }
        }
    }
    Ok(out)
}

pub async fn ips(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({ "addresses": address_map(&svc, &i).await? })))
}

pub async fn ips_of_network(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let (sid, net) = pair(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let map = address_map(&svc, &i).await?;
    let v = map
        .get(&net)
        .ok_or_else(|| Error::not_found("Instance is not a member of specified network"))?;
    Ok(ok(json!({ net: v })))
}
