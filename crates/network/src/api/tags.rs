//! `/v2.0/{resources}/{id}/tags[/{tag}]` (standard-attr-tag).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ctx, kind_of, Body, Caller};
use crate::error::{Error, Result};
use crate::logic::{self, touch, validate};
use crate::state::Kind;
use crate::NetworkService;

fn tags_of(o: &crate::state::Obj) -> Vec<String> {
    crate::state::strings_of(o, "tags")
}

/// The collections whose objects carry tags: not security group rules, and
/// not address scopes (no standard attributes in Neutron).
fn tag_kind(collection: &str) -> Result<Kind> {
    match kind_of(collection)? {
        Kind::SecurityGroupRule | Kind::AddressScope => Err(Error::not_found(
            "HTTPNotFound",
            "The resource could not be found.",
        )),
        k => Ok(k),
    }
}

pub async fn list(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let kind = tag_kind(&collection)?;
    let st = svc.read().await?;
    let o = logic::fetch(&st, kind, &id, &ctx(&caller))?;
    Ok(Json(json!({"tags": tags_of(o)})))
}

pub async fn check(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id, tag)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    validate::tag_name(&tag)?;
    let kind = tag_kind(&collection)?;
    let st = svc.read().await?;
    let o = logic::fetch(&st, kind, &id, &ctx(&caller))?;
    if tags_of(o).contains(&tag) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&tag, &id))
    }
}

fn not_found(tag: &str, id: &str) -> Error {
    Error::not_found(
        "TagNotFound",
        format!("Tag {tag} could not be found for resource {id}."),
    )
}

/// Change the tags of one resource the caller owns.
async fn modify(
    svc: &NetworkService,
    caller: &Caller,
    collection: &str,
    id: &str,
    f: impl FnOnce(&mut Vec<String>) -> Result<()>,
) -> Result<Vec<String>> {
    let kind = tag_kind(collection)?;
    let ctx = ctx(caller);
    svc.write(|st| {
        ctx.can_write("update_tags")?;
        let mut o = logic::fetch_owned(st, kind, id, &ctx, "update_tags")?.clone();
        let mut tags = tags_of(&o);
        f(&mut tags)?;
        o.insert("tags".into(), json!(tags));
        touch(&mut o);
        st.put(kind, o);
        Ok(tags)
    })
    .await
}

pub async fn replace(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Value>> {
    let map = body.object()?;
    let new = validate::tags(map.get("tags"))?;
    let tags = modify(&svc, &caller, &collection, &id, |t| {
        *t = new;
        Ok(())
    })
    .await?;
    Ok(Json(json!({"tags": tags})))
}

pub async fn clear(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    modify(&svc, &caller, &collection, &id, |t| {
        t.clear();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id, tag)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let tag = validate::tag(&tag)?;
    modify(&svc, &caller, &collection, &id, |t| {
        if !t.contains(&tag) {
            t.push(tag);
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path((collection, id, tag)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    validate::tag_name(&tag)?;
    let id2 = id.clone();
    modify(&svc, &caller, &collection, &id, |t| {
        let before = t.len();
        t.retain(|x| *x != tag);
        if t.len() == before {
            return Err(not_found(&tag, &id2));
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
