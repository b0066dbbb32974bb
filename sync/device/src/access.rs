//! [`DeviceAccess`]: something that lends the device for a moment. Long work (a sync, a
//! roster import) borrows the device step by step through it, never across a network
//! call or a whole file, so that the window, which shares the device behind a mutex,
//! goes on answering in the meantime.

use crate::device::Device;

/// Lends the device for the length of one call: the device itself (tests, tools), or the
/// mutex the window's commands share.
pub trait DeviceAccess {
    fn with_device<R>(&mut self, f: impl FnOnce(&mut Device) -> R) -> R;

    /// Called between two steps of long work, so that whoever waits for the device
    /// gets it before the next step.
    fn between_steps(&mut self) {}
}

impl DeviceAccess for Device {
    fn with_device<R>(&mut self, f: impl FnOnce(&mut Device) -> R) -> R {
        f(self)
    }
}

impl DeviceAccess for &std::sync::Mutex<Device> {
    fn with_device<R>(&mut self, f: impl FnOnce(&mut Device) -> R) -> R {
        // A command that panicked rolled its transaction back as it unwound: the device
        // is whole, and the app goes on.
        f(&mut self
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// A mutex is not fair: released and taken again at once, it would starve the
    /// window's commands for the whole import (measured: up to 6.8 s). A moment's pause
    /// lets a waiting command in first.
    fn between_steps(&mut self) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
