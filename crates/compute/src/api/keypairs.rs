//! `/os-keypairs`: import a public key, or have one generated (before 2.92).
//!
//! Per microversion, as Nova: 2.2 `type` (`ssh`/`x509`) in requests and
//! views, 201 on create and 204 on delete; 2.10 an admin may name another
//! user (`user_id` in the body or the query); 2.35 `limit`/`marker` paging
//! with `keypairs_links`; 2.75 unknown query parameters are refused; 2.92
//! `public_key` is required and names may also hold `@` and `.`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ferro_api::time::{iso_naive_micros, now_micros};
use ferro_api::BaseUrl;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::common::{accepted_empty, invalid, no_content, ok, query_get, wrapped};
use super::common::{Body, Caller, QueryParams};
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::quota;
use crate::store::keypairs::{self, Keypair};
use crate::ComputeService;

/// Nova's `keypair_name_special_chars` (`_- a-zA-Z0-9`), plus `@` and `.`
/// from 2.92; no leading or trailing whitespace (the `name` format).
fn check_name(v: ApiVersion, name: &str) -> Result<()> {
    let extra = if v.at_least(2, 92) { " _-@." } else { " _-" };
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if name.is_empty() || name.len() > 255 || !ok_chars || name.trim() != name {
        let allowed = if v.at_least(2, 92) {
            "letters, digits, spaces, '_', '-', '@' or '.'"
        } else {
            "letters, digits, spaces, '_' or '-'"
        };
        return Err(invalid(
            "name",
            &format!("Keypair name must be 1-255 characters of {allowed}, without leading or trailing spaces."),
        ));
    }
    Ok(())
}

fn bad_key() -> Error {
    Error::bad_request("Keypair data is invalid: failed to generate fingerprint")
}

/// The OpenSSH public key's MD5 fingerprint, `aa:bb:...` as Nova shows it:
/// the MD5 of the key blob. The blob must be base64 and start with its own
/// key type, so any key type OpenSSH writes (rsa, ecdsa, ed25519...) works.
fn ssh_fingerprint(public_key: &str) -> Result<String> {
    let mut parts = public_key.split_whitespace();
    let (kind, data) = match (parts.next(), parts.next()) {
        (Some(k), Some(d)) => (k, d),
        _ => return Err(bad_key()),
    };
    let blob = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| bad_key())?;
    let len = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(bad_key)?;
    if blob.get(4..4 + len) != Some(kind.as_bytes()) || blob.len() <= 4 + len {
        return Err(bad_key());
    }
    Ok(digest::md5_hex_colon(&blob))
}

/// An x509 certificate's fingerprint as Nova computes it: the SHA-1 of the
/// DER inside the PEM `CERTIFICATE` block, hex pairs joined by `:`.
fn x509_fingerprint(pem: &str) -> Result<String> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let start = pem.find(begin).ok_or_else(bad_key)? + begin.len();
    let stop = pem[start..].find(end).ok_or_else(bad_key)? + start;
    let b64: String = pem[start..stop].split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad_key())?;
    if der.first() != Some(&0x30) {
        return Err(bad_key());
    }
    Ok(digest::sha1_hex_colon(&der))
}

fn generate() -> Result<(String, String)> {
    let private = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| Error::internal(e.to_string()))?;
    let public = private
        .public_key()
        .to_openssh()
        .map_err(|e| Error::internal(e.to_string()))?;
    let pem = private
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok((format!("{public} Generated-by-Nova"), pem.to_string()))
}

/// The create body as Nova's schema for `v` has it.
struct NewKeypair {
    name: String,
    kind: String,
    public_key: Option<String>,
    user_id: Option<String>,
}

fn parse_create(v: ApiVersion, body: &Map<String, Value>) -> Result<NewKeypair> {
    if let Some(k) = body.keys().find(|k| *k != "keypair") {
        return Err(Error::bad_request(format!(
            "Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let o = wrapped(body, "keypair")?;
    let mut allowed = vec!["name", "public_key"];
    if v.at_least(2, 2) {
        allowed.push("type");
    }
    if v.at_least(2, 10) {
        allowed.push("user_id");
    }
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            "keypair",
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let string = |field: &str| -> Result<Option<String>> {
        match o.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(field, &format!("{other} is not of type 'string'"))),
        }
    };
    let name = string("name")?.ok_or_else(|| invalid("name", "'name' is a required property"))?;
    check_name(v, &name)?;
    let public_key = string("public_key")?;
    if public_key.is_none() && v.at_least(2, 92) {
        return Err(invalid("public_key", "'public_key' is a required property"));
    }
    let kind = string("type")?.unwrap_or_else(|| "ssh".into());
    if kind != "ssh" && kind != "x509" {
        return Err(invalid(
            "type",
            &format!("'{kind}' is not one of ['ssh', 'x509']"),
        ));
    }
    Ok(NewKeypair {
        name,
        kind,
        public_key,
        user_id: string("user_id")?,
    })
}

/// The user whose keypairs a request is about: the caller's, or (2.10,
/// admins only) another user's named by `user_id`.
fn target_user(c: &Caller, named: Option<&str>) -> Result<String> {
    match named {
        Some(u) if u != c.user_id => {
            if !c.is_admin() {
                return Err(Error::forbidden(
                    "Policy doesn't allow os_compute_api:os-keypairs to be performed.",
                ));
            }
            Ok(u.to_owned())
        }
        _ => Ok(c.user_id.clone()),
    }
}

/// The `user_id` query parameter (2.10) and, from 2.75, no unknown ones.
fn query_user(v: ApiVersion, q: &QueryParams, c: &Caller, paging: bool) -> Result<String> {
    if v.at_least(2, 75) {
        let allowed: &[&str] = if paging {
            &["user_id", "limit", "marker"]
        } else {
            &["user_id"]
        };
        listing::only_params(q, allowed)?;
    }
    let named = v.at_least(2, 10).then(|| query_get(q, "user_id")).flatten();
    target_user(c, named)
}

pub async fn create(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    body: Body,
) -> Result<Response> {
    let new = parse_create(v, &body.object()?)?;
    let user = target_user(&c, new.user_id.as_deref())?;
    let (public_key, private_key) = match new.public_key {
        Some(k) => (k, None),
        None if new.kind == "x509" => {
            let (cert, key) = super::x509::generate(&user)?;
            (cert, Some(key))
        }
        None => {
            let (p, k) = generate()?;
            (p, Some(k))
        }
    };
    let fingerprint = match new.kind.as_str() {
        "x509" => x509_fingerprint(&public_key)?,
        _ => ssh_fingerprint(&public_key)?,
    };
    let existing = keypairs::list(svc.db(), &user).await?;
    if existing.iter().any(|k| k.name == new.name) {
        return Err(Error::conflict(format!(
            "Key pair '{}' already exists.",
            new.name
        )));
    }
    // key_pairs is a per-user quota (of the caller's project's limits).
    let limits = match c.project_id.as_deref() {
        Some(p) => quota::user_limits(&svc, p, &user).await?,
        None => quota::defaults(&svc).await?,
    };
    let limit = limits.get("key_pairs");
    if limit >= 0 && existing.len() as i64 >= limit {
        return Err(Error::forbidden("Quota exceeded, too many key pairs."));
    }
    let k = Keypair {
        user_id: user,
        name: new.name,
        seq: 0,
        kind: new.kind,
        public_key,
        fingerprint,
        created_at: now_micros(),
    };
    keypairs::create(svc.db(), &k).await?;
    let mut out = json!({
        "name": k.name,
        "public_key": k.public_key,
        "fingerprint": k.fingerprint,
        "user_id": k.user_id,
    });
    if v.at_least(2, 2) {
        out["type"] = json!(k.kind);
    }
    if let Some(pk) = private_key {
        out["private_key"] = json!(pk);
    }
    let status = if v.at_least(2, 2) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ok(json!({ "keypair": out }))).into_response())
}

pub async fn list(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
) -> Result<Response> {
    let user = query_user(v, &q, &c, v.at_least(2, 35))?;
    let all = keypairs::list(svc.db(), &user).await?;
    let (page, next) = if v.at_least(2, 35) {
        listing::page(all, |k| k.name.clone(), &q)?
    } else {
        (all, None)
    };
    let items: Vec<Value> = page
        .iter()
        .map(|k| {
            let mut o =
                json!({"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint});
            if v.at_least(2, 2) {
                o["type"] = json!(k.kind);
            }
            json!({ "keypair": o })
        })
        .collect();
    let mut out = json!({ "keypairs": items });
    listing::add_links(&mut out, "keypairs_links", &base, "os-keypairs", &q, next);
    Ok(ok(out))
}

async fn load(svc: &ComputeService, user: &str, name: &str) -> Result<Keypair> {
    keypairs::get(svc.db(), user, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Keypair {name} not found for user {user}")))
}

pub async fn show(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let user = query_user(v, &q, &c, false)?;
    let k = load(&svc, &user, super::flavors::last(&p)).await?;
    let mut out = json!({
        "name": k.name,
        "public_key": k.public_key,
        "fingerprint": k.fingerprint,
        "user_id": k.user_id,
        "deleted": false,
        "created_at": iso_naive_micros(k.created_at),
        "updated_at": null,
        "deleted_at": null,
        "id": k.seq,
    });
    if v.at_least(2, 2) {
        out["type"] = json!(k.kind);
    }
    Ok(ok(json!({ "keypair": out })))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let user = query_user(v, &q, &c, false)?;
    let name = super::flavors::last(&p);
    load(&svc, &user, name).await?;
    keypairs::delete(svc.db(), &user, name).await?;
    Ok(if v.at_least(2, 2) {
        no_content()
    } else {
        accepted_empty()
    })
}

mod digest {
    use md5::{Digest, Md5};
    use sha1::Sha1;

    fn hex_colon(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub fn md5_hex_colon(data: &[u8]) -> String {
        hex_colon(&Md5::digest(data))
    }

    pub fn sha1_hex_colon(data: &[u8]) -> String {
        hex_colon(&Sha1::digest(data))
    }
}
