//! bcrypt for passwords and application credential secrets, run off the
//! async executor because it is deliberately slow.
//!
//! At most one hash per CPU runs at a time; the others wait their turn in
//! arrival order. Without that limit, N concurrent logins on C cores would
//! each take N/C times as long and, under load, every one of them would time
//! out together instead of being answered at the machine's bcrypt rate.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

fn permits() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cpus)
    })
}

/// Run one bcrypt operation on a blocking thread once a CPU slot is free.
async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _slot = permits()
        .acquire()
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(e.to_string()))
}

pub async fn hash(secret: String, cost: u32) -> Result<String> {
    run(move || bcrypt::hash(secret.as_bytes(), cost))
        .await?
        .map_err(|e| Error::internal(e.to_string()))
}

pub async fn verify(secret: String, hash: String) -> bool {
    run(move || bcrypt::verify(secret.as_bytes(), &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}
