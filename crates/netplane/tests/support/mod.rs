//! What the kernel tests share: running commands, and removing a test's
//! namespaces (and processes and files) even when an assertion panics.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Whether the command succeeded.
pub fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Run the command; panic if it fails.
pub fn must(args: &[&str]) {
    assert!(sh(args), "failed: {}", args.join(" "));
}

/// A few pings from namespace `from`; whether any was answered.
pub fn ping(from: &str, to: &str) -> bool {
    sh(&[
        "ip", "netns", "exec", from, "ping", "-c", "3", "-i", "0.3", "-W", "1", to,
    ])
}

/// On drop: ends processes whose command line names `prefix`, deletes the
/// namespaces named `prefix-*` and the directory. With
/// `NETPLANE_TEST_KEEP` set, leaves everything for a post-mortem.
pub struct Cleanup(pub String, pub Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if std::env::var_os("NETPLANE_TEST_KEEP").is_some() {
            return;
        }
        let _ = Command::new("pkill").args(["-f", &self.0]).status();
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some(name) = line.split_whitespace().next() {
                    if name.starts_with(&format!("{}-", self.0)) {
                        let _ = Command::new("ip").args(["netns", "del", name]).status();
                    }
                }
            }
        }
        if let Some(dir) = &self.1 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
