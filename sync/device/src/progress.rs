//! How far a sync has got, told to whoever listens (the window's progress bar).

use serde::Serialize;

/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Attachments going up; `done`/`total` in bytes.
    Upload,
    /// Records both ways; `done` round trips, `total` 0 (not known ahead).
    Records,
    /// Attachments coming down; `done`/`total` in attachments.
    Download,
}

/// How far a sync has got, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub done: u64,
    pub total: u64,
}

/// A function told each step of a sync's progress.
pub type ProgressFn = Box<dyn Fn(&SyncProgress) + Send>;

/// Whoever wants to hear a sync's progress.
#[derive(Default)]
pub struct ProgressListener(pub(crate) Option<ProgressFn>);

impl std::fmt::Debug for ProgressListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressListener(set)"
        } else {
            "ProgressListener(none)"
        })
    }
}

impl ProgressListener {
    pub(crate) fn tell(&self, phase: SyncPhase, done: u64, total: u64) {
        if let Some(listener) = &self.0 {
            listener(&SyncProgress { phase, done, total });
        }
    }
}
