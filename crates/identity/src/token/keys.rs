//! Fernet keys in the data dir, laid out as Keystone's key repository:
//! files named 0 (staged), 1..N; the highest number is the primary key that
//! signs new tokens, all of them validate.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use fernet::{Fernet, MultiFernet};

/// The keys currently in use.
pub struct KeyRing {
    fernet: MultiFernet,
}

impl KeyRing {
    /// Load the key repository at `dir`, creating it (staged + primary key)
    /// when it is empty.
    pub fn load_or_create(dir: &Path) -> io::Result<KeyRing> {
        fs::create_dir_all(dir)?;
        restrict(dir, 0o700)?;
        if numbered_keys(dir)?.is_empty() {
            write_key(dir, 0)?;
            write_key(dir, 1)?;
        }
        Self::load(dir)
    }

    fn load(dir: &Path) -> io::Result<KeyRing> {
        let mut keys = numbered_keys(dir)?;
        // Primary (highest number) first: MultiFernet encrypts with the first.
        keys.sort_by_key(|k| std::cmp::Reverse(k.0));
        let mut fernets = Vec::new();
        for (_, path) in keys {
            let text = fs::read_to_string(&path)?;
            let f = Fernet::new(text.trim()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad key file {path:?}"))
            })?;
            fernets.push(f);
        }
        if fernets.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no fernet keys"));
        }
        Ok(KeyRing {
            fernet: MultiFernet::new(fernets),
        })
    }

    pub fn encrypt(&self, data: &[u8]) -> String {
        self.fernet.encrypt(data)
    }

    pub fn decrypt(&self, token: &str) -> Option<Vec<u8>> {
        self.fernet.decrypt(token).ok()
    }
}

/// Keystone's rotation: the staged key (0) becomes the new primary, a new
/// staged key is made, and the oldest secondaries beyond `max_active` go.
pub fn rotate(dir: &Path, max_active: usize) -> io::Result<()> {
    let keys = numbered_keys(dir)?;
    let next = keys.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
    let staged = dir.join("0");
    if staged.exists() {
        fs::rename(&staged, dir.join(next.to_string()))?;
    } else {
        write_key(dir, next)?;
    }
    write_key(dir, 0)?;
    let mut keys = numbered_keys(dir)?;
    keys.sort_by_key(|(n, _)| *n);
    let excess = keys.len().saturating_sub(max_active.max(3));
    for (n, path) in keys.iter().filter(|(n, _)| *n != 0).take(excess) {
        tracing::info!(key = n, "removing old fernet key");
        fs::remove_file(path)?;
    }
    Ok(())
}

fn numbered_keys(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push((n, entry.path()));
        }
    }
    Ok(out)
}

fn write_key(dir: &Path, n: u64) -> io::Result<()> {
    let tmp = dir.join(format!(".tmp-{n}"));
    fs::write(&tmp, Fernet::generate_key())?;
    restrict(&tmp, 0o600)?;
    fs::rename(&tmp, dir.join(n.to_string()))
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_survive_rotation_and_old_keys_expire() {
        let dir = std::env::temp_dir().join(format!("ferro-keys-{}", uuid::Uuid::new_v4()));
        let ring = KeyRing::load_or_create(&dir).unwrap();
        let token = ring.encrypt(b"hello");
        rotate(&dir, 3).unwrap();
        let ring2 = KeyRing::load(&dir).unwrap();
        assert_eq!(ring2.decrypt(&token).unwrap(), b"hello");
        // New tokens use the new primary, which the old ring knows as staged.
        let token2 = ring2.encrypt(b"again");
        assert_eq!(ring.decrypt(&token2).unwrap(), b"again");
        rotate(&dir, 3).unwrap();
        rotate(&dir, 3).unwrap();
        let ring3 = KeyRing::load(&dir).unwrap();
        assert!(ring3.decrypt(&token).is_none(), "oldest key must be gone");
        fs::remove_dir_all(&dir).unwrap();
    }
}
