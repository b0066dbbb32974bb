//! Who wrote what, and when: every change a device commits carries a [`ChangeNote`] as
//! its message (what was done, by which volunteer) and its time; the device is the
//! change's actor. Any op can be traced back to the change that made it.

use automerge::{ActorId, AutoCommit, Change, ObjId, transaction::CommitOptions};
use serde::{Deserialize, Serialize};

/// The message of a change: what a person did, and who they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNote {
    /// A short machine-readable verb such as `register_resident` or `resolve_conflict`.
    pub what: String,
    /// The volunteer's display name on the device (empty when unknown).
    #[serde(default)]
    pub by: String,
    /// Why, in the person's words (a supervisor's note on a settled conflict).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl ChangeNote {
    pub fn new(what: &str, by: &str) -> ChangeNote {
        ChangeNote {
            what: what.to_owned(),
            by: by.to_owned(),
            note: String::new(),
        }
    }

    /// The same note with the person's reason.
    pub fn with_note(self, note: &str) -> ChangeNote {
        ChangeNote {
            note: note.trim().chars().take(500).collect(),
            ..self
        }
    }

    /// Reads a change's message; messages not written by Doorstep become `what`.
    pub fn parse(message: Option<&str>) -> ChangeNote {
        let message = message.unwrap_or_default();
        serde_json::from_str(message).unwrap_or_else(|_| ChangeNote::new(message, ""))
    }

    /// Commits `doc`'s pending ops with this note and `now_ms`. `None` when nothing was
    /// pending (no empty changes are made).
    pub fn commit(&self, doc: &mut AutoCommit, now_ms: i64) -> Option<automerge::ChangeHash> {
        let message = serde_json::to_string(self).unwrap_or_else(|_| self.what.clone());
        doc.commit_with(
            CommitOptions::default()
                .with_message(message)
                .with_time(now_ms),
        )
    }
}

/// Who and when, for one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Author {
    /// The device's actor id, hex.
    pub device: String,
    pub volunteer: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub what: String,
    /// The person's reason, when they gave one.
    pub note: String,
}

impl Author {
    pub fn of(change: &Change) -> Author {
        let note = ChangeNote::parse(change.message());
        Author {
            device: change.actor_id().to_hex_string(),
            volunteer: note.by,
            at: change.timestamp(),
            what: note.what,
            note: note.note,
        }
    }
}

/// The change that made the op `op` (a value's id from `get_all`).
pub fn change_of_op<'a>(changes: &'a [Change], op: &ObjId) -> Option<&'a Change> {
    let ObjId::Id(counter, actor, _) = op else {
        return None;
    };
    changes
        .iter()
        .find(|c| c.actor_id() == actor && (c.start_op().get()..=c.max_op()).contains(counter))
}

/// The actor of an op id.
pub fn actor_of_op(op: &ObjId) -> Option<&ActorId> {
    match op {
        ObjId::Id(_, actor, _) => Some(actor),
        ObjId::Root => None,
    }
}
