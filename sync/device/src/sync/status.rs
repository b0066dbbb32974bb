//! What the window's status line knows about sync: whether the server answered, the
//! sync in progress and how far it has got, the last outcome, and the device's figures
//! (enrolled, records waiting, last sync, conflicted records) as last read.
//!
//! [`StatusLine`] keeps this apart from the device, so that reading it never waits for
//! a sync that holds the device between its requests.

use std::sync::{Mutex, MutexGuard, PoisonError};

use doorstep_core::ErrorCode;
use serde::Serialize;

use super::SyncReport;
use crate::device::Device;
use crate::error::DeviceError;
use crate::progress::SyncProgress;

/// The status line, as the window receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncState {
    /// Whether the server answered the last time it was tried (`None`: not tried yet).
    pub online: Option<bool>,
    pub running: bool,
    /// How far the sync in progress has got.
    pub progress: Option<SyncProgress>,
    /// The code of the last sync's failure, cleared by a successful sync.
    pub last_error: Option<ErrorCode>,
    pub last_report: Option<SyncReport>,
    /// Whether the window is unlocked (the shell's session says).
    pub unlocked: bool,
    pub enrolled: bool,
    /// Records changed here that the server has not acknowledged.
    pub pending_docs: u64,
    /// When the last sync finished (ms since the epoch).
    pub last_sync_at: Option<i64>,
    /// Records with conflicted fields.
    pub conflicts: usize,
    /// Waiting records the server refused, and received records set aside here.
    pub refused: u64,
    pub aside: u64,
}

/// The status line's memory, shared by the sync thread and the window's commands.
#[derive(Debug, Default)]
pub struct StatusLine(Mutex<SyncState>);

impl StatusLine {
    fn state(&self) -> MutexGuard<'_, SyncState> {
        // The state is plain data: a panic elsewhere leaves nothing half-changed here.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the status line shows now, with the session's `unlocked`.
    pub fn get(&self, unlocked: bool) -> SyncState {
        SyncState {
            unlocked,
            ..self.state().clone()
        }
    }

    pub fn is_running(&self) -> bool {
        self.state().running
    }

    /// Whether the server answered a probe.
    pub fn set_online(&self, online: bool) {
        self.state().online = Some(online);
    }

    pub fn set_progress(&self, progress: &SyncProgress) {
        self.state().progress = Some(progress.clone());
    }

    /// A sync starts.
    pub fn begin(&self) {
        let mut s = self.state();
        s.running = true;
        s.progress = None;
    }

    /// A sync ended with `outcome`: a report, or the code of its failure (a network
    /// failure also means the server is not answering).
    pub fn finish(&self, outcome: &Result<SyncReport, DeviceError>) {
        let mut s = self.state();
        s.running = false;
        s.progress = None;
        match outcome {
            Ok(report) => {
                s.online = Some(true);
                s.last_error = None;
                s.last_report = Some(report.clone());
            }
            Err(e) => {
                if matches!(e, DeviceError::Network(_)) {
                    s.online = Some(false);
                }
                s.last_error = Some(e.code());
            }
        }
    }

    /// Keeps the figures (enrolled, waiting, last sync, conflicts) as `device` has them.
    pub fn remember_figures(&self, device: &Device) -> Result<(), DeviceError> {
        let status = device.sync_status()?;
        let conflicts = device.conflicted_records()?.len();
        let mut s = self.state();
        s.enrolled = status.enrolled;
        s.pending_docs = status.pending_docs;
        s.last_sync_at = status.last_sync_at;
        s.conflicts = conflicts;
        s.refused = status.refused_docs;
        s.aside = status.aside_docs;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::SyncPhase;

    #[test]
    fn a_sync_runs_then_reports_or_fails() {
        let line = StatusLine::default();
        assert_eq!(line.get(false), SyncState::default());
        line.begin();
        line.set_progress(&SyncProgress {
            phase: SyncPhase::Upload,
            done: 5,
            total: 10,
        });
        let now = line.get(true);
        assert!(now.running && now.unlocked);
        assert_eq!(now.progress.map(|p| p.phase), Some(SyncPhase::Upload));

        line.finish(&Err(DeviceError::Network("refused".into())));
        let failed = line.get(true);
        assert!(!failed.running && failed.progress.is_none());
        assert_eq!(failed.online, Some(false));
        assert_eq!(failed.last_error, Some(ErrorCode::ServerUnreachable));

        line.begin();
        line.finish(&Ok(SyncReport {
            sent_docs: 2,
            ..SyncReport::default()
        }));
        let done = line.get(true);
        assert_eq!(done.online, Some(true));
        assert_eq!(done.last_error, None, "a success clears the failure");
        assert_eq!(done.last_report.map(|r| r.sent_docs), Some(2));
    }

    #[test]
    fn a_refusal_is_not_being_offline() {
        let line = StatusLine::default();
        line.set_online(true);
        line.finish(&Err(DeviceError::NotEnrolled));
        assert_eq!(line.get(true).online, Some(true));
        assert_eq!(line.get(true).last_error, Some(ErrorCode::NotEnrolled));
    }
}
