//! Image data on disk: `DIR/<image id>`, written under a temporary name
//! (`DIR/.tmp-<id>-<nonce>`) and renamed into place only once complete, with
//! md5 and sha512 computed while the bytes stream through.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::store::images::Uploaded;

const TEMP_PREFIX: &str = ".tmp-";
const CHUNK: usize = 64 * 1024;
/// The staging area's directory inside the image directory.
const STAGING: &str = "staging";

/// Why writing data failed: the client's stream broke, or our disk did.
#[derive(Debug)]
pub enum WriteError {
    Client(String),
    Io(std::io::Error),
    /// The data is not what the image's `disk_format` says.
    Rejected(String),
}

#[derive(Clone, Debug)]
pub struct DataStore {
    dir: PathBuf,
}

impl DataStore {
    pub fn new(dir: PathBuf) -> Self {
        DataStore { dir }
    }

    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Stream `body` into the image's file. On any failure nothing is left
    /// behind under the final name.
    pub async fn write<S, E>(&self, id: &str, body: S) -> Result<Uploaded, WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(WriteError::Io)?;
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{id}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let result = self.write_temp(&temp, body).await;
        match result {
            Ok(up) => match tokio::fs::rename(&temp, self.path(id)).await {
                Ok(()) => Ok(up),
                Err(e) => {
                    let _ = tokio::fs::remove_file(&temp).await;
                    Err(WriteError::Io(e))
                }
            },
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    async fn write_temp<S, E>(&self, temp: &Path, mut body: S) -> Result<Uploaded, WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::File::create(temp)
            .await
            .map_err(WriteError::Io)?;
        let mut md5 = md5::Md5::new();
        let mut sha = sha2::Sha512::new();
        let mut size: i64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| WriteError::Client(e.to_string()))?;
            md5.update(&chunk);
            sha.update(&chunk);
            size += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            file.write_all(&chunk).await.map_err(WriteError::Io)?;
        }
        file.flush().await.map_err(WriteError::Io)?;
        file.sync_all().await.map_err(WriteError::Io)?;
        Ok(Uploaded {
            size,
            checksum: hex(&md5.finalize()),
            os_hash_algo: "sha512".to_owned(),
            os_hash_value: hex(&sha.finalize()),
        })
    }

    /// Where staged data (`PUT …/stage`) waits for its import.
    fn staging_dir(&self) -> PathBuf {
        self.dir.join(STAGING)
    }

    pub fn staged_path(&self, id: &str) -> PathBuf {
        self.staging_dir().join(id)
    }

    /// Stream `body` into the staging area for `id` (written under a
    /// temporary name, renamed once complete). Returns the staged size.
    pub async fn stage<S, E>(&self, id: &str, body: S) -> Result<i64, WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let dir = self.staging_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(WriteError::Io)?;
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{id}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        match self.write_temp(&temp, body).await {
            Ok(up) => match tokio::fs::rename(&temp, self.staged_path(id)).await {
                Ok(()) => Ok(up.size),
                Err(e) => {
                    let _ = tokio::fs::remove_file(&temp).await;
                    Err(WriteError::Io(e))
                }
            },
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    /// Make the staged data of `id` its image data (hashed on the way).
    pub async fn import_staged(&self, id: &str) -> Result<Uploaded, WriteError> {
        let up = self.write_from_file(id, &self.staged_path(id)).await?;
        self.remove_staged(id).await;
        Ok(up)
    }

    pub async fn remove_staged(&self, id: &str) {
        match tokio::fs::remove_file(self.staged_path(id)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(image = id, error = %e, "could not remove staged data"),
        }
    }

    /// Copy a local file in (compute snapshots), hashing as it goes.
    pub async fn write_from_file(&self, id: &str, src: &Path) -> Result<Uploaded, WriteError> {
        let file = tokio::fs::File::open(src).await.map_err(WriteError::Io)?;
        self.write(id, Box::pin(file_stream(file, u64::MAX))).await
    }

    /// `len` bytes from `start` of the image's data, as a stream of chunks.
    pub async fn read(
        &self,
        id: &str,
        start: u64,
        len: u64,
    ) -> std::io::Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static> {
        let mut file = tokio::fs::File::open(self.path(id)).await?;
        file.seek(std::io::SeekFrom::Start(start)).await?;
        Ok(file_stream(file, len))
    }

    pub async fn remove(&self, id: &str) {
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(image = id, error = %e, "could not remove image data"),
        }
    }

    /// Remove temporary files and data files no image claims (`keep`),
    /// and staged data of images no longer `uploading` (`staged`).
    pub fn sweep(
        &self,
        keep: &HashSet<String>,
        staged: &HashSet<String>,
    ) -> std::io::Result<usize> {
        Ok(sweep_dir(&self.dir, keep)? + sweep_dir(&self.staging_dir(), staged)?)
    }
}

fn sweep_dir(dir: &Path, keep: &HashSet<String>) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            continue;
        }
        if name.starts_with(TEMP_PREFIX) || !keep.contains(&name) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn file_stream(
    file: tokio::fs::File,
    len: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
