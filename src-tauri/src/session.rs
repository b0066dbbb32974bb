//! Whether the volunteer has unlocked the app with their PIN, and the idle lock: a
//! command more than [`Session::idle`] after the previous one finds the app locked, so a
//! tablet left on a table shows nobody's data.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Environment variable overriding the idle lock, in seconds (tests use a few).
pub const IDLE_LOCK_ENV: &str = "DOORSTEP_IDLE_LOCK_SECS";

/// The default idle lock: ten minutes.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

#[derive(Debug)]
pub struct Session {
    pub idle: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    unlocked: bool,
    last_activity: Instant,
    /// The tablet is in the resident's hands: no idle lock (no timeouts in resident
    /// mode); leaving it takes the volunteer's PIN.
    resident_mode: bool,
}

impl Session {
    pub fn from_env() -> Session {
        let idle = std::env::var(IDLE_LOCK_ENV)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|&s| s > 0)
            .map_or(DEFAULT_IDLE, Duration::from_secs);
        Session {
            idle,
            state: Mutex::new(State {
                unlocked: false,
                last_activity: Instant::now(),
                resident_mode: false,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain values; a panic elsewhere cannot leave it inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the app is unlocked now; locks it if it has been idle too long.
    pub fn is_unlocked(&self) -> bool {
        let mut state = self.state();
        if state.unlocked && !state.resident_mode && state.last_activity.elapsed() > self.idle {
            state.unlocked = false;
            tracing::info!("locked after being idle");
        }
        state.unlocked
    }

    /// Notes activity: the idle time starts again. False if the app is locked.
    pub fn touch(&self) -> bool {
        let unlocked = self.is_unlocked();
        if unlocked {
            self.state().last_activity = Instant::now();
        }
        unlocked
    }

    pub fn unlock(&self) {
        let mut state = self.state();
        state.unlocked = true;
        state.last_activity = Instant::now();
    }

    pub fn lock(&self) {
        let mut state = self.state();
        state.unlocked = false;
        state.resident_mode = false;
    }

    /// Enters or leaves resident mode (the caller checks the PIN to leave).
    pub fn set_resident_mode(&self, on: bool) {
        let mut state = self.state();
        state.resident_mode = on;
        state.last_activity = Instant::now();
    }

    pub fn in_resident_mode(&self) -> bool {
        self.state().resident_mode
    }
}
