//! nftables, namespace by namespace: a table is always replaced whole, in
//! one `nft -f` transaction (add + delete + define), so a half-applied
//! ruleset is never seen; reads use `nft -j` (JSON).

use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::{NetError, NetResult};

async fn nft(ns: &str, args: &[&str], input: Option<&str>) -> NetResult<Vec<u8>> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, "nft"])
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| NetError(format!("cannot run nft: {e}")))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| NetError(format!("cannot feed nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| NetError(format!("nft: {e}")))?;
    if !out.status.success() {
        return Err(NetError(format!(
            "nft {} in {ns}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// Replace table `family name` in `ns` with `definition` (a `table ...
/// { ... }` block) atomically.
pub async fn replace_table(ns: &str, family: &str, name: &str, definition: &str) -> NetResult<()> {
    let script = format!("add table {family} {name}\ndelete table {family} {name}\n{definition}");
    nft(ns, &["-f", "-"], Some(&script)).await.map(|_| ())
}

/// Run `script` (several tables' adds, deletes and definitions) in `ns` as
/// one transaction: all of it or none.
pub async fn transaction(ns: &str, script: &str) -> NetResult<()> {
    nft(ns, &["-f", "-"], Some(script)).await.map(|_| ())
}

/// Remove table `family name` from `ns` if it is there.
pub async fn delete_table(ns: &str, family: &str, name: &str) -> NetResult<()> {
    let script = format!("add table {family} {name}\ndelete table {family} {name}\n");
    nft(ns, &["-f", "-"], Some(&script)).await.map(|_| ())
}

/// The ruleset of `ns` as nft's JSON.
pub async fn ruleset(ns: &str) -> NetResult<serde_json::Value> {
    let out = nft(ns, &["-j", "list", "ruleset"], None).await?;
    serde_json::from_slice(&out).map_err(|e| NetError(format!("nft -j list ruleset: {e}")))
}
