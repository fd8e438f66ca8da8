//! The QEMU driver (in progress).
