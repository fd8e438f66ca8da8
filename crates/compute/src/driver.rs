//! What runs guests. The `fake` driver keeps guests as in-memory power
//! states, with a configurable delay per transition so tests can observe
//! intermediate states.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::state::PowerState;

/// A failure reported by a driver (becomes the instance fault).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

#[async_trait]
pub trait ComputeDriver: Send + Sync + 'static {
    /// Create and boot the guest; idempotent for an instance already spawned.
    async fn spawn(&self, instance_id: &str, name: &str) -> Result<(), DriverError>;
    /// Tear the guest down; fine if it does not exist.
    async fn destroy(&self, instance_id: &str) -> Result<(), DriverError>;
    async fn set_power(&self, instance_id: &str, to: PowerState) -> Result<(), DriverError>;
    async fn reboot(&self, instance_id: &str, hard: bool) -> Result<(), DriverError>;
    /// Give the guest another flavor's resources (or, on a revert, its old
    /// ones back); it keeps its power state.
    async fn resize(&self, instance_id: &str) -> Result<(), DriverError>;
    /// Boot the guest from a rescue image (`None`: the image it was built
    /// from), its own disk attached as a second one.
    async fn rescue(&self, instance_id: &str, image_id: Option<&str>) -> Result<(), DriverError>;
    /// Back from the rescue image to the guest's own disk, running.
    async fn unrescue(&self, instance_id: &str) -> Result<(), DriverError>;
    /// The guest's root disk as image data (for a snapshot or a shelve).
    async fn snapshot(&self, instance_id: &str) -> Result<Vec<u8>, DriverError>;
    async fn power_state(&self, instance_id: &str) -> PowerState;
    async fn console_output(&self, instance_id: &str) -> String;
    /// What this host offers guests (the hypervisor's capacity).
    fn host_resources(&self) -> HostResources;
}

/// A hypervisor's capacity and identity, as `os-hypervisors` shows it.
#[derive(Clone, Debug)]
pub struct HostResources {
    pub vcpus: i64,
    pub memory_mb: i64,
    pub local_gb: i64,
    pub hypervisor_type: &'static str,
    pub hypervisor_version: i64,
    /// The CPU description as libvirt reports it (`arch`, `model`,
    /// `vendor`, `topology`, `features`).
    pub cpu_info: serde_json::Value,
}

pub struct FakeDriver {
    delay: Duration,
    guests: Mutex<HashMap<String, (String, PowerState)>>,
}

impl FakeDriver {
    pub fn new(delay_ms: u64) -> Self {
        FakeDriver {
            delay: Duration::from_millis(delay_ms),
            guests: Mutex::new(HashMap::new()),
        }
    }

    async fn pause(&self) {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (String, PowerState)>) -> T) -> T {
        match self.guests.lock() {
            Ok(mut g) => f(&mut g),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[async_trait]
impl ComputeDriver for FakeDriver {
    /// Upstream's fake driver reports the same generous host.
    fn host_resources(&self) -> HostResources {
        HostResources {
            vcpus: 1000,
            memory_mb: 800_000,
            local_gb: 600_000,
            hypervisor_type: "fake",
            hypervisor_version: 1000,
            cpu_info: serde_json::json!({
                "arch": std::env::consts::ARCH,
                "model": "Nehalem",
                "vendor": "Intel",
                "topology": {"cells": 1, "sockets": 1, "cores": 1000, "threads": 1},
                "features": ["sse", "sse2", "ssse3", "sse4.1", "sse4.2", "popcnt", "lm", "nx"],
            }),
        }
    }

    async fn spawn(&self, instance_id: &str, name: &str) -> Result<(), DriverError> {
        self.pause().await;
        self.with(|g| {
            g.insert(
                instance_id.to_owned(),
                (name.to_owned(), PowerState::Running),
            )
        });
        Ok(())
    }

    async fn destroy(&self, instance_id: &str) -> Result<(), DriverError> {
        self.pause().await;
        self.with(|g| g.remove(instance_id));
        Ok(())
    }

    async fn set_power(&self, instance_id: &str, to: PowerState) -> Result<(), DriverError> {
        self.pause().await;
        self.with(|g| {
            let entry = g
                .entry(instance_id.to_owned())
                .or_insert_with(|| (String::new(), PowerState::NoState));
            entry.1 = to;
        });
        Ok(())
    }

    async fn reboot(&self, instance_id: &str, _hard: bool) -> Result<(), DriverError> {
        self.set_power(instance_id, PowerState::Running).await
    }

    async fn resize(&self, _instance_id: &str) -> Result<(), DriverError> {
        self.pause().await;
        Ok(())
    }

    async fn rescue(&self, instance_id: &str, _image_id: Option<&str>) -> Result<(), DriverError> {
        self.set_power(instance_id, PowerState::Running).await
    }

    async fn unrescue(&self, instance_id: &str) -> Result<(), DriverError> {
        self.set_power(instance_id, PowerState::Running).await
    }

    /// The fake guest has no disk: an empty image.
    async fn snapshot(&self, _instance_id: &str) -> Result<Vec<u8>, DriverError> {
        self.pause().await;
        Ok(Vec::new())
    }

    async fn power_state(&self, instance_id: &str) -> PowerState {
        self.with(|g| {
            g.get(instance_id)
                .map(|e| e.1)
                .unwrap_or(PowerState::NoState)
        })
    }

    async fn console_output(&self, instance_id: &str) -> String {
        let name = self.with(|g| g.get(instance_id).map(|e| e.0.clone()).unwrap_or_default());
        format!(
            "Ferrostack fake driver booting {name} ({instance_id})\n\
             [    0.000000] Linux version 6.1.0-ferrostack (fake)\n\
             [    0.100000] Command line: console=ttyS0\n\
             [    1.000000] Freeing unused kernel memory\n\
             Starting network: OK\n\
             Ferrostack fake guest\n\
             {name} login: \n"
        )
    }
}
