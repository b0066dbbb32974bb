//! The time, as the device reads it: the system's clock in the app, a clock the test sets
//! in tests. Every time a device writes into a record, and every "today" it judges a
//! date by, comes from its clock.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use doorstep_core::date::{Ymd, china_date};

/// Where a device reads the time.
pub trait Clock: Debug + Send + Sync {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;

    /// Today's date in China Standard Time, where Doorstep is used.
    fn today(&self) -> Ymd {
        china_date(self.now_ms())
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that says what it is told (tests): shared, so that the test keeps a handle
/// and moves the time while the device runs.
#[derive(Debug, Clone)]
pub struct SetClock(Arc<AtomicI64>);

impl SetClock {
    /// A clock at `ms` since the epoch.
    pub fn at(ms: i64) -> SetClock {
        SetClock(Arc::new(AtomicI64::new(ms)))
    }

    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for SetClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
