//! Whether the volunteer has unlocked the app with their PIN, and the idle lock: a
//! command more than [`Session::idle`] after the previous one finds the app locked, so a
//! tablet left on a table shows nobody's data. In resident mode the tablet is in the
//! resident's hands: no timeouts, and only the PIN leaves.
//!
//! A state machine without a clock of its own: every call is given the time, so that
//! tests walk it through hours in microseconds.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use doorstep_core::protocol::Role;
use serde::Serialize;

use crate::device::Device;
use crate::error::DeviceError;

/// The default idle lock: ten minutes.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

#[derive(Debug)]
pub struct Session {
    idle: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    unlocked: bool,
    last_activity: Instant,
    resident_mode: bool,
}

impl Session {
    /// A locked session whose idle lock is `idle`.
    pub fn new(idle: Duration, now: Instant) -> Session {
        Session {
            idle,
            state: Mutex::new(State {
                unlocked: false,
                last_activity: now,
                resident_mode: false,
            }),
        }
    }

    /// How long the app may sit unused before it locks.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Two plain values and an instant: a panic elsewhere cannot leave them
        // inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the app is unlocked at `now`; locks it if it has been idle too long.
    pub fn is_unlocked(&self, now: Instant) -> bool {
        let mut state = self.state();
        if state.unlocked
            && !state.resident_mode
            && now.saturating_duration_since(state.last_activity) > self.idle
        {
            state.unlocked = false;
            tracing::info!("locked after being idle");
        }
        state.unlocked
    }

    /// Notes activity at `now`: the idle time starts again. False if the app is locked.
    pub fn touch(&self, now: Instant) -> bool {
        let unlocked = self.is_unlocked(now);
        if unlocked {
            self.state().last_activity = now;
        }
        unlocked
    }

    /// Unlocks (the caller has checked the PIN).
    pub fn unlock(&self, now: Instant) {
        let mut state = self.state();
        state.unlocked = true;
        state.last_activity = now;
    }

    /// Locks, leaving resident mode.
    pub fn lock(&self) {
        let mut state = self.state();
        state.unlocked = false;
        state.resident_mode = false;
    }

    /// Enters or leaves resident mode (the caller checks the PIN to leave).
    pub fn set_resident_mode(&self, on: bool, now: Instant) {
        let mut state = self.state();
        state.resident_mode = on;
        state.last_activity = now;
    }

    pub fn in_resident_mode(&self) -> bool {
        self.state().resident_mode
    }
}

/// The device's enrollment, as the start screen and the top bar show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct EnrollmentView {
    pub server_url: String,
    /// The name the device was enrolled under (the volunteer's or supervisor's).
    pub name: String,
    pub role: Role,
    /// The names of the committees it serves.
    pub committees: Vec<String>,
}

/// Where the app stands at start: enrolled or not, PIN set or not, locked or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StartState {
    pub enrollment: Option<EnrollmentView>,
    pub has_pin: bool,
    pub unlocked: bool,
    /// The volunteer the PIN belongs to (the active member).
    pub volunteer: String,
    /// Everyone who may unlock this device (a shared tablet holds several), the active
    /// one marked; those the server removed are marked too.
    pub members: Vec<crate::members::MemberView>,
    /// How long the app stays unlocked without a command.
    pub idle_lock_secs: u64,
}

impl Device {
    /// The start screen's state, with `session` as it stands at `now`.
    pub fn start_state(&self, session: &Session, now: Instant) -> Result<StartState, DeviceError> {
        Ok(StartState {
            enrollment: self.enrollment()?.map(|e| EnrollmentView {
                server_url: e.server_url,
                name: e.name,
                role: e.role,
                committees: e.committees.into_iter().map(|c| c.name).collect(),
            }),
            has_pin: self.has_pin()?,
            unlocked: session.is_unlocked(now),
            volunteer: self.volunteer().to_owned(),
            members: self.members()?,
            idle_lock_secs: session.idle().as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(600);

    #[test]
    fn locked_until_unlocked_and_again_after_idling() {
        let t0 = Instant::now();
        let s = Session::new(IDLE, t0);
        assert!(!s.is_unlocked(t0));
        assert!(!s.touch(t0), "a touch does not unlock");
        s.unlock(t0);
        // Each command restarts the idle time.
        assert!(s.touch(t0 + Duration::from_secs(500)));
        assert!(s.touch(t0 + Duration::from_secs(1000)));
        assert!(s.is_unlocked(t0 + Duration::from_secs(1600)));
        assert!(!s.is_unlocked(t0 + Duration::from_secs(1601)));
        assert!(!s.touch(t0 + Duration::from_secs(1602)));
    }

    #[test]
    fn resident_mode_never_times_out_and_a_lock_leaves_it() {
        let t0 = Instant::now();
        let s = Session::new(IDLE, t0);
        s.unlock(t0);
        s.set_resident_mode(true, t0);
        let hours_later = t0 + Duration::from_secs(3 * 3600);
        assert!(s.is_unlocked(hours_later), "no timeouts for the resident");
        assert!(s.in_resident_mode());
        s.set_resident_mode(false, hours_later);
        assert!(s.is_unlocked(hours_later + Duration::from_secs(599)));
        s.set_resident_mode(true, hours_later);
        s.lock();
        assert!(!s.in_resident_mode());
        assert!(!s.is_unlocked(hours_later));
    }
}
