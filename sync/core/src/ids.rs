//! Newtype ids, so that a document id is never confused with any other string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of one record document: a UUIDv7 in its hyphenated text form, chosen by the
/// device that created the record (time-ordered, so lists sort by creation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct DocId(String);

impl DocId {
    /// Wraps a UUID text. Returns `None` unless it is 36 characters of hex and hyphens in
    /// the 8-4-4-4-12 form.
    pub fn parse(text: &str) -> Option<DocId> {
        let groups: Vec<&str> = text.split('-').collect();
        let lengths = [8, 4, 4, 4, 12];
        let ok = groups.len() == lengths.len()
            && groups
                .iter()
                .zip(lengths)
                .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
        ok.then(|| DocId(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uuid_text_only() {
        assert!(DocId::parse("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").is_some());
        assert!(DocId::parse("0192f0c8-7a1e-7cc3-9a4e").is_none());
        assert!(DocId::parse("0192f0c8x7a1e-7cc3-9a4e-3b1f2a9d8e11").is_none());
        assert!(DocId::parse("zzzzzzzz-7a1e-7cc3-9a4e-3b1f2a9d8e11").is_none());
    }
}
