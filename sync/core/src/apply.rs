//! Applying Automerge changes and loading documents that came from elsewhere (an upload,
//! a sync answer, a bundle). Automerge can panic on changes that parse but do not fit
//! together: fuzzing the server's upload acceptance found "Obj … Missing from Index"
//! within a few dozen inputs. A panic there refuses that one record, as any other bad
//! change does, instead of ending the request or the process that received it. The
//! document it panicked in is left as it was mid-way: callers discard it (every caller
//! applies to a copy it stores only on success).

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{AutoCommit, AutomergeError, Change};

/// [`AutoCommit::apply_changes`], with a panic inside Automerge returned as
/// [`AutomergeError::Fail`].
pub fn apply_changes(
    doc: &mut AutoCommit,
    changes: impl IntoIterator<Item = Change>,
) -> Result<(), AutomergeError> {
    let changes: Vec<Change> = changes.into_iter().collect();
    catch_unwind(AssertUnwindSafe(|| doc.apply_changes(changes)))
        .unwrap_or(Err(AutomergeError::Fail))
}

/// A change from its raw bytes (`Change::try_from`): only a change chunk or a
/// compressed change chunk (Automerge would also read a bundle chunk, and fuzzing found
/// one of 92 bytes that makes it allocate 4 GiB, which aborts the process), and a panic
/// inside Automerge (on bytes that parse but whose columns overflow) returned as an
/// error.
pub fn parse_change(bytes: &[u8]) -> Result<Change, String> {
    const CHANGE: u8 = 1;
    const COMPRESSED_CHANGE: u8 = 2;
    if bytes.len() < 9 || bytes[..4] != MAGIC || ![CHANGE, COMPRESSED_CHANGE].contains(&bytes[8]) {
        return Err("not an Automerge change chunk".into());
    }
    catch_unwind(|| Change::try_from(bytes).map_err(|e| e.to_string()))
        .unwrap_or_else(|_| Err("Automerge could not read the change".into()))
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// [`AutoCommit::save`] of a document made of changes from elsewhere, with a panic inside
/// Automerge returned as [`AutomergeError::Fail`]: fuzzing the device's import found
/// changes Automerge applies and then panics walking again ("MissingOps" listing them).
pub fn save(doc: &mut AutoCommit) -> Result<Vec<u8>, AutomergeError> {
    catch_unwind(AssertUnwindSafe(|| doc.save())).map_err(|_| AutomergeError::Fail)
}

/// [`AutoCommit::load`] of a document saved as Automerge saves one (a document chunk, or
/// change chunks, one after another), with a panic inside Automerge returned as
/// [`AutomergeError::Fail`]. Any other kind of chunk is refused unread: fuzzing found a
/// 38-byte *bundle* chunk whose column Automerge expands into more than 2 GiB.
pub fn load(bytes: &[u8]) -> Result<AutoCommit, AutomergeError> {
    if !only_document_and_change_chunks(bytes) {
        return Err(AutomergeError::Fail);
    }
    catch_unwind(|| AutoCommit::load(bytes)).unwrap_or(Err(AutomergeError::Fail))
}

/// Walks the chunk headers (magic, checksum, type, LEB128 length): false when one names
/// a kind other than a document (0), a change (1) or a compressed change (2). Where the
/// framing itself breaks, Automerge's own reading refuses the bytes.
fn only_document_and_change_chunks(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while bytes.len() >= at + 9 && bytes[at..at + 4] == MAGIC {
        if bytes[at + 8] > 2 {
            return false;
        }
        let mut rest = &bytes[at + 9..];
        let Ok(length) = leb128::read::unsigned(&mut rest) else {
            return true;
        };
        let i = bytes.len() - rest.len();
        let Some(next) = usize::try_from(length).ok().and_then(|l| i.checked_add(l)) else {
            return true;
        };
        at = next;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ROOT;
    use automerge::transaction::Transactable;

    #[test]
    fn a_bundle_chunk_is_not_loaded_as_a_document() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "测试").expect("put");
        let saved = doc.save();
        assert!(load(&saved).is_ok());
        // A bundle chunk (type 3) after the document, and alone.
        let bundle = [MAGIC.as_slice(), &[0, 0, 0, 0, 3, 1, 0]].concat();
        assert!(load(&[saved.as_slice(), &bundle].concat()).is_err());
        assert!(load(&bundle).is_err());
    }

    #[test]
    fn changes_that_fit_apply_and_a_document_loads() {
        let mut a = AutoCommit::new();
        a.put(ROOT, "kind", "resident").expect("put");
        a.commit();
        let mut b = AutoCommit::new();
        apply_changes(&mut b, a.get_changes(&[])).expect("applies");
        assert_eq!(b.get_heads(), a.get_heads());
        let mut loaded = load(&a.save()).expect("loads");
        assert_eq!(loaded.get_heads(), a.get_heads());
        assert!(load(b"not a document").is_err());
    }
}
