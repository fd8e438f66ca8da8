//! Image format inspection (Glance's `image_format_enforcement`): the data
//! of an upload or import must be what its `disk_format` says, and a qcow2
//! must not point outside itself (a backing file or an external data file).
//! Only the headers are read.

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes read from the start of the data: every signature we look for
/// lies within them (the ISO 9660 volume descriptors end at 0x9006).
const HEAD: usize = 0x9800;

/// The format the data's headers show, if any we know.
pub fn detect(head: &[u8], tail: &[u8]) -> Option<&'static str> {
    let at = |off: usize, sig: &[u8]| head.get(off..off + sig.len()) == Some(sig);
    if at(0, b"QFI\xfb") {
        return Some("qcow2");
    }
    if at(0, b"KDMV") || at(0, b"# Disk DescriptorFile") {
        return Some("vmdk");
    }
    if at(0, b"vhdxfile") {
        return Some("vhdx");
    }
    if at(0x40, &[0x7f, 0x10, 0xda, 0xbe]) {
        return Some("vdi");
    }
    if at(0, b"conectix") || tail.starts_with(b"conectix") {
        return Some("vhd");
    }
    if [0x8001, 0x8801, 0x9001].iter().any(|&o| at(o, b"CD001")) {
        return Some("iso");
    }
    if at(0, b"WithoutFreeSpace") || at(0, b"WithouFreSpacExt") {
        return Some("ploop");
    }
    None
}

/// Why a qcow2 header is unsafe to use, if it is.
fn qcow2_unsafe(head: &[u8]) -> Option<&'static str> {
    let be32 = |o: usize| {
        head.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let be64 = |o: usize| {
        head.get(o..o + 8)
            .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    let version = be32(4)?;
    if be64(8).unwrap_or(0) != 0 {
        return Some("it names a backing file");
    }
    // Version 3 headers carry incompatible feature bits; bit 2 is an
    // external data file.
    if version >= 3 && be64(72).unwrap_or(0) & 0b100 != 0 {
        return Some("it uses an external data file");
    }
    None
}

/// Whether data with these headers may be stored as `disk_format`: the
/// reason it may not, when it may not.
pub fn verdict(disk_format: &str, head: &[u8], tail: &[u8]) -> Result<(), String> {
    let detected = detect(head, tail);
    if detected == Some("qcow2") {
        if let Some(why) = qcow2_unsafe(head) {
            return Err(format!(
                "Image data is a qcow2 that is not safe to use: {why}."
            ));
        }
    }
    let ok = match disk_format {
        // Raw data may be anything but another disk image format (a raw disk
        // may hold an ISO file system).
        "raw" => matches!(detected, None | Some("iso")),
        "qcow2" | "vmdk" | "vhdx" | "vdi" | "vhd" | "iso" | "ploop" => {
            detected == Some(disk_format)
        }
        // ami/ari/aki carry no header of their own.
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Image data does not match its disk_format '{disk_format}': it looks like {}.",
            detected.map_or_else(|| "raw data".to_owned(), |d| format!("a {d} image"))
        ))
    }
}

/// Inspect the stored data at `path` against `disk_format`.
pub async fn check(path: &Path, disk_format: Option<&str>) -> Result<(), String> {
    let Some(disk_format) = disk_format else {
        return Ok(());
    };
    let read = async {
        let mut file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        let mut head = Vec::with_capacity(HEAD);
        (&mut file).take(HEAD as u64).read_to_end(&mut head).await?;
        let mut tail = vec![0u8; 512];
        if len >= 1024 {
            file.seek(std::io::SeekFrom::Start(len - 512)).await?;
            file.read_exact(&mut tail).await?;
        } else {
            tail.clear();
        }
        Ok::<_, std::io::Error>((head, tail))
    };
    let (head, tail) = read
        .await
        .map_err(|e| format!("Could not read the image data to inspect it: {e}"))?;
    verdict(disk_format, &head, &tail)
}

#[cfg(test)]
mod tests {
    use super::verdict;

    fn qcow2(backing: u64, incompatible: u64) -> Vec<u8> {
        let mut h = vec![0u8; 104];
        h[..4].copy_from_slice(b"QFI\xfb");
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[8..16].copy_from_slice(&backing.to_be_bytes());
        h[72..80].copy_from_slice(&incompatible.to_be_bytes());
        h
    }

    #[test]
    fn verdicts() {
        assert!(verdict("raw", b"just some bytes", b"").is_ok());
        assert!(verdict("qcow2", &qcow2(0, 0), b"").is_ok());
        assert!(verdict("raw", &qcow2(0, 0), b"").is_err());
        assert!(verdict("qcow2", b"just some bytes", b"").is_err());
        assert!(verdict("qcow2", &qcow2(512, 0), b"").is_err());
        assert!(verdict("qcow2", &qcow2(0, 4), b"").is_err());
        assert!(verdict("vmdk", &qcow2(0, 0), b"").is_err());
        assert!(verdict("ami", b"anything", b"").is_ok());
        let mut iso = vec![0u8; 0x9000];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert!(verdict("iso", &iso, b"").is_ok());
        assert!(verdict("raw", &iso, b"").is_ok());
    }
}
