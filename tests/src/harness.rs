//! A fleet in one process: a server ([`InProcessServer`]) and devices on one fake clock,
//! each connected or not, synced until nothing moves. A test writes what happens in the
//! field (a volunteer offline for a week, a supervisor deciding at the office, a tablet
//! coming back into signal) in a few lines, and a sync costs milliseconds.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use doorstep_tests::harness::{DAY_MS, Fleet};
//!
//! let mut fleet = Fleet::new("p1")?;
//! let a = fleet.volunteer("测试志愿者甲")?;
//! let b = fleet.volunteer("测试志愿者乙")?;
//! fleet.disconnect(b);
//! fleet.advance(7 * DAY_MS);
//! fleet.connect(b);
//! fleet.run_until_quiet()?;
//! # let _ = a;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use doorstep_core::protocol::{Limits, Role};
use doorstep_device::clock::SetClock;
use doorstep_device::sync::{HttpAnswer, NetworkError, RetryPolicy};
use doorstep_device::{Device, DeviceError, SyncReport, Transport};

use crate::fleet::TestDevice;
use crate::in_process::{InProcessServer, RouterTransport};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// 2026-06-01 08:00 in China: where a fleet's clock starts.
pub const START_MS: i64 = 1_780_272_000_000;

/// One attempt per sync: a fleet's network is up or down, not flaky.
const ONCE: RetryPolicy = RetryPolicy {
    attempts: 1,
    first_wait: std::time::Duration::ZERO,
    max_wait: std::time::Duration::ZERO,
};

/// A device's link to the server, which the test plugs in and out.
#[derive(Debug, Clone)]
struct Link {
    inner: RouterTransport,
    up: Arc<AtomicBool>,
}

impl Transport for Link {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(NetworkError::Unreachable("no signal".into()));
        }
        self.inner.request(method, path, content_type, auth, body)
    }
}

/// A device of the fleet, by its place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member(usize);

struct Slot {
    test: TestDevice,
    link: Link,
}

/// A server and its devices on one clock.
pub struct Fleet {
    server: InProcessServer,
    clock: SetClock,
    committee: String,
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("committee", &self.committee)
            .field("devices", &self.slots.len())
            .finish_non_exhaustive()
    }
}

/// What [`Fleet::run_until_quiet`] took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quiet {
    /// Rounds in which every connected device synced once; the last moved nothing.
    pub rounds: usize,
    pub syncs: usize,
}

impl Fleet {
    /// A server at [`START_MS`] with committee `committee`, and no devices yet.
    pub fn new(committee: &str) -> anyhow::Result<Fleet> {
        Fleet::with_limits(committee, Limits::default())
    }

    /// [`Fleet::new`] with a server that takes no more than `limits` per request.
    pub fn with_limits(committee: &str, limits: Limits) -> anyhow::Result<Fleet> {
        let clock = SetClock::at(START_MS);
        let server = InProcessServer::start_with(clock.clone(), limits)?;
        server.committee(committee)?;
        Ok(Fleet {
            server,
            clock,
            committee: committee.to_owned(),
            slots: Vec::new(),
        })
    }

    /// Enrolls a new volunteer's device (connected).
    pub fn volunteer(&mut self, name: &str) -> anyhow::Result<Member> {
        self.join(Role::Volunteer, name)
    }

    /// Enrolls a new supervisor's device (connected).
    pub fn supervisor(&mut self, name: &str) -> anyhow::Result<Member> {
        self.join(Role::Supervisor, name)
    }

    fn join(&mut self, role: Role, name: &str) -> anyhow::Result<Member> {
        let test = self.server.device_as(&self.committee, role, name)?;
        let link = Link {
            inner: self.server.transport(),
            up: Arc::new(AtomicBool::new(true)),
        };
        self.slots.push(Slot { test, link });
        Ok(Member(self.slots.len() - 1))
    }

    pub fn server(&self) -> &InProcessServer {
        &self.server
    }

    /// The clock every device and the server read.
    pub fn clock(&self) -> &SetClock {
        &self.clock
    }

    /// Moves everyone's time on by `ms`.
    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    pub fn device(&mut self, m: Member) -> &mut Device {
        &mut self.slots[m.0].test.device
    }

    /// `m`'s sync token, for requests no device would make.
    pub fn token(&self, m: Member) -> anyhow::Result<String> {
        self.slots[m.0].test.token()
    }

    /// Out of signal: its syncs fail as a village without a network does.
    pub fn disconnect(&self, m: Member) {
        self.slots[m.0].link.up.store(false, Ordering::SeqCst);
    }

    pub fn connect(&self, m: Member) {
        self.slots[m.0].link.up.store(true, Ordering::SeqCst);
    }

    pub fn is_connected(&self, m: Member) -> bool {
        self.slots[m.0].link.up.load(Ordering::SeqCst)
    }

    /// Enrolls `m` again under a new code (a new identity: everything it holds waits to
    /// go up again).
    pub fn reenroll(&mut self, m: Member, name: &str) -> anyhow::Result<()> {
        let code = self
            .server
            .enrollment_code(&[&self.committee], Role::Volunteer, name)?;
        let text = self.server.enrollment_text(&code)?;
        let slot = &mut self.slots[m.0];
        slot.test
            .device
            .enroll_with(&mut slot.link, &text, "test tablet")?;
        Ok(())
    }

    /// One sync of `m`, whatever its link (a disconnected one fails with `Network`).
    pub fn sync(&mut self, m: Member) -> Result<SyncReport, DeviceError> {
        let slot = &mut self.slots[m.0];
        slot.test.device.sync_with(&mut slot.link, &ONCE)
    }

    /// Syncs every connected device, round after round, until a whole round sent and
    /// received nothing; fails after `100` rounds (something keeps moving).
    pub fn run_until_quiet(&mut self) -> anyhow::Result<Quiet> {
        let mut quiet = Quiet::default();
        for _ in 0..100 {
            quiet.rounds += 1;
            let mut moved = false;
            for i in 0..self.slots.len() {
                if !self.is_connected(Member(i)) {
                    continue;
                }
                let report = self
                    .sync(Member(i))
                    .with_context(|| format!("device {i} in round {}", quiet.rounds))?;
                quiet.syncs += 1;
                moved |= report.sent_docs > 0
                    || report.received_docs > 0
                    || report.blobs_sent > 0
                    || report.blobs_received > 0;
            }
            if !moved {
                return Ok(quiet);
            }
        }
        anyhow::bail!("still moving after 100 rounds")
    }
}
