//! What runs guests, as compute sees it: the trait the worker acts
//! through. The drivers (`fake`, `qemu`) live in the `ferro-virt` crate.

pub use ferro_virt::{ComputeDriver, DriverError, FakeDriver, HostResources, QemuDriver};
