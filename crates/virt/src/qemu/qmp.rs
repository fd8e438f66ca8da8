//! A small typed client of QEMU's machine protocol (QMP): one connection
//! per operation, JSON lines over the guest's unix socket.
//!
//! The socket lives in the instance directory, whose path may exceed the
//! 108 bytes a unix socket address holds; we connect through
//! `/proc/self/fd/<dir fd>/qmp.sock`, which is always short.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

use crate::{DriverError, DriverResult};

/// How long one command may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Qmp {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// Events read while waiting for answers, oldest first.
    events: Vec<Value>,
    next_id: u64,
}

fn err(what: &str, e: impl std::fmt::Display) -> DriverError {
    DriverError(format!("QMP {what}: {e}"))
}

impl Qmp {
    /// Connect to `dir/qmp.sock` and leave capabilities negotiation done.
    pub async fn connect(dir: &Path) -> DriverResult<Qmp> {
        let handle = std::fs::File::open(dir).map_err(|e| err("open instance dir", e))?;
        let short = format!("/proc/self/fd/{}/qmp.sock", handle.as_raw_fd());
        let stream = tokio::time::timeout(Duration::from_secs(5), UnixStream::connect(&short))
            .await
            .map_err(|_| err("connect", "timed out"))?
            .map_err(|e| err("connect", e))?;
        drop(handle);
        let (r, w) = stream.into_split();
        let mut qmp = Qmp {
            reader: BufReader::new(r),
            writer: w,
            events: Vec::new(),
            next_id: 1,
        };
        let greeting = qmp.read_message(ANSWER_TIMEOUT).await?;
        if greeting.get("QMP").is_none() {
            return Err(err("greeting", greeting));
        }
        qmp.execute("qmp_capabilities", None).await?;
        Ok(qmp)
    }

    async fn read_message(&mut self, limit: Duration) -> DriverResult<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(limit, self.reader.read_line(&mut line))
            .await
            .map_err(|_| err("read", "timed out"))?
            .map_err(|e| err("read", e))?;
        if n == 0 {
            return Err(err("read", "connection closed"));
        }
        serde_json::from_str(&line).map_err(|e| err("parse", e))
    }

    /// Run a command; its `return` value, or its `error` as a DriverError.
    pub async fn execute(
        &mut self,
        command: &str,
        arguments: Option<Value>,
    ) -> DriverResult<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"execute": command, "id": id});
        if let Some(a) = arguments {
            msg["arguments"] = a;
        }
        let mut bytes = serde_json::to_vec(&msg).map_err(|e| err("encode", e))?;
        bytes.push(b'\n');
        self.writer
            .write_all(&bytes)
            .await
            .map_err(|e| err(command, e))?;
        loop {
            let m = self.read_message(ANSWER_TIMEOUT).await?;
            if m.get("event").is_some() {
                self.events.push(m);
                continue;
            }
            if m.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(e) = m.get("error") {
                let desc = e["desc"].as_str().unwrap_or("error");
                return Err(DriverError(format!("QMP {command}: {desc}")));
            }
            return Ok(m.get("return").cloned().unwrap_or(Value::Null));
        }
    }

    /// Wait (up to `limit`) for an event named `name` whose `data` passes
    /// `matches`; events seen earlier count too.
    pub async fn wait_event(
        &mut self,
        name: &str,
        limit: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> DriverResult<Value> {
        let hit = |e: &Value| e["event"].as_str() == Some(name) && matches(&e["data"]);
        if let Some(pos) = self.events.iter().position(hit) {
            return Ok(self.events.remove(pos));
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(err(name, "event did not come in time"));
            }
            let m = self.read_message(left).await?;
            if hit(&m) {
                return Ok(m);
            }
        }
    }

    /// The run state (`running`, `paused`, `shutdown`, `inmigrate`, ...).
    pub async fn status(&mut self) -> DriverResult<String> {
        let r = self.execute("query-status", None).await?;
        Ok(r["status"].as_str().unwrap_or("unknown").to_owned())
    }
}
