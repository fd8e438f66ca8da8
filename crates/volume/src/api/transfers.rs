//! Volume transfers: `/os-volume-transfer` (3.0) and `/volume-transfers`
//! (the same, plus `no_snapshots` from 3.55 and paging/sorting from 3.59).
//! Views add `no_snapshots` (3.55) and `source_project_id`,
//! `destination_project_id`, `accepted` (3.57) on both routes.
//!
//! Create offers an `available` volume (it becomes `awaiting-transfer`) and
//! returns the `auth_key` once (only its salted hash is stored); accept, by
//! any project knowing id and key, moves the volume (and, unless
//! `no_snapshots`, its snapshots) to the accepter's project within its
//! quota; delete withdraws the offer.

use axum::extract::State;
use axum::response::Response;
use ferro_api::time::now_micros;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::common::{
    accepted, accepted_empty, bool_value, collection, list_opts, paginate, ts, valid_id, Body, Ctx,
    ListOpts,
};
use super::filters::Attr;
use super::validate;
use super::volumes::visible as visible_volume;
use crate::error::{Error, Result};
use crate::ops::{check_quota, Delta};
use crate::store::transfers::{self as store, Transfer};
use crate::store::{snapshots, volumes};
use crate::VolumeService;

/// Which of the two routes serves the request.
#[derive(Clone, Copy, PartialEq)]
pub enum Route {
    Legacy,
    V3,
}

const COLLECTION: &str = "os-volume-transfer";

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Transfer {id} could not be found."))
}

fn random_hex(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

fn crypt_hash(salt: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(key.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn summary(ctx: &Ctx, t: &Transfer) -> Value {
    json!({
        "id": t.id,
        "volume_id": t.volume_id,
        "name": t.name,
        "links": ctx.links(COLLECTION, &t.id),
    })
}

fn detail(ctx: &Ctx, t: &Transfer) -> Value {
    let mut m = json!({
        "id": t.id,
        "created_at": ts(t.created_at),
        "name": t.name,
        "volume_id": t.volume_id,
        "links": ctx.links(COLLECTION, &t.id),
    });
    if ctx.at(55) {
        m["no_snapshots"] = json!(t.no_snapshots);
    }
    if ctx.at(57) {
        m["destination_project_id"] = json!(t.destination_project_id);
        m["source_project_id"] = json!(t.source_project_id);
        m["accepted"] = json!(t.accepted);
    }
    m
}

/// A live transfer of a volume the caller may see, or 404.
async fn visible(svc: &VolumeService, ctx: &Ctx, id: &str) -> Result<Transfer> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    match store::get(svc.db(), id).await? {
        Some(t) if ctx.sees(&t.source_project_id) => Ok(t),
        _ => Err(not_found(id)),
    }
}

const RESERVED: &[&str] = &[
    "limit",
    "marker",
    "offset",
    "sort",
    "sort_key",
    "sort_dir",
    "all_tenants",
    "all_projects",
];

fn attr<'a>(t: &'a Transfer, key: &str) -> Attr<'a> {
    match key {
        "id" => Attr::Str(Some(&t.id)),
        "name" => Attr::Str(t.name.as_deref()),
        "volume_id" => Attr::Str(Some(&t.volume_id)),
        "source_project_id" | "project_id" => Attr::Str(Some(&t.source_project_id)),
        _ => Attr::Unknown,
    }
}

const SORT_KEYS: &[&str] = &["id", "name", "volume_id", "created_at"];

fn sort_value(t: &Transfer, key: &str) -> Value {
    match key {
        "id" => json!(t.id),
        "name" => json!(t.name),
        "volume_id" => json!(t.volume_id),
        "created_at" => json!(t.created_at),
        _ => Value::Null,
    }
}

async fn listing(svc: &VolumeService, ctx: &Ctx, route: Route, full: bool) -> Result<Response> {
    let paged = route == Route::V3 && ctx.at(59);
    let opts = if paged {
        list_opts(ctx, SORT_KEYS)?
    } else {
        // oldest first; `limit` and `offset` apply, sorting and markers do not
        let num = |k: &str| -> Result<Option<usize>> {
            ctx.q(k)
                .map(|s| {
                    s.trim().parse::<usize>().map_err(|_| {
                        Error::bad_request(format!(
                            "Invalid input received: {k} must be a non-negative integer."
                        ))
                    })
                })
                .transpose()
        };
        ListOpts {
            offset: num("offset")?.unwrap_or(0),
            limit: num("limit")?,
            marker: None,
            sort: vec![("created_at".into(), true), ("id".into(), true)],
        }
    };
    let scope = if ctx.all_tenants()? {
        None
    } else {
        Some(ctx.project_id.as_str())
    };
    // transfers take their filters straight to the database upstream: an
    // attribute transfers do not have matches nothing
    let mut list = store::list(svc.db(), scope).await?;
    for (k, v) in &ctx.query {
        if RESERVED.contains(&k.as_str()) {
            continue;
        }
        let key = if k == "display_name" {
            "name"
        } else {
            k.as_str()
        };
        list.retain(|t| match attr(t, key) {
            Attr::Str(s) => s == Some(v.as_str()),
            _ => false,
        });
    }
    let (page, more) = paginate(list, &opts, |t| t.id.as_str(), sort_value, "transfers")?;
    let path = if full {
        "volume-transfers/detail"
    } else {
        "volume-transfers"
    };
    Ok(collection(
        ctx,
        "transfers",
        path,
        &page,
        more && paged,
        |t| &t.id,
        |t| {
            if full {
                detail(ctx, t)
            } else {
                summary(ctx, t)
            }
        },
    ))
}

pub async fn list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, &ctx, Route::Legacy, false).await
}

pub async fn list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, &ctx, Route::Legacy, true).await
}

pub async fn v3_list(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, &ctx, Route::V3, false).await
}

pub async fn v3_list_detail(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    listing(&svc, &ctx, Route::V3, true).await
}

pub async fn show(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    let t = visible(&svc, &ctx, ctx.param("transfer_id")).await?;
    Ok(super::common::ok(json!({"transfer": detail(&ctx, &t)})))
}

async fn create_on(svc: &VolumeService, ctx: &Ctx, body: &Body, route: Route) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(body, "transfer", &[])?;
    let with_snaps_flag = route == Route::V3 && ctx.at(55);
    let keys: &[&str] = if with_snaps_flag {
        &["volume_id", "name", "no_snapshots"]
    } else {
        &["volume_id", "name"]
    };
    validate::no_extra(&obj, keys, "transfer")?;
    let volume_id = validate::opt_uuid(&obj, "volume_id")?.ok_or_else(|| {
        Error::bad_request(
            "Invalid input for field/attribute transfer: 'volume_id' is a required property.",
        )
    })?;
    let name = validate::name(&obj, "name")?;
    validate::not_null(&obj, "no_snapshots")?;
    let no_snapshots = match obj.get("no_snapshots") {
        Some(v) => bool_value(v, "no_snapshots")?,
        None => false,
    };
    let vol = visible_volume(svc, ctx, &volume_id).await?;
    if vol.status != "available" {
        return Err(Error::bad_request(
            "Invalid volume: status must be available",
        ));
    }
    if !no_snapshots {
        for s in snapshots::of_volume(svc.db(), &vol.id).await? {
            if s.status != "available" {
                return Err(Error::bad_request(format!(
                    "Invalid snapshot: snapshot: {} status must be available",
                    s.id
                )));
            }
        }
    }
    let key = random_hex(16);
    let salt = random_hex(8);
    let now = now_micros();
    let t = Transfer {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        name,
        crypt_hash: crypt_hash(&salt, &key),
        salt,
        source_project_id: vol.project_id.clone(),
        destination_project_id: None,
        accepted: false,
        no_snapshots,
        created_at: now,
        updated_at: None,
    };
    let mut tx = svc.db().write().begin().await?;
    if !volumes::transition(&mut tx, &vol.id, &["available"], "awaiting-transfer", now).await? {
        return Err(Error::bad_request(
            "Invalid volume: status must be available",
        ));
    }
    store::insert(&mut tx, &t).await?;
    tx.commit().await?;
    let mut body = detail(ctx, &t);
    body["auth_key"] = json!(key);
    Ok(accepted(json!({ "transfer": body })))
}

pub async fn create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    create_on(&svc, &ctx, &body, Route::Legacy).await
}

pub async fn v3_create(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    create_on(&svc, &ctx, &body, Route::V3).await
}

pub async fn accept(State(svc): State<VolumeService>, ctx: Ctx, body: Body) -> Result<Response> {
    ctx.require_write()?;
    let obj = validate::wrapped_only(&body, "accept", &[])?;
    validate::no_extra(&obj, &["auth_key"], "accept")?;
    let key = match obj.get("auth_key") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(v) => {
            return Err(Error::bad_request(format!(
                "Invalid input for field/attribute auth_key. Value: {v}. It must be a string."
            )))
        }
        None => {
            return Err(Error::bad_request(
                "Invalid input for field/attribute accept: 'auth_key' is a required property.",
            ))
        }
    };
    let id = ctx.param("transfer_id").to_owned();
    // any project that knows the id and the key may accept
    let t = match store::get(svc.db(), &id).await? {
        Some(t) if valid_id(&id) => t,
        _ => return Err(not_found(&id)),
    };
    if crypt_hash(&t.salt, &key) != t.crypt_hash {
        return Err(Error::bad_request(format!(
            "Invalid auth key: Attempt to transfer {id} with invalid auth key."
        )));
    }
    let db = svc.db();
    let vol = volumes::get(db, &t.volume_id)
        .await?
        .ok_or_else(|| Error::volume_not_found(&t.volume_id))?;
    let snaps = if t.no_snapshots {
        Vec::new()
    } else {
        snapshots::of_volume(db, &vol.id).await?
    };
    let now = now_micros();
    let mut tx = db.write().begin().await?;
    let delta = Delta {
        volumes: 1,
        snapshots: snaps.len() as i64,
        gigabytes: vol.size + snaps.iter().map(|s| s.size).sum::<i64>(),
    };
    check_quota(db, &mut tx, &ctx.project_id, &delta, Some(vol.size)).await?;
    if !store::retire(&mut tx, &t.id, Some(&ctx.project_id), now).await? {
        return Err(not_found(&id));
    }
    volumes::set_owner(&mut tx, &vol.id, &ctx.project_id, &ctx.auth.user_id, now).await?;
    volumes::transition(&mut tx, &vol.id, &["awaiting-transfer"], "available", now).await?;
    if !t.no_snapshots {
        snapshots::set_owner_of_volume(&mut tx, &vol.id, &ctx.project_id, &ctx.auth.user_id)
            .await?;
    }
    tx.commit().await?;
    Ok(accepted(json!({"transfer": summary(&ctx, &t)})))
}

pub async fn delete(State(svc): State<VolumeService>, ctx: Ctx) -> Result<Response> {
    ctx.require_write()?;
    let t = visible(&svc, &ctx, ctx.param("transfer_id")).await?;
    let now = now_micros();
    let mut tx = svc.db().write().begin().await?;
    if !store::retire(&mut tx, &t.id, None, now).await? {
        return Err(not_found(&t.id));
    }
    volumes::transition(
        &mut tx,
        &t.volume_id,
        &["awaiting-transfer"],
        "available",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(accepted_empty())
}
