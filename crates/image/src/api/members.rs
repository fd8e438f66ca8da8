//! Image members: projects a `shared` image is offered to, who accept or
//! reject it (`/v2/images/{id}/members`).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::{iso_seconds, now_micros};
use ferro_api::JsonBody;
use http::StatusCode;
use serde_json::{json, Value};

use super::common::{json, load, load_for_update, no_content, Ctx};
use crate::error::{Error, Result};
use crate::model::Image;
use crate::store::members::{self, Member};
use crate::{policy, ImageService};

/// Upstream's cap on members per image (`image_member_quota`).
const MAX_MEMBERS: usize = 128;

fn to_json(m: &Member) -> Value {
    json!({
        "image_id": m.image_id,
        "member_id": m.member_id,
        "status": m.status,
        "created_at": iso_seconds(m.created_at),
        "updated_at": iso_seconds(m.updated_at),
        "schema": "/v2/schemas/member",
    })
}

fn require_shared(img: &Image) -> Result<()> {
    if img.visibility == "shared" {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "Only shared images have members: image {} is {}.",
            img.id, img.visibility
        )))
    }
}

fn no_member(image_id: &str, member_id: &str) -> Error {
    Error::not_found(format!("Member {member_id} not found for image {image_id}"))
}

pub async fn list(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let img = load(&svc, &ctx, &id).await?;
    require_shared(&img)?;
    let all = members::list(svc.db(), &id).await?;
    let owner = ctx.is_admin() || policy::owns(&ctx, &img);
    let shown: Vec<Value> = all
        .iter()
        .filter(|m| owner || Some(&m.member_id) == ctx.project_id.as_ref())
        .map(to_json)
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"members": shown, "schema": "/v2/schemas/members"}),
    ))
}

pub async fn create(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let img = load_for_update(&svc, &ctx, &id).await?;
    let obj = body.object()?;
    let member_id = match obj.get("member") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 255 => s.clone(),
        _ => return Err(Error::bad_request(
            "Provided object does not match schema 'member': 'member' must be a project id string",
        )),
    };
    if let Some(k) = obj.keys().find(|k| *k != "member") {
        return Err(Error::bad_request(format!(
            "Provided object does not match schema 'member': unexpected attribute '{k}'"
        )));
    }
    require_shared(&img)?;
    let existing = members::list(svc.db(), &id).await?;
    if existing.iter().any(|m| m.member_id == member_id) {
        return Err(Error::conflict(format!(
            "Member {member_id} already exists for image {id}"
        )));
    }
    if existing.len() >= MAX_MEMBERS {
        return Err(Error::bad_request(format!(
            "Maximum number of image members ({MAX_MEMBERS}) exceeded"
        )));
    }
    let now = now_micros();
    let m = Member {
        image_id: id,
        member_id,
        status: "pending".into(),
        created_at: now,
        updated_at: now,
    };
    members::insert(svc.db(), &m).await?;
    Ok(json(StatusCode::OK, to_json(&m)))
}

async fn visible_member(
    svc: &ImageService,
    ctx: &Ctx,
    id: &str,
    member_id: &str,
) -> Result<(Image, Member)> {
    let img = load(svc, ctx, id).await?;
    require_shared(&img)?;
    let m = members::get(svc.db(), id, member_id)
        .await?
        .ok_or_else(|| no_member(id, member_id))?;
    let allowed =
        ctx.is_admin() || policy::owns(ctx, &img) || ctx.project_id.as_deref() == Some(member_id);
    if !allowed {
        return Err(no_member(id, member_id));
    }
    Ok((img, m))
}

pub async fn show(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((id, member_id)): Path<(String, String)>,
) -> Result<Response> {
    let (_, m) = visible_member(&svc, &ctx, &id, &member_id).await?;
    Ok(json(StatusCode::OK, to_json(&m)))
}

/// Only the member itself accepts or rejects.
pub async fn update(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((id, member_id)): Path<(String, String)>,
    body: JsonBody<Error>,
) -> Result<Response> {
    let (_, mut m) = visible_member(&svc, &ctx, &id, &member_id).await?;
    let obj = body.object()?;
    let status = match obj.get("status").and_then(Value::as_str) {
        Some(s @ ("pending" | "accepted" | "rejected")) => s.to_owned(),
        _ => {
            return Err(Error::bad_request(
                "Provided object does not match schema 'member': 'status' must be one of pending, accepted, rejected",
            ))
        }
    };
    policy::require_writer(&ctx)?;
    if ctx.project_id.as_deref() != Some(member_id.as_str()) {
        return Err(Error::forbidden(
            "Only the member project may change its membership status.",
        ));
    }
    m.status = status;
    m.updated_at = now_micros();
    if !members::set_status(svc.db(), &m).await? {
        return Err(no_member(&id, &member_id));
    }
    Ok(json(StatusCode::OK, to_json(&m)))
}

/// Only the owner removes a member.
pub async fn delete(
    State(svc): State<ImageService>,
    ctx: Ctx,
    Path((id, member_id)): Path<(String, String)>,
) -> Result<Response> {
    let (img, _) = visible_member(&svc, &ctx, &id, &member_id).await?;
    policy::require_modify(&ctx, &img)?;
    if !members::delete(svc.db(), &id, &member_id).await? {
        return Err(no_member(&id, &member_id));
    }
    Ok(no_content())
}
