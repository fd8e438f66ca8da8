//! `/v3/credentials`: opaque blobs a user keeps (EC2 keys, TOTP secrets).

use axum::extract::{Path, State};
use axum::response::Response;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::common::{
    collection, created, no_content, ok, with_extra, Body, Ctx, Filters, QueryParams,
};
use crate::error::{Error, Result};
use crate::store::credentials::{self, Credential};
use crate::store::new_id;
use crate::validate::{self as v};
use crate::{policy, Identity};

const KNOWN: &[&str] = &["id", "user_id", "project_id", "type", "blob", "links"];

pub fn render(c: &Credential, base: &BaseUrl) -> Value {
    with_extra(
        json!({
            "id": c.id,
            "user_id": c.user_id,
            "project_id": c.project_id,
            "type": c.kind,
            "blob": c.blob,
            "links": {"self": base.join(&format!("/v3/credentials/{}", c.id))},
        }),
        &c.extra,
    )
}

async fn load(id: &Identity, cid: &str) -> Result<Credential> {
    credentials::get(id.db(), cid)
        .await?
        .ok_or_else(|| Error::no_such("credential", cid))
}

/// EC2 credentials get the hash of their access key as id, as upstream.
fn credential_id(kind: &str, blob: &str) -> Result<String> {
    if kind != "ec2" {
        return Ok(new_id());
    }
    let parsed: Value = serde_json::from_str(blob).map_err(|_| {
        Error::bad_request("Invalid input for field 'blob': an ec2 blob must be a JSON object")
    })?;
    let access = parsed
        .get("access")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::bad_request("Invalid input for field 'blob': an ec2 blob needs 'access'")
        })?;
    Ok(hex(&Sha256::digest(access.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let see_all = ctx.is_admin() || ctx.is_system_reader();
    let items = credentials::list(id.db())
        .await?
        .iter()
        .filter(|c| see_all || c.user_id == ctx.user_id)
        .map(|c| render(c, &base))
        .collect();
    let items = Filters::new(&q).apply(items, &["user_id", "type", "project_id"]);
    Ok(collection(
        "credentials",
        items,
        &base.join("/v3/credentials"),
    ))
}

pub async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(cid): Path<String>,
) -> Result<Response> {
    let c = load(&id, &cid).await?;
    policy::reader_or_self(&ctx, "identity:get_credential", &c.user_id)?;
    Ok(ok(json!({"credential": render(&c, &base)})))
}

pub async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
) -> Result<Response> {
    let req = v::wrapped(&body.object()?, "credential")?;
    let user_id = v::req_str(&req, "user_id", 64)?;
    policy::admin_or_self(&ctx, "identity:create_credential", &user_id)?;
    let kind = v::req_str(&req, "type", 255)?;
    let blob = v::req_str(&req, "blob", 65535)?;
    let project_id = v::opt_nonempty_str(&req, "project_id", 64)?;
    if kind == "ec2" && project_id.is_none() {
        return Err(Error::bad_request(
            "Invalid input for field 'project_id': required for ec2 credentials",
        ));
    }
    super::users::load(&id, &user_id).await?;
    let c = Credential {
        id: credential_id(&kind, &blob)?,
        user_id,
        project_id,
        kind,
        blob,
        extra: v::extras(&req, KNOWN),
    };
    if credentials::get(id.db(), &c.id).await?.is_some() {
        return Err(Error::conflict(format!("Duplicate ID, {}.", c.id)));
    }
    credentials::create(id.db(), &c, now_micros()).await?;
    Ok(created(json!({"credential": render(&c, &base)})))
}

pub async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(cid): Path<String>,
    body: Body,
) -> Result<Response> {
    let req = v::wrapped_update(&body.object()?, "credential")?;
    let mut c = load(&id, &cid).await?;
    policy::admin_or_self(&ctx, "identity:update_credential", &c.user_id)?;
    if req
        .get("id")
        .is_some_and(|x| x.as_str() != Some(cid.as_str()))
    {
        return Err(Error::bad_request(
            "Invalid input for field 'id': cannot be updated",
        ));
    }
    if req.contains_key("user_id") {
        c.user_id = v::req_str(&req, "user_id", 64)?;
        super::users::load(&id, &c.user_id).await?;
    }
    if let Some(p) = v::patch_str(&req, "project_id", 64)? {
        c.project_id = p;
    }
    if req.contains_key("type") {
        c.kind = v::req_str(&req, "type", 255)?;
    }
    if req.contains_key("blob") {
        c.blob = v::req_str(&req, "blob", 65535)?;
    }
    c.extra.extend(v::extras(&req, KNOWN));
    credentials::update(id.db(), &c).await?;
    Ok(ok(json!({"credential": render(&c, &base)})))
}

pub async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(cid): Path<String>,
) -> Result<Response> {
    let c = load(&id, &cid).await?;
    policy::admin_or_self(&ctx, "identity:delete_credential", &c.user_id)?;
    credentials::delete(id.db(), &cid).await?;
    Ok(no_content())
}

/// The OS-EC2 view of an `ec2` credential.
fn render_ec2(c: &Credential, base: &BaseUrl) -> Value {
    let blob: Value = serde_json::from_str(&c.blob).unwrap_or_default();
    let access = blob["access"].as_str().unwrap_or_default().to_owned();
    json!({
        "user_id": c.user_id,
        "tenant_id": c.project_id,
        "access": access,
        "secret": blob["secret"],
        "trust_id": blob.get("trust_id").cloned().unwrap_or(Value::Null),
        "links": {"self": base.join(&format!("/v3/users/{}/credentials/OS-EC2/{access}", c.user_id))},
    })
}

async fn ec2_of_user(id: &Identity, uid: &str) -> Result<Vec<Credential>> {
    Ok(credentials::list(id.db())
        .await?
        .into_iter()
        .filter(|c| c.kind == "ec2" && c.user_id == uid)
        .collect())
}

pub async fn ec2_list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:ec2_list_credentials", &uid)?;
    super::users::load(&id, &uid).await?;
    let items = ec2_of_user(&id, &uid)
        .await?
        .iter()
        .map(|c| render_ec2(c, &base))
        .collect();
    Ok(collection(
        "credentials",
        items,
        &base.join(&format!("/v3/users/{uid}/credentials/OS-EC2")),
    ))
}

pub async fn ec2_create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(uid): Path<String>,
    body: Body,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:ec2_create_credential", &uid)?;
    let req = body.object()?;
    let tenant = v::req_str(&req, "tenant_id", 64)?;
    super::users::load(&id, &uid).await?;
    super::projects::load(&id, &tenant).await?;
    let access = new_id();
    let blob = json!({"access": access, "secret": new_id(), "trust_id": null}).to_string();
    let c = Credential {
        id: credential_id("ec2", &blob)?,
        user_id: uid,
        project_id: Some(tenant),
        kind: "ec2".into(),
        blob,
        extra: Default::default(),
    };
    credentials::create(id.db(), &c, now_micros()).await?;
    Ok(created(json!({"credential": render_ec2(&c, &base)})))
}

async fn ec2_load(id: &Identity, uid: &str, access: &str) -> Result<Credential> {
    let cid = hex(&Sha256::digest(access.as_bytes()));
    match credentials::get(id.db(), &cid).await? {
        Some(c) if c.kind == "ec2" && c.user_id == uid => Ok(c),
        _ => Err(Error::no_such("credential", access)),
    }
}

pub async fn ec2_show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path((uid, access)): Path<(String, String)>,
) -> Result<Response> {
    policy::reader_or_self(&ctx, "identity:ec2_get_credential", &uid)?;
    let c = ec2_load(&id, &uid, &access).await?;
    Ok(ok(json!({"credential": render_ec2(&c, &base)})))
}

pub async fn ec2_delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path((uid, access)): Path<(String, String)>,
) -> Result<Response> {
    policy::admin_or_self(&ctx, "identity:ec2_delete_credential", &uid)?;
    let c = ec2_load(&id, &uid, &access).await?;
    credentials::delete(id.db(), &c.id).await?;
    Ok(no_content())
}
