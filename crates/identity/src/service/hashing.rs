//! bcrypt for passwords and application credential secrets, run off the
//! async executor because it is deliberately slow.

use crate::error::{Error, Result};

pub async fn hash(secret: String, cost: u32) -> Result<String> {
    tokio::task::spawn_blocking(move || bcrypt::hash(secret.as_bytes(), cost))
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(|e| Error::internal(e.to_string()))
}

pub async fn verify(secret: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(secret.as_bytes(), &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}
