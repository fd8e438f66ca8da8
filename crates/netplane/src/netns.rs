//! Sockets inside a namespace: a listener made by a short-lived OS thread
//! that entered the namespace (`setns`), bound there, and exited. The socket
//! keeps the namespace it was made in, so the process can serve it from any
//! thread; the rest of the process never leaves the host's namespace.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::sched::{setns, CloneFlags};

fn path(namespace: &str) -> io::Result<PathBuf> {
    if namespace.is_empty() || namespace.contains('/') || namespace.starts_with('.') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad namespace name {namespace:?}"),
        ));
    }
    Ok(PathBuf::from("/run/netns").join(namespace))
}

/// Which namespace `/run/netns/<namespace>` is now (its inode): a
/// namespace deleted and made again under the same name has a new one.
pub fn id(namespace: &str) -> io::Result<u64> {
    Ok(std::fs::metadata(path(namespace)?)?.ino())
}

/// A non-blocking TCP listener on `addr` inside `namespace`, and the
/// namespace's `id` it was made in. Blocks while a thread of its own does
/// the work (call it from a blocking context).
pub fn listen(namespace: &str, addr: SocketAddr) -> io::Result<(TcpListener, u64)> {
    let path = path(namespace)?;
    let worker = std::thread::Builder::new()
        .name("netns-bind".into())
        .spawn(move || -> io::Result<(TcpListener, u64)> {
            let file = std::fs::File::open(&path)?;
            let ino = file.metadata()?.ino();
            // This thread only: it ends right after, taking the namespace
            // with it; the socket stays in the namespace it was made in.
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            let listener = TcpListener::bind(addr)?;
            listener.set_nonblocking(true)?;
            Ok((listener, ino))
        })?;
    worker
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))?
}
