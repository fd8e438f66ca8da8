//! The `fake` driver: guests are in-memory power states, with a settable
//! delay per transition so tests can watch intermediate states. For CI
//! users who want instant servers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    ComputeDriver, DiskFile, DriverError, DriverResult, Guest, GuestStatus, HostResources, Nic,
    PowerState, VolumeDisk,
};

/// How long a fake snapshot takes at least: a real one (disk copy and
/// upload) takes seconds, during which the server is in `image_snapshot`
/// and Nova refuses a second snapshot with 409. Clients rely on seeing that
/// window (tempest's second-snapshot test among them); an instant fake would
/// close it before their next request arrives.
const SNAPSHOT_TIME: Duration = Duration::from_millis(1000);

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

    async fn pause_a_while(&self) {
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

    async fn set(&self, uuid: &str, name: Option<&str>, to: PowerState) -> DriverResult<()> {
        self.pause_a_while().await;
        self.with(|g| {
            let entry = g
                .entry(uuid.to_owned())
                .or_insert_with(|| (String::new(), PowerState::NoState));
            if let Some(name) = name {
                entry.0 = name.to_owned();
            }
            entry.1 = to;
        });
        Ok(())
    }
}

#[async_trait]
impl ComputeDriver for FakeDriver {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn uses_disk_files(&self) -> bool {
        false
    }

    /// Accepted and nothing done, as Nova's fake driver: there is no disk.
    fn assisted_volume_snapshots(&self) -> bool {
        true
    }

    /// Upstream's fake driver reports the same generous host.
    fn host_resources(&self) -> HostResources {
        HostResources {
            vcpus: 1000,
            memory_mb: 800_000,
            local_gb: 600_000,
            free_disk_gb: 600_000,
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

    async fn spawn(&self, guest: &Guest) -> DriverResult<()> {
        self.set(&guest.uuid, Some(&guest.name), PowerState::Running)
            .await
    }

    async fn destroy(&self, uuid: &str) -> DriverResult<()> {
        self.pause_a_while().await;
        self.with(|g| g.remove(uuid));
        Ok(())
    }

    async fn power_off(&self, uuid: &str, _timeout: Duration) -> DriverResult<()> {
        self.set(uuid, None, PowerState::Shutdown).await
    }

    async fn power_on(&self, guest: &Guest) -> DriverResult<()> {
        self.set(&guest.uuid, Some(&guest.name), PowerState::Running)
            .await
    }

    async fn reboot(&self, guest: &Guest, _hard: bool, _timeout: Duration) -> DriverResult<()> {
        self.power_on(guest).await
    }

    async fn pause(&self, uuid: &str) -> DriverResult<()> {
        self.set(uuid, None, PowerState::Paused).await
    }

    async fn unpause(&self, uuid: &str) -> DriverResult<()> {
        self.set(uuid, None, PowerState::Running).await
    }

    async fn suspend(&self, uuid: &str) -> DriverResult<()> {
        self.set(uuid, None, PowerState::Suspended).await
    }

    async fn resume(&self, guest: &Guest) -> DriverResult<()> {
        self.power_on(guest).await
    }

    async fn rescue(&self, guest: &Guest, _image: &DiskFile) -> DriverResult<()> {
        self.power_on(guest).await
    }

    async fn unrescue(&self, guest: &Guest) -> DriverResult<()> {
        self.power_on(guest).await
    }

    async fn resize(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        self.keep_power(guest, running).await
    }

    async fn confirm_resize(&self, _uuid: &str) -> DriverResult<()> {
        Ok(())
    }

    async fn revert_resize(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        self.keep_power(guest, running).await
    }

    async fn rebuild(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        self.keep_power(guest, running).await
    }

    /// The fake guest has no disk: an empty image.
    async fn snapshot(&self, _uuid: &str, out: &Path) -> DriverResult<()> {
        tokio::time::sleep(self.delay.max(SNAPSHOT_TIME)).await;
        std::fs::write(out, b"").map_err(|e| DriverError(format!("cannot write snapshot: {e}")))
    }

    async fn attach_volume(&self, _uuid: &str, _volume: &VolumeDisk) -> DriverResult<()> {
        Ok(())
    }

    async fn detach_volume(&self, _uuid: &str, _volume_id: &str) -> DriverResult<()> {
        Ok(())
    }

    async fn attach_interface(&self, _uuid: &str, _nic: &Nic) -> DriverResult<()> {
        Ok(())
    }

    async fn detach_interface(&self, _uuid: &str, _port_id: &str) -> DriverResult<()> {
        Ok(())
    }

    async fn power_state(&self, uuid: &str) -> PowerState {
        self.with(|g| g.get(uuid).map(|e| e.1).unwrap_or(PowerState::NoState))
    }

    async fn list_guests(&self) -> Vec<GuestStatus> {
        self.with(|g| {
            g.iter()
                .map(|(uuid, (_, power))| GuestStatus {
                    uuid: uuid.clone(),
                    power: *power,
                })
                .collect()
        })
    }

    async fn console_output(&self, uuid: &str) -> String {
        let name = self.with(|g| g.get(uuid).map(|e| e.0.clone()).unwrap_or_default());
        format!(
            "Ferrostack fake driver booting {name} ({uuid})\n\
             [    0.000000] Linux version 6.1.0-ferrostack (fake)\n\
             [    0.100000] Command line: console=ttyS0\n\
             [    1.000000] Freeing unused kernel memory\n\
             Starting network: OK\n\
             Ferrostack fake guest\n\
             {name} login: \n"
        )
    }
}

impl FakeDriver {
    async fn keep_power(&self, guest: &Guest, running: bool) -> DriverResult<()> {
        let to = if running {
            PowerState::Running
        } else {
            PowerState::Shutdown
        };
        self.set(&guest.uuid, Some(&guest.name), to).await
    }
}
