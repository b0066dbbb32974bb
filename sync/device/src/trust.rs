//! This device's side of the key roster (see `doorstep_core::key_roster`): the server's
//! key is pinned when the device enrolls (or, for a device enrolled before rosters were
//! signed, on the first roster it is sent), the latest roster signed with it is kept,
//! and every change received from the server or a bundle is checked against it before
//! it is merged. A roster that is not signed by the pinned key stops the sync.

use std::sync::Arc;

use std::collections::HashSet;

use automerge::{AutoCommit, Change, ChangeHash};
use doorstep_core::ErrorCode;
use doorstep_core::history::HistoryEntry;
use doorstep_core::key_roster::{FromServer, Signed, SignedKeyRoster, Trusted};
use doorstep_core::keys::PublicKey;
use rusqlite::Transaction;
use serde_bytes::ByteBuf;

use crate::device::Device;
use crate::error::DeviceError;
use crate::store;

/// The server's public key (32 bytes), pinned.
const META_SERVER_KEY: &str = "server_key";
/// The latest key roster, as the server signed it (JSON of [`SignedKeyRoster`]).
const META_KEY_ROSTER: &str = "key_roster";

impl Device {
    /// The version of the key roster this device holds (empty for none).
    pub(crate) fn key_roster_version(&self) -> Result<String, DeviceError> {
        Ok(self
            .trusted()?
            .map(|t| t.roster.version.clone())
            .unwrap_or_default())
    }

    /// The server key this device pinned, if any.
    pub(crate) fn pinned_server_key(&self) -> Result<Option<PublicKey>, DeviceError> {
        Ok(self
            .store
            .meta(META_SERVER_KEY)?
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .and_then(|bytes| PublicKey::from_bytes(&bytes)))
    }

    /// Takes a key roster the server sent, inside the caller's transaction: it must be
    /// signed by the pinned server key (`repin`: by the key it names, which is pinned,
    /// as at enrollment). Refused, nothing is written.
    pub(crate) fn take_key_roster(
        &self,
        tx: &Transaction<'_>,
        signed: &SignedKeyRoster,
        repin: bool,
    ) -> Result<(), DeviceError> {
        let pinned = if repin {
            None
        } else {
            self.pinned_server_key()?
        };
        let roster = signed.open(pinned.as_ref()).map_err(|e| {
            tracing::error!(error = %e, "a key roster was refused");
            DeviceError::KeyRoster(e.to_string())
        })?;
        let key = signed
            .server_key()
            .ok_or_else(|| DeviceError::KeyRoster("no server key".into()))?;
        if pinned.is_none() {
            store::put_meta(tx, META_SERVER_KEY, key.as_bytes())?;
        }
        let json = serde_json::to_vec(signed).map_err(|e| DeviceError::KeyRoster(e.to_string()))?;
        store::put_meta(tx, META_KEY_ROSTER, &json)?;
        // A member the server revoked no longer unlocks this device.
        self.mark_revoked_members(tx, &roster)?;
        *self.trusted.borrow_mut() = Some(Arc::new(Trusted::new(roster, key)));
        Ok(())
    }

    /// The key roster received changes are checked against; `None` before this device
    /// holds one (not enrolled, or enrolled with a server that signs none).
    pub(crate) fn trusted(&self) -> Result<Option<Arc<Trusted>>, DeviceError> {
        if let Some(t) = self.trusted.borrow().as_ref() {
            return Ok(Some(Arc::clone(t)));
        }
        let (Some(key), Some(json)) =
            (self.pinned_server_key()?, self.store.meta(META_KEY_ROSTER)?)
        else {
            return Ok(None);
        };
        // Checked again as it is read: the file could have been changed at rest.
        let Ok(signed) = serde_json::from_slice::<SignedKeyRoster>(&json) else {
            return Ok(None);
        };
        let Ok(roster) = signed.open(Some(&key)) else {
            tracing::error!("the key roster kept on this device does not verify");
            return Ok(None);
        };
        let trusted = Arc::new(Trusted::new(roster, key));
        *self.trusted.borrow_mut() = Some(Arc::clone(&trusted));
        Ok(Some(trusted))
    }

    /// Notes on each history entry of record `doc_id` whose key signed its change and
    /// whether it verifies against the key roster.
    pub(crate) fn check_signers(
        &self,
        doc_id: &str,
        doc: &mut AutoCommit,
        entries: &mut [HistoryEntry],
    ) -> Result<(), DeviceError> {
        let trusted = self.trusted()?;
        for entry in entries {
            let Some(change) = entry
                .change
                .parse::<ChangeHash>()
                .ok()
                .and_then(|h| doc.get_change_by_hash(&h))
            else {
                continue;
            };
            let signature = crate::attest::signatures_of(
                self.store.conn(),
                doc_id,
                std::slice::from_ref(&change),
            )?
            .pop()
            .unwrap_or_default();
            entry.signed = match (&trusted, signature.is_empty()) {
                (_, true) => Signed::Missing,
                (None, false) => Signed::Unchecked,
                (Some(t), false) => t.signed_by(doc_id, &change, &signature),
            };
            if let (Signed::Author, Some(t)) = (entry.signed, &trusted) {
                entry.signer = t.name_of(change.actor_id());
            }
        }
        Ok(())
    }

    /// Applies received changes of one record to `doc`, those that hold against the key
    /// roster (see [`Trusted::check`]; everything, when this device holds no roster):
    /// `kind` and `committee` are the record's as the server or the bundle gives them.
    /// A change that does not hold, and every change made on top of it, is not applied
    /// but returned, to be kept apart; the rest of the record goes in.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_checked(
        &self,
        doc_id: &str,
        kind: &str,
        committee: &str,
        doc: &mut AutoCommit,
        changes: Vec<Change>,
        raw: &[ByteBuf],
        signatures: &[ByteBuf],
        from_server: FromServer<'_>,
    ) -> Result<Option<Apart>, DeviceError> {
        let Some(trusted) = self.trusted()? else {
            doorstep_core::apply::apply_changes(doc, changes)?;
            return Ok(None);
        };
        let fresh: Vec<(usize, Change)> = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| doc.get_change_by_hash(&c.hash()).is_none())
            .map(|(i, c)| (i, c.clone()))
            .collect();
        let original = doc.clone();
        doorstep_core::apply::apply_changes(doc, changes)?;
        if !doc.get_missing_deps(&[]).is_empty() {
            // Incomplete: the caller stores nothing of it.
            return Ok(None);
        }
        let all: Vec<(usize, &Change)> = fresh.iter().map(|(i, c)| (*i, c)).collect();
        if trusted
            .check(
                doc_id,
                kind,
                committee,
                &all,
                signatures,
                &original,
                doc,
                from_server,
            )
            .is_ok()
        {
            return Ok(None);
        }
        // Some change does not hold: one at a time, in the order they came (each after
        // its dependencies), to keep apart exactly those that do not and what depends on
        // them.
        *doc = original;
        // Rules that read the record as it was (an application's events, a visit plan's
        // assignment and outcomes) are checked on it change by change.
        let application =
            kind == doorstep_core::application::KIND || kind == doorstep_core::visit::KIND;
        let empty = AutoCommit::new();
        let mut bad: HashSet<ChangeHash> = HashSet::new();
        let mut apart = Apart {
            changes: Vec::new(),
            signatures: Vec::new(),
            code: ErrorCode::AttestationInvalid,
            authors: Vec::new(),
        };
        for (i, change) in &fresh {
            let one = [(*i, change)];
            let verdict = if change.deps().iter().any(|d| bad.contains(d)) {
                Err(None)
            } else if application {
                let before = doc.clone();
                doorstep_core::apply::apply_changes(doc, [change.clone()])?;
                let checked = trusted.check(
                    doc_id,
                    kind,
                    committee,
                    &one,
                    signatures,
                    &before,
                    doc,
                    from_server,
                );
                if checked.is_err() {
                    *doc = before;
                }
                checked.map_err(Some)
            } else {
                let checked = trusted.check(
                    doc_id,
                    kind,
                    committee,
                    &one,
                    signatures,
                    &empty,
                    &empty,
                    from_server,
                );
                if checked.is_ok() {
                    doorstep_core::apply::apply_changes(doc, [change.clone()])?;
                }
                checked.map_err(Some)
            };
            if let Err(fault) = verdict {
                bad.insert(change.hash());
                if let Some(fault) = fault {
                    if apart.authors.is_empty() {
                        apart.code = fault.code.parse().unwrap_or(ErrorCode::AttestationInvalid);
                    }
                    for author in fault.authors {
                        if !apart.authors.contains(&author) {
                            apart.authors.push(author);
                        }
                    }
                }
                apart.changes.push(raw.get(*i).cloned().unwrap_or_default());
                apart
                    .signatures
                    .push(signatures.get(*i).cloned().unwrap_or_default());
            }
        }
        tracing::warn!(
            code = apart.code.as_str(),
            changes = apart.changes.len(),
            "received changes do not hold and are kept apart"
        );
        Ok(Some(apart))
    }
}

/// Received changes of one record that do not hold against the key roster, kept apart:
/// why (the first fault's code) and whose they claim to be.
#[derive(Debug)]
pub(crate) struct Apart {
    pub changes: Vec<ByteBuf>,
    pub signatures: Vec<ByteBuf>,
    pub code: ErrorCode,
    pub authors: Vec<String>,
}

impl Apart {
    /// As the error a record set aside is noted with.
    pub(crate) fn fault(&self) -> DeviceError {
        DeviceError::Untrusted {
            code: self.code,
            authors: self.authors.clone(),
        }
    }
}
