//! Self-contained signed tokens: a MessagePack payload sealed with Fernet, as
//! Keystone does. Validation needs the keys and read-only lookups; nothing is
//! written per token.

pub mod keys;

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

pub use keys::{rotate, KeyRing};

const PAYLOAD_VERSION: u8 = 1;

/// What a token is scoped to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Unscoped,
    Project(String),
    Domain(String),
    System,
}

/// The authentication methods a token records.
pub const METHODS: &[&str] = &[
    "password",
    "token",
    "application_credential",
    "totp",
    "mapped",
    "oauth1",
];

/// The contents of a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub version: u8,
    pub user_id: String,
    pub methods: u8,
    pub scope: Scope,
    /// Microseconds since the epoch.
    pub issued_at: i64,
    pub expires_at: i64,
    /// The token's own audit id, then its chain's first audit id if rescoped.
    pub audit_ids: Vec<String>,
    pub app_cred_id: Option<String>,
    /// The trust a trust-scoped token was issued from (its scope is then
    /// the trust's project). Last and defaulted, so tokens sealed before
    /// trusts existed still open.
    #[serde(default)]
    pub trust_id: Option<String>,
    /// The OAuth1 access token an `oauth1` token was issued from (its scope
    /// is then that token's project). Defaulted, as `trust_id`.
    #[serde(default)]
    pub access_token_id: Option<String>,
}

impl Payload {
    pub fn new(
        user_id: String,
        methods: &[String],
        scope: Scope,
        issued_at: i64,
        expires_at: i64,
    ) -> Self {
        Payload {
            version: PAYLOAD_VERSION,
            user_id,
            methods: encode_methods(methods),
            scope,
            issued_at,
            expires_at,
            audit_ids: vec![new_audit_id()],
            app_cred_id: None,
            trust_id: None,
            access_token_id: None,
        }
    }

    pub fn method_names(&self) -> Vec<String> {
        METHODS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.methods & (1 << i) != 0)
            .map(|(_, m)| (*m).to_owned())
            .collect()
    }

    pub fn project_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project(p) => Some(p),
            _ => None,
        }
    }

    pub fn domain_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Domain(d) => Some(d),
            _ => None,
        }
    }

    pub fn seal(&self, keys: &KeyRing) -> String {
        let bytes = rmp_serde::to_vec(self).unwrap_or_default();
        keys.encrypt(&bytes)
    }

    pub fn open(token: &str, keys: &KeyRing) -> Option<Payload> {
        if token.is_empty() || token.len() > 2048 {
            return None;
        }
        let bytes = keys.decrypt(token)?;
        let p: Payload = rmp_serde::from_slice(&bytes).ok()?;
        (p.version == PAYLOAD_VERSION).then_some(p)
    }
}

fn encode_methods(methods: &[String]) -> u8 {
    methods
        .iter()
        .fold(0u8, |acc, m| match METHODS.iter().position(|x| x == m) {
            Some(i) => acc | (1 << i),
            None => acc,
        })
}

/// A new audit id: 16 random bytes, URL-safe base64 without padding.
pub fn new_audit_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_tamper() {
        let dir = std::env::temp_dir().join(format!("ferro-tok-{}", uuid::Uuid::new_v4()));
        let keys = KeyRing::load_or_create(&dir).unwrap();
        let p = Payload::new(
            "u1".into(),
            &["password".into(), "token".into()],
            Scope::Project("p1".into()),
            1,
            2,
        );
        let t = p.seal(&keys);
        assert!(t.len() < 300, "token too long: {}", t.len());
        let back = Payload::open(&t, &keys).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.method_names(), vec!["password", "token"]);
        let mut bad = t.clone();
        bad.replace_range(40..41, if &t[40..41] == "A" { "B" } else { "A" });
        assert!(Payload::open(&bad, &keys).is_none());
        assert!(Payload::open("garbage", &keys).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A payload sealed before `trust_id` existed (one element fewer)
    /// still opens, as a token without a trust.
    #[test]
    fn payload_without_trust_field_opens() {
        let dir = std::env::temp_dir().join(format!("ferro-tok-{}", uuid::Uuid::new_v4()));
        let keys = KeyRing::load_or_create(&dir).unwrap();
        #[derive(Serialize)]
        struct Old {
            version: u8,
            user_id: String,
            methods: u8,
            scope: Scope,
            issued_at: i64,
            expires_at: i64,
            audit_ids: Vec<String>,
            app_cred_id: Option<String>,
        }
        let old = Old {
            version: PAYLOAD_VERSION,
            user_id: "u1".into(),
            methods: 1,
            scope: Scope::Project("p1".into()),
            issued_at: 1,
            expires_at: 2,
            audit_ids: vec!["a".into()],
            app_cred_id: None,
        };
        let t = keys.encrypt(&rmp_serde::to_vec(&old).unwrap());
        let back = Payload::open(&t, &keys).unwrap();
        assert_eq!(back.user_id, "u1");
        assert_eq!(back.trust_id, None);
        let mut p = back.clone();
        p.trust_id = Some("0123456789abcdef0123456789abcdef".into());
        let t = p.seal(&keys);
        assert!(t.len() < 300, "token too long: {}", t.len());
        assert_eq!(Payload::open(&t, &keys).unwrap(), p);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
