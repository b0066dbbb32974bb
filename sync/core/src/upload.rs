//! Accepting one uploaded document, without IO: the changes a device sent are parsed,
//! merged into what is held, checked (complete history, the kind it claims, the size
//! limit) and compared for new conflicts. The server stores what this decides; the
//! decision itself needs no database and is tested here.

use automerge::{AutoCommit, Change};

use crate::value::{self, Fields};

/// Why an uploaded document is refused. `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error("change {index}: not an Automerge change ({reason})")]
    InvalidChange { index: usize, reason: String },
    #[error("the changes do not apply ({0})")]
    ChangesDoNotApply(String),
    #[error(
        "the changes depend on changes the server does not have; send every unacknowledged change"
    )]
    MissingDependencies,
    #[error("the document says kind {found:?}, the request {claimed:?}")]
    KindMismatch { found: String, claimed: String },
    #[error("the document would hold {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the stored document cannot be loaded ({0})")]
    StoredUnreadable(String),
}

impl UploadRefusal {
    /// The protocol's code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            UploadRefusal::InvalidChange { .. } | UploadRefusal::ChangesDoNotApply(_) => {
                "invalid_change"
            }
            UploadRefusal::MissingDependencies => "missing_dependencies",
            UploadRefusal::KindMismatch { .. } => "kind_mismatch",
            UploadRefusal::TooLarge { .. } => "document_too_large",
            UploadRefusal::StoredUnreadable(_) => "storage",
        }
    }
}

/// A document after an accepted upload.
#[derive(Debug)]
pub struct Merged {
    /// The document as it is to be stored.
    pub snapshot: Vec<u8>,
    /// Fields in conflict now that were not before the upload, sorted.
    pub new_conflicts: Vec<String>,
}

/// Parses uploaded changes, each from its raw bytes.
pub fn parse_changes<B: AsRef<[u8]>>(raw: &[B]) -> Result<Vec<Change>, UploadRefusal> {
    raw.iter()
        .enumerate()
        .map(|(index, bytes)| {
            Change::try_from(bytes.as_ref()).map_err(|e| UploadRefusal::InvalidChange {
                index,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Merges `changes` into the stored document (`None`: a new one) and decides whether
/// the result may be stored: its history complete, its `kind` the one `claimed`, its
/// size within `limit` bytes.
pub fn merge_upload(
    stored: Option<&[u8]>,
    changes: Vec<Change>,
    claimed: &str,
    limit: usize,
) -> Result<Merged, UploadRefusal> {
    let mut doc = match stored {
        Some(bytes) => {
            AutoCommit::load(bytes).map_err(|e| UploadRefusal::StoredUnreadable(e.to_string()))?
        }
        None => AutoCommit::new(),
    };
    let before = Fields::scan(&doc).conflicted();
    doc.apply_changes(changes)
        .map_err(|e| UploadRefusal::ChangesDoNotApply(e.to_string()))?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(UploadRefusal::MissingDependencies);
    }
    let found = value::text(&doc, "kind").unwrap_or_default();
    if found != claimed {
        return Err(UploadRefusal::KindMismatch {
            found,
            claimed: claimed.to_owned(),
        });
    }
    let snapshot = doc.save();
    if snapshot.len() > limit {
        return Err(UploadRefusal::TooLarge {
            size: snapshot.len(),
            limit,
        });
    }
    let mut new_conflicts: Vec<String> = Fields::scan(&doc)
        .conflicted()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    new_conflicts.sort();
    Ok(Merged {
        snapshot,
        new_conflicts,
    })
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    use super::*;

    const LIMIT: usize = 1 << 20;

    fn doc(actor: u8) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]))
    }

    /// A resident document with a name, and its changes as a device uploads them.
    fn resident(actor: u8) -> (AutoCommit, Vec<Vec<u8>>) {
        let mut d = doc(actor);
        d.put(ROOT, "kind", "resident").expect("put");
        d.put(ROOT, "name", "测试").expect("put");
        d.commit();
        let raw = d
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        (d, raw)
    }

    #[test]
    fn a_new_document_is_accepted_with_its_snapshot() {
        let (d, raw) = resident(1);
        let merged = merge_upload(None, parse_changes(&raw).expect("parse"), "resident", LIMIT)
            .expect("accepted");
        let mut back = AutoCommit::load(&merged.snapshot).expect("load");
        assert_eq!(back.get_heads(), d.clone().get_heads());
        assert!(merged.new_conflicts.is_empty());
    }

    #[test]
    fn garbage_bytes_are_refused_naming_the_change() {
        let (_, mut raw) = resident(1);
        raw.push(b"not a change".to_vec());
        let err = parse_changes(&raw).expect_err("garbage");
        assert_eq!(err.code(), "invalid_change");
        assert!(matches!(err, UploadRefusal::InvalidChange { index: 1, .. }));
    }

    #[test]
    fn a_change_without_its_history_is_refused() {
        let (mut d, _) = resident(1);
        let heads = d.get_heads();
        d.put(ROOT, "name", "测试二").expect("put");
        d.commit();
        let later: Vec<Vec<u8>> = d
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let err = merge_upload(
            None,
            parse_changes(&later).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect_err("missing history");
        assert_eq!(err, UploadRefusal::MissingDependencies);
    }

    #[test]
    fn a_document_claiming_another_kind_is_refused() {
        let (_, raw) = resident(1);
        let err = merge_upload(
            None,
            parse_changes(&raw).expect("parse"),
            "application",
            LIMIT,
        )
        .expect_err("kind");
        assert_eq!(err.code(), "kind_mismatch");
    }

    #[test]
    fn a_document_over_the_limit_is_refused() {
        let (_, raw) = resident(1);
        let err = merge_upload(None, parse_changes(&raw).expect("parse"), "resident", 10)
            .expect_err("too large");
        assert!(matches!(err, UploadRefusal::TooLarge { limit: 10, .. }));
        assert_eq!(err.code(), "document_too_large");
    }

    #[test]
    fn unreadable_stored_bytes_are_the_servers_fault_not_the_devices() {
        let (_, raw) = resident(1);
        let err = merge_upload(
            Some(b"corrupt".as_slice()),
            parse_changes(&raw).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect_err("corrupt store");
        assert_eq!(err.code(), "storage");
    }

    #[test]
    fn only_conflicts_the_upload_creates_are_reported() {
        // Two devices edit the name concurrently: the second upload makes the conflict.
        let (mut a, raw) = resident(1);
        let stored = merge_upload(None, parse_changes(&raw).expect("parse"), "resident", LIMIT)
            .expect("first");
        let mut b = AutoCommit::load(&stored.snapshot)
            .expect("load")
            .with_actor(ActorId::from(vec![2u8; 16]));
        let heads = a.get_heads();
        a.put(ROOT, "name", "甲改的").expect("put");
        a.commit();
        b.put(ROOT, "name", "乙改的").expect("put");
        b.commit();
        let from_a: Vec<Vec<u8>> = a
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let from_b: Vec<Vec<u8>> = b
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let after_a = merge_upload(
            Some(&stored.snapshot),
            parse_changes(&from_a).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("a");
        assert!(after_a.new_conflicts.is_empty());
        let after_b = merge_upload(
            Some(&after_a.snapshot),
            parse_changes(&from_b).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("b");
        assert_eq!(after_b.new_conflicts, ["name"]);
        // The same conflict uploaded again is not new.
        let again = merge_upload(
            Some(&after_b.snapshot),
            parse_changes(&from_b).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("again");
        assert!(again.new_conflicts.is_empty());
    }
}
