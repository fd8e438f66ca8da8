//! Choosing QEMU's accelerator: KVM only when a probe guest really runs fast
//! under it.
//!
//! `/dev/kvm` existing proves little: on some hosts (a paravirtual KVM that
//! needs specially built guest kernels) guests start but crawl — Debian
//! kernels never get past decompression. So `auto` boots a 512-byte probe
//! guest under KVM with a time limit: its boot sector switches to long mode
//! (paging on), sums 1..10^8 and reports the result through QEMU's
//! `isa-debug-exit` device. Real KVM finishes in well under a second (TCG in
//! ~0.2 s); a host where KVM only pretends does not finish, and TCG is used.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::DriverError;

/// How long the `auto` probe may take under KVM.
pub const PROBE_LIMIT: Duration = Duration::from_secs(5);

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

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The accelerator to use and why (for the log and hypervisor views).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccelChoice {
    pub accel: Accel,
    pub reason: String,
}

impl AccelChoice {
    fn new(accel: Accel, reason: impl Into<String>) -> Self {
        AccelChoice {
            accel,
            reason: reason.into(),
        }
    }
}

/// setting: "auto" | "kvm" | "tcg". "kvm" without a usable /dev/kvm -> Err
/// with a clear message. "auto" probes (see the module documentation).
pub async fn choose(qemu: &Path, setting: &str) -> Result<AccelChoice, DriverError> {
    match setting.trim().to_ascii_lowercase().as_str() {
        "tcg" => Ok(AccelChoice::new(Accel::Tcg, "tcg: set by configuration")),
        "kvm" => match kvm_usable() {
            Ok(()) => Ok(AccelChoice::new(Accel::Kvm, "kvm: set by configuration")),
            Err(why) => Err(DriverError(format!(
                "accelerator kvm was requested but {why}; use tcg or auto"
            ))),
        },
        "auto" | "" => Ok(choose_auto(qemu, PROBE_LIMIT).await),
        other => Err(DriverError(format!(
            "unknown accelerator setting {other:?} (expected auto, kvm or tcg)"
        ))),
    }
}

async fn choose_auto(qemu: &Path, limit: Duration) -> AccelChoice {
    if let Err(why) = kvm_usable() {
        return AccelChoice::new(Accel::Tcg, format!("auto: {why}; using TCG"));
    }
    let secs = limit.as_secs_f64();
    match run_probe(qemu, Accel::Kvm, limit).await {
        ProbeOutcome::Passed(took) => AccelChoice::new(
            Accel::Kvm,
            format!(
                "auto: KVM probe guest ran in {:.2} s; using KVM",
                took.as_secs_f64()
            ),
        ),
        ProbeOutcome::TimedOut => AccelChoice::new(
            Accel::Tcg,
            format!(
                "auto: KVM probe did not finish in {secs:.0} s (guest hung or crawled); using TCG"
            ),
        ),
        ProbeOutcome::Failed(why) => AccelChoice::new(
            Accel::Tcg,
            format!("auto: KVM probe failed ({why}); using TCG"),
        ),
    }
}

/// Whether /dev/kvm exists and opens read-write; Err says why not.
fn kvm_usable() -> Result<(), String> {
    let dev = Path::new("/dev/kvm");
    if !dev.exists() {
        return Err("/dev/kvm absent".into());
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map(|_| ())
        .map_err(|e| format!("/dev/kvm not usable ({e})"))
}

#[derive(Debug, PartialEq, Eq)]
enum ProbeOutcome {
    Passed(Duration),
    TimedOut,
    Failed(String),
}

/// The probe's exit status on success: isa-debug-exit turns the byte 0x31
/// written to its port into exit status (0x31 << 1) | 1.
const PROBE_OK: i32 = 99;
/// The arithmetic came out wrong (0x32).
const PROBE_WRONG_SUM: i32 = 101;

/// The probe guest: a boot sector (loaded at 0x7c00 by SeaBIOS), zero-padded
/// to 510 bytes and signed 0x55 0xaa. Assembled (`as` + `ld -Ttext 0x7c00
/// --oformat binary`) from:
///
/// ```text
///     .code16
///     cli; xor %ax,%ax; mov %ax,%ds; mov %ax,%es; mov %ax,%ss; mov $0x7c00,%sp
///     in $0x92,%al; or $2,%al; out %al,$0x92        # fast A20
///     lgdtl gdtr
///     mov %cr0,%eax; or $1,%eax; mov %eax,%cr0       # protected mode
///     ljmpl $0x08,$pm32
///     .code32
/// pm32:
///     mov $0x10,%ax; mov %ax,%ds; mov %ax,%es; mov %ax,%ss
///     mov $0x1000,%edi; xor %eax,%eax; mov $3072,%ecx; rep stosl
///     movl $0x2003,0x1000                            # PML4[0] -> PDPT
///     movl $0x3003,0x2000                            # PDPT[0] -> PD
///     movl $0x83,0x3000                              # PD[0]: 2 MiB page
///     mov $0x1000,%eax; mov %eax,%cr3
///     mov %cr4,%eax; or $0x20,%eax; mov %eax,%cr4    # PAE
///     mov $0xc0000080,%ecx; rdmsr; or $0x100,%eax; wrmsr   # EFER.LME
///     mov %cr0,%eax; or $0x80000000,%eax; mov %eax,%cr0    # paging
///     ljmpl $0x18,$lm64
///     .code64
/// lm64:
///     xor %rax,%rax; mov $100000000,%rcx
/// 1:  add %rcx,%rax; loop 1b                         # sum 1..10^8
///     mov $5000000050000000,%rdx; cmp %rdx,%rax
///     mov $0x31,%al; je 2f; mov $0x32,%al
/// 2:  out %al,$0xf4                                  # isa-debug-exit
/// 3:  hlt; jmp 3b
///     .p2align 3
/// gdt:  .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
/// gdtr: .word gdtr - gdt - 1; .long gdt
/// ```
const PROBE_CODE: [u8; 222] = [
    0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, //
    0xe4, 0x92, 0x0c, 0x02, 0xe6, 0x92, 0x66, 0x0f, 0x01, 0x16, 0xd8, 0x7c, //
    0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea, //
    0x2a, 0x7c, 0x00, 0x00, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, //
    0x8e, 0xc0, 0x8e, 0xd0, 0xbf, 0x00, 0x10, 0x00, 0x00, 0x31, 0xc0, 0xb9, //
    0x00, 0x0c, 0x00, 0x00, 0xf3, 0xab, 0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, //
    0x03, 0x20, 0x00, 0x00, 0xc7, 0x05, 0x00, 0x20, 0x00, 0x00, 0x03, 0x30, //
    0x00, 0x00, 0xc7, 0x05, 0x00, 0x30, 0x00, 0x00, 0x83, 0x00, 0x00, 0x00, //
    0xb8, 0x00, 0x10, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xe0, 0x83, //
    0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, //
    0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x20, 0xc0, 0x0d, 0x00, //
    0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x91, 0x7c, 0x00, 0x00, 0x18, //
    0x00, 0x48, 0x31, 0xc0, 0x48, 0xc7, 0xc1, 0x00, 0xe1, 0xf5, 0x05, 0x48, //
    0x01, 0xc8, 0xe2, 0xfb, 0x48, 0xba, 0x80, 0x70, 0xdb, 0x3a, 0x79, 0xc3, //
    0x11, 0x00, 0x48, 0x39, 0xd0, 0xb0, 0x31, 0x74, 0x02, 0xb0, 0x32, 0xe6, //
    0xf4, 0xf4, 0xeb, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, //
    0x00, 0x92, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xaf, 0x00, //
    0x1f, 0x00, 0xb8, 0x7c, 0x00, 0x00,
];

fn probe_image() -> [u8; 512] {
    let mut img = [0u8; 512];
    img[..PROBE_CODE.len()].copy_from_slice(&PROBE_CODE);
    img[510] = 0x55;
    img[511] = 0xaa;
    img
}

/// A scratch file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_probe_image() -> std::io::Result<TempFile> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "ferro-accel-probe-{}-{}.img",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, probe_image())?;
    Ok(TempFile(path))
}

/// Boots the probe guest under `accel`; kills it after `limit`.
async fn run_probe(qemu: &Path, accel: Accel, limit: Duration) -> ProbeOutcome {
    let image = match write_probe_image() {
        Ok(f) => f,
        Err(e) => return ProbeOutcome::Failed(format!("cannot write the probe image: {e}")),
    };
    let mut cmd = tokio::process::Command::new(qemu);
    cmd.arg("-accel")
        .arg(accel.as_str())
        .args([
            "-machine",
            "pc",
            "-m",
            "16",
            "-nodefaults",
            "-no-user-config",
        ])
        .args(["-display", "none", "-serial", "none", "-monitor", "none"])
        .args(["-no-reboot", "-boot", "reboot-timeout=0"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .arg("-drive")
        .arg(format!(
            "file={},format=raw,if=ide",
            image.0.display().to_string().replace(',', ",,")
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ProbeOutcome::Failed(format!("cannot run {}: {e}", qemu.display())),
    };
    // On timeout the child is dropped, and kill_on_drop kills it.
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return ProbeOutcome::Failed(format!("waiting for qemu: {e}")),
        Err(_) => return ProbeOutcome::TimedOut,
    };
    let took = started.elapsed();
    match output.status.code() {
        Some(PROBE_OK) => ProbeOutcome::Passed(took),
        Some(PROBE_WRONG_SUM) => {
            ProbeOutcome::Failed("the probe guest computed a wrong sum".into())
        }
        code => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty() && !l.contains("warning:"))
                .unwrap_or("");
            let status = match code {
                Some(c) => format!("exit status {c}"),
                None => "killed by a signal".to_string(),
            };
            if last.is_empty() {
                ProbeOutcome::Failed(status)
            } else {
                ProbeOutcome::Failed(format!("{status}: {last}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qemu() -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("qemu-system-x86_64"))
            .find(|p| p.is_file())
    }

    #[test]
    fn names() {
        assert_eq!(Accel::Kvm.as_str(), "kvm");
        assert_eq!(Accel::Tcg.to_string(), "tcg");
    }

    #[test]
    fn probe_image_is_a_boot_sector() {
        let img = probe_image();
        assert_eq!(&img[510..], &[0x55, 0xaa]);
        assert_eq!(img[0], 0xfa); // cli
    }

    #[tokio::test]
    async fn tcg_and_bad_settings_need_no_qemu() {
        let none = Path::new("/nonexistent/qemu");
        let c = choose(none, "tcg").await.unwrap();
        assert_eq!(c.accel, Accel::Tcg);
        let e = choose(none, "hvf").await.unwrap_err();
        assert!(e.0.contains("unknown accelerator"), "{e}");
    }

    #[tokio::test]
    async fn kvm_setting_needs_dev_kvm() {
        let r = choose(Path::new("/nonexistent/qemu"), "kvm").await;
        match kvm_usable() {
            Ok(()) => assert_eq!(r.unwrap().accel, Accel::Kvm),
            Err(_) => assert!(
                r.unwrap_err().0.contains("/dev/kvm"),
                "kvm without /dev/kvm"
            ),
        }
    }

    #[tokio::test]
    async fn missing_qemu_makes_auto_fall_back() {
        if kvm_usable().is_err() {
            return; // auto stops at /dev/kvm before running anything
        }
        let c = choose(Path::new("/nonexistent/qemu"), "auto")
            .await
            .unwrap();
        assert_eq!(c.accel, Accel::Tcg);
        assert!(c.reason.contains("cannot run"), "{}", c.reason);
    }

    #[tokio::test]
    async fn probe_guest_passes_under_tcg() {
        let Some(qemu) = qemu() else { return };
        let outcome = run_probe(&qemu, Accel::Tcg, Duration::from_secs(30)).await;
        assert!(matches!(outcome, ProbeOutcome::Passed(_)), "{outcome:?}");
    }

    #[tokio::test]
    async fn probe_is_killed_at_the_limit() {
        let Some(qemu) = qemu() else { return };
        let started = Instant::now();
        let outcome = run_probe(&qemu, Accel::Tcg, Duration::from_millis(1)).await;
        assert_eq!(outcome, ProbeOutcome::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn auto_gives_a_reason() {
        let Some(qemu) = qemu() else { return };
        let c = choose(&qemu, "auto").await.unwrap();
        assert!(c.reason.starts_with("auto: "), "{}", c.reason);
        eprintln!("accel auto: {} ({})", c.accel, c.reason);
    }
}
