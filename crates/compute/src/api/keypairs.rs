//! `/os-keypairs`: import a public key, or have one generated.

use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine as _;
use ferro_api::time::{iso_naive_micros, now_micros};
use md5_free::md5_hex_colon;
use serde_json::{json, Value};

use super::common::{accepted_empty, invalid, ok, wrapped, Body, Caller};
use crate::error::{Error, Result};
use crate::quota;
use crate::store::keypairs::{self, Keypair};
use crate::ComputeService;

fn check_name(name: &str) -> Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _-".contains(c));
    if name.trim().is_empty() || name.len() > 255 || !ok_chars {
        return Err(invalid(
            "name",
            "Keypair name must be 1-255 characters of letters, digits, spaces, '_' or '-'.",
        ));
    }
    Ok(())
}

/// The OpenSSH public key's MD5 fingerprint, `aa:bb:...` as Nova shows it:
/// the MD5 of the key blob. The blob must be base64 and start with its own
/// key type, so any key type OpenSSH writes (rsa, ecdsa, ed25519...) works.
fn fingerprint(public_key: &str) -> Result<String> {
    let bad = || Error::bad_request("Keypair data is invalid: failed to generate fingerprint");
    let mut parts = public_key.split_whitespace();
    let (kind, data) = match (parts.next(), parts.next()) {
        (Some(k), Some(d)) => (k, d),
        _ => return Err(bad()),
    };
    let blob = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| bad())?;
    let len = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(bad)?;
    if blob.get(4..4 + len) != Some(kind.as_bytes()) || blob.len() <= 4 + len {
        return Err(bad());
    }
    Ok(md5_hex_colon(&blob))
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

pub async fn create(State(svc): State<ComputeService>, c: Caller, body: Body) -> Result<Response> {
    let o = wrapped(&body.object()?, "keypair")?;
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("name", "'name' is a required property"))?
        .to_owned();
    check_name(&name)?;
    let (public_key, private_key) = match o.get("public_key") {
        None | Some(Value::Null) => {
            let (p, k) = generate()?;
            (p, Some(k))
        }
        Some(Value::String(s)) => (s.trim().to_owned(), None),
        Some(v) => {
            return Err(invalid(
                "public_key",
                &format!("{v} is not of type 'string'"),
            ))
        }
    };
    if let Some(t) = o.get("type") {
        if !matches!(t.as_str(), Some("ssh") | Some("x509")) {
            return Err(invalid("type", "must be 'ssh' or 'x509'"));
        }
    }
    let fp = fingerprint(&public_key)?;
    let existing = keypairs::list(svc.db(), &c.user_id).await?;
    if existing.iter().any(|k| k.name == name) {
        return Err(Error::conflict(format!(
            "Key pair '{name}' already exists."
        )));
    }
    // key_pairs is a per-user quota (of the caller's project's limits).
    let limits = match c.project_id.as_deref() {
        Some(p) => quota::user_limits(&svc, p, &c.user_id).await?,
        None => quota::defaults(&svc).await?,
    };
    let limit = limits.get("key_pairs");
    if limit >= 0 && existing.len() as i64 >= limit {
        return Err(Error::forbidden("Quota exceeded, too many key pairs."));
    }
    let k = Keypair {
        user_id: c.user_id.clone(),
        name,
        seq: 0,
        kind: "ssh".into(),
        public_key,
        fingerprint: fp,
        created_at: now_micros(),
    };
    keypairs::create(svc.db(), &k).await?;
    let mut out = json!({
        "name": k.name,
        "public_key": k.public_key,
        "fingerprint": k.fingerprint,
        "user_id": k.user_id,
    });
    if let Some(pk) = private_key {
        out["private_key"] = json!(pk);
    }
    Ok(ok(json!({ "keypair": out })))
}

pub async fn list(State(svc): State<ComputeService>, c: Caller) -> Result<Response> {
    let items: Vec<Value> = keypairs::list(svc.db(), &c.user_id)
        .await?
        .iter()
        .map(|k| json!({"keypair": {"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint}}))
        .collect();
    Ok(ok(json!({ "keypairs": items })))
}

async fn load(svc: &ComputeService, user: &str, name: &str) -> Result<Keypair> {
    keypairs::get(svc.db(), user, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Keypair {name} not found for user {user}")))
}

pub async fn show(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let k = load(&svc, &c.user_id, super::flavors::last(&p)).await?;
    Ok(ok(json!({"keypair": {
        "name": k.name,
        "public_key": k.public_key,
        "fingerprint": k.fingerprint,
        "user_id": k.user_id,
        "deleted": false,
        "created_at": iso_naive_micros(k.created_at),
        "updated_at": null,
        "deleted_at": null,
        "id": k.seq,
    }})))
}

pub async fn delete(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let name = super::flavors::last(&p);
    load(&svc, &c.user_id, name).await?;
    keypairs::delete(svc.db(), &c.user_id, name).await?;
    Ok(accepted_empty())
}

mod md5_free {
    use md5::{Digest, Md5};

    pub fn md5_hex_colon(data: &[u8]) -> String {
        Md5::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}
