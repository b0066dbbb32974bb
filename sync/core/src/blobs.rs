//! The attachment blobs a record refers to (photos, signatures), by SHA-256.
//!
//! Blobs travel apart from documents: a device uploads each blob its records refer to
//! once, and downloads those that records it received refer to.

use automerge::{ObjType, ROOT, ReadDoc, Value};

/// Whether `s` is a SHA-256 in lowercase hex.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every blob `doc` refers to: an application's attachments (keys of its `attachments`
/// map) and the resident's consent signatures (in its events), and an authorization's
/// `signature`. Sorted, without repeats.
pub fn referenced(doc: &impl ReadDoc) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some((Value::Object(ObjType::Map), obj))) = doc.get(ROOT, "attachments") {
        out.extend(doc.keys(&obj).filter(|k| is_sha256_hex(k)));
    }
    if let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, "events") {
        for i in 0..doc.length(&list) {
            if let Ok(Some((Value::Object(ObjType::Map), event))) = doc.get(&list, i)
                && let Ok(Some((Value::Scalar(s), _))) = doc.get(&event, "consent_signature")
                && let Some(text) = s.as_str()
                && is_sha256_hex(text)
            {
                out.push(text.to_owned());
            }
        }
    }
    if let Ok(Some((Value::Scalar(s), _))) = doc.get(ROOT, "signature")
        && let Some(text) = s.as_str()
        && is_sha256_hex(text)
    {
        out.push(text.to_owned());
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;
    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn finds_attachments_and_signatures_but_nothing_else() {
        let sha = "ab".repeat(32);
        let mut doc = AutoCommit::new();
        let map = doc
            .put_object(ROOT, "attachments", ObjType::Map)
            .expect("map");
        doc.put_object(&map, sha.as_str(), ObjType::Map)
            .expect("entry");
        doc.put_object(&map, "not-a-hash", ObjType::Map)
            .expect("entry");
        doc.put(ROOT, "signature", "cd".repeat(32)).expect("put");
        let events = doc.put_object(ROOT, "events", ObjType::List).expect("list");
        let consent = doc.insert_object(&events, 0, ObjType::Map).expect("event");
        doc.put(&consent, "consent_signature", "ef".repeat(32))
            .expect("put");
        let other = doc.insert_object(&events, 1, ObjType::Map).expect("event");
        doc.put(&other, "consent_signature", "").expect("put");
        assert_eq!(referenced(&doc), [sha, "cd".repeat(32), "ef".repeat(32)]);
        assert!(!is_sha256_hex(&"AB".repeat(32)));
    }
}
