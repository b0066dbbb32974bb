//! The idle lock's length from the environment; the session itself (unlocked or not,
//! the idle lock, resident mode) is `doorstep_device::session`.

use std::time::{Duration, Instant};

use doorstep_device::session::{DEFAULT_IDLE, Session};

/// Environment variable overriding the idle lock, in seconds (tests use a few).
pub const IDLE_LOCK_ENV: &str = "DOORSTEP_IDLE_LOCK_SECS";

/// A locked session with the idle lock the environment sets (ten minutes by default).
pub fn from_env() -> Session {
    let idle = std::env::var(IDLE_LOCK_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_IDLE, Duration::from_secs);
    Session::new(idle, Instant::now())
}
