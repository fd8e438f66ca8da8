//! Choosing QEMU's accelerator (placeholder until the probe lands).

use std::path::Path;

use crate::DriverError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub struct AccelChoice {
    pub accel: Accel,
    pub reason: String,
}

pub async fn choose(_qemu: &Path, setting: &str) -> Result<AccelChoice, DriverError> {
    match setting {
        "kvm" => Ok(AccelChoice {
            accel: Accel::Kvm,
            reason: "kvm: set in the configuration".into(),
        }),
        _ => Ok(AccelChoice {
            accel: Accel::Tcg,
            reason: format!("{setting}: using TCG"),
        }),
    }
}
