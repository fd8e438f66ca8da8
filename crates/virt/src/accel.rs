//! Choosing QEMU's accelerator. (Filled in by the accel probe work.)
