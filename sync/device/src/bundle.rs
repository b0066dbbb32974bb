//! Offline bundles: records carried between devices on a USB stick where there is no
//! network at all.
//!
//! The receiving device writes a *manifest* of what it holds (the hash of every change
//! of every record, 32 bytes each, and its attachments' names); the giving device
//! exports a *bundle* of everything it has beyond that (or everything, without a
//! manifest); the receiver imports it. A file is a fixed header, a CBOR body and the
//! SHA-256 of both: a damaged or truncated file is refused whole before anything is
//! written, and importing the same bundle twice changes nothing. Imported records stay
//! marked for sync, so whichever device next meets the server passes them on.
//!
//! A bundle is signed by the exporting device's key and carries every change's
//! attestation. An enrolled device imports only a bundle signed by a device its key
//! roster lists for its committees (a forged, altered or foreign bundle is refused
//! whole), and checks every change as it checks those the server sends: a record whose
//! changes do not hold is set aside, and the rest goes in.

use std::path::Path;

use automerge::ChangeHash;
use doorstep_core::DocId;
use doorstep_core::ErrorCode;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::device::Device;
use crate::docs::{self, Access};
use crate::error::DeviceError;
use crate::sync::Merged;

const BUNDLE_MAGIC: &[u8; 16] = b"DOORSTEP-BUNDLE\n";
const MANIFEST_MAGIC: &[u8; 16] = b"DOORSTEP-MANIFS\n";
/// Version 2: the bundle is signed by the exporting device.
const FORMAT_VERSION: u32 = 2;
const MANIFEST_VERSION: u32 = 1;

/// What the exporting device signs: a fixed tag and the bundle's CBOR.
fn bundle_message(body: &[u8]) -> Vec<u8> {
    let mut message = b"doorstep-bundle-v2\n".to_vec();
    message.extend_from_slice(body);
    message
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    docs: Vec<(String, Vec<ByteBuf>)>,
    blobs: Vec<String>,
}

/// A bundle file's body: the bundle's CBOR, and who exported and signed it.
#[derive(Debug, Serialize, Deserialize)]
struct SignedBundle {
    version: u32,
    /// The exporting device's actor id (hex), which its key roster entry binds to its key.
    actor: String,
    /// Its signature (64 bytes) of [`bundle_message`] over `body`.
    signature: ByteBuf,
    /// The CBOR of a [`Bundle`].
    body: ByteBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    version: u32,
    created_at: i64,
    docs: Vec<BundleDoc>,
    blobs: Vec<(String, ByteBuf)>,
    /// The checkpoints of the sync log the exporting device held: the importing one
    /// witnesses them (see `sync::log_trust`).
    #[serde(default)]
    checkpoints: Vec<doorstep_core::protocol::HeldCheckpoint>,
    /// The evidence of logs that did not hold the exporting device kept: the importing
    /// one keeps what proves itself (a volunteer's tablet has no console; a supervisor's
    /// that imports its bundle shows it).
    #[serde(default)]
    evidence: Vec<crate::sync::log_trust::LogEvidence>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundleDoc {
    doc_id: String,
    kind: String,
    /// The record's committee as the exporting device knows it (empty: not known).
    #[serde(default)]
    committee: String,
    changes: Vec<ByteBuf>,
    /// Each change's attestation, in the same order (empty where none is held).
    #[serde(default)]
    signatures: Vec<ByteBuf>,
}

/// What an export wrote or an import took in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub docs: usize,
    pub changes: usize,
    pub blobs: usize,
    /// For an import: records that were new or gained changes.
    pub records_changed: usize,
    /// For an import: records whose changes did not hold against the key roster, set
    /// aside (see `Device::records_aside`).
    pub set_aside: usize,
    /// For an import: checkpoints of the exporting device that prove the server showed
    /// the two devices two different logs (kept as evidence; syncing stops).
    pub log_forks: usize,
    pub bytes: u64,
}

fn seal(magic: &[u8; 16], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + body.len() + 32);
    out.extend_from_slice(magic);
    out.extend_from_slice(body);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// The body of a sealed file, or why the file is refused.
fn unseal<'a>(magic: &[u8; 16], file: &'a [u8]) -> Result<&'a [u8], DeviceError> {
    if file.len() < 16 + 32 || &file[..16] != magic {
        return Err(DeviceError::Bundle {
            code: ErrorCode::BundleInvalid,
            reason: "not a Doorstep file of this kind".into(),
        });
    }
    let (content, digest) = file.split_at(file.len() - 32);
    if Sha256::digest(content).as_slice() != digest {
        return Err(DeviceError::Bundle {
            code: ErrorCode::BundleDamaged,
            reason: "the file is damaged or incomplete (its checksum does not match)".into(),
        });
    }
    Ok(&content[16..])
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DeviceError> {
    crate::file_out::write_whole(path, bytes).map_err(|e| DeviceError::Bundle {
        code: ErrorCode::BundleUnwritable,
        reason: e.to_string(),
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, DeviceError> {
    std::fs::read(path).map_err(|e| DeviceError::Bundle {
        code: ErrorCode::BundleUnreadable,
        reason: e.to_string(),
    })
}

/// Reads a sealed file of the kind `magic` names and decodes its body; refuses a damaged
/// file, or one a newer Doorstep wrote. Returns the value and the file's size.
fn read_sealed<T: serde::de::DeserializeOwned>(
    magic: &[u8; 16],
    path: &Path,
    newest: u32,
    version: impl Fn(&T) -> u32,
) -> Result<(T, u64), DeviceError> {
    let file = read_file(path)?;
    Ok((
        decode_sealed(magic, &file, newest, version)?,
        file.len() as u64,
    ))
}

fn decode_sealed<T: serde::de::DeserializeOwned>(
    magic: &[u8; 16],
    file: &[u8],
    newest: u32,
    version: impl Fn(&T) -> u32,
) -> Result<T, DeviceError> {
    let value: T = doorstep_core::protocol::from_cbor(unseal(magic, file)?).map_err(|e| {
        DeviceError::Bundle {
            code: ErrorCode::BundleInvalid,
            reason: e,
        }
    })?;
    if version(&value) > newest {
        return Err(DeviceError::Bundle {
            code: ErrorCode::BundleTooNew,
            reason: "written by a newer Doorstep".into(),
        });
    }
    Ok(value)
}

/// The signed envelope's content.
fn open_bundle(signed: &SignedBundle) -> Result<Bundle, DeviceError> {
    let bundle: Bundle =
        doorstep_core::protocol::from_cbor(&signed.body).map_err(|e| DeviceError::Bundle {
            code: ErrorCode::BundleInvalid,
            reason: e,
        })?;
    // A device writes each record once; a bundle naming one twice was not made by one
    // (and its records could not each be taken or set aside alone).
    let mut ids = std::collections::HashSet::new();
    if !bundle.docs.iter().all(|d| ids.insert(d.doc_id.as_str())) {
        return Err(DeviceError::Bundle {
            code: ErrorCode::BundleInvalid,
            reason: "the bundle carries a record twice".into(),
        });
    }
    Ok(bundle)
}

/// Every attachment of a bundle is the one its name (its SHA-256) says.
fn check_blobs(bundle: &Bundle) -> Result<(), DeviceError> {
    for (sha, bytes) in &bundle.blobs {
        if crate::attachments::sha256_hex(bytes) != *sha {
            return Err(DeviceError::Bundle {
                code: ErrorCode::BundleDamaged,
                reason: "an attachment does not match its name".into(),
            });
        }
    }
    Ok(())
}

/// Decodes a bundle file's bytes as an import does before it asks who signed it (the
/// seal, the signed envelope, the content, the attachments' names); returns how many
/// records it carries. What the bundle fuzz target runs.
pub fn decode_bundle(file: &[u8]) -> Result<usize, DeviceError> {
    let signed = decode_sealed(BUNDLE_MAGIC, file, FORMAT_VERSION, |b: &SignedBundle| {
        b.version
    })?;
    let bundle = open_bundle(&signed)?;
    check_blobs(&bundle)?;
    Ok(bundle.docs.len())
}

/// Decodes a manifest file's bytes as an export does; returns how many records it
/// names. What the manifest fuzz target runs.
pub fn decode_manifest(file: &[u8]) -> Result<usize, DeviceError> {
    let manifest = decode_sealed(MANIFEST_MAGIC, file, MANIFEST_VERSION, |m: &Manifest| {
        m.version
    })?;
    Ok(manifest.docs.len())
}

impl Device {
    /// Writes a manifest of what this device holds (every change hash of every record,
    /// and attachment names), for another device to export only what this one lacks.
    pub fn write_manifest(&self, path: &Path) -> Result<(), DeviceError> {
        let mut docs = Vec::new();
        for (doc_id, _) in self.all_docs()? {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            let mut loaded =
                docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Read)?;
            let hashes = loaded
                .doc
                .get_changes(&[])
                .iter()
                .map(|c| ByteBuf::from(c.hash().0.to_vec()))
                .collect();
            docs.push((doc_id, hashes));
        }
        let blobs = {
            let mut stmt = self.store.conn().prepare("SELECT sha256 FROM blobs")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            docs,
            blobs,
        };
        write_file(
            path,
            &seal(MANIFEST_MAGIC, &doorstep_core::protocol::to_cbor(&manifest)),
        )
    }

    /// Exports every record change and attachment this device has beyond what the
    /// manifest at `peer` lists (everything, without one) into one file at `path`.
    pub fn export_bundle(
        &self,
        path: &Path,
        peer: Option<&Path>,
    ) -> Result<BundleReport, DeviceError> {
        let manifest = match peer {
            Some(p) => {
                let (m, _) = read_sealed(MANIFEST_MAGIC, p, MANIFEST_VERSION, |m: &Manifest| {
                    m.version
                })?;
                Some(m)
            }
            None => None,
        };
        let peer_has: std::collections::HashSet<(&str, ChangeHash)> = manifest
            .iter()
            .flat_map(|m| m.docs.iter())
            .flat_map(|(id, hashes)| {
                hashes
                    .iter()
                    .filter_map(|h| ChangeHash::try_from(h.as_slice()).ok())
                    .map(move |h| (id.as_str(), h))
            })
            .collect();
        let peer_blobs: std::collections::HashSet<&str> = manifest
            .iter()
            .flat_map(|m| m.blobs.iter().map(String::as_str))
            .collect();
        let mut report = BundleReport::default();
        let mut docs = Vec::new();
        // A record made here and not yet synced is of this device's committee.
        let own_committee = self
            .enrollment()?
            .and_then(|e| e.committees.first().map(|c| c.id.clone()))
            .unwrap_or_default();
        for (doc_id, kind) in self.all_docs()? {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            let committee = self
                .committee_of(&doc_id)?
                .unwrap_or_else(|| own_committee.clone());
            let mut loaded =
                docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Read)?;
            let wanted: Vec<automerge::Change> = loaded
                .doc
                .get_changes(&[])
                .into_iter()
                .filter(|c| !peer_has.contains(&(doc_id.as_str(), c.hash())))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let signatures = self.attest_outgoing(&doc_id, &wanted)?;
            let changes: Vec<ByteBuf> = wanted
                .iter()
                .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
                .collect();
            report.docs += 1;
            report.changes += changes.len();
            docs.push(BundleDoc {
                doc_id,
                kind,
                committee,
                changes,
                signatures,
            });
        }
        let mut blobs = Vec::new();
        {
            let mut stmt = self
                .store
                .conn()
                .prepare("SELECT sha256, bytes FROM blobs ORDER BY sha256")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let sha: String = row.get(0)?;
                if peer_blobs.contains(sha.as_str()) {
                    continue;
                }
                blobs.push((sha, ByteBuf::from(row.get::<_, Vec<u8>>(1)?)));
            }
        }
        report.blobs = blobs.len();
        let bundle = Bundle {
            version: FORMAT_VERSION,
            created_at: self.now(),
            docs,
            blobs,
            checkpoints: self.log_held()?,
            evidence: self.log_evidence()?,
        };
        let body = doorstep_core::protocol::to_cbor(&bundle);
        let signature = self.signer()?.key.sign(&bundle_message(&body));
        let signed = SignedBundle {
            version: FORMAT_VERSION,
            actor: self.actor_hex(),
            signature: ByteBuf::from(signature.to_vec()),
            body: ByteBuf::from(body),
        };
        let file = seal(BUNDLE_MAGIC, &doorstep_core::protocol::to_cbor(&signed));
        report.bytes = file.len() as u64;
        write_file(path, &file)?;
        Ok(report)
    }

    /// Imports a bundle: all of it in one transaction, or (for a damaged file, or changes
    /// that do not fit together) nothing at all.
    pub fn import_bundle(&mut self, path: &Path) -> Result<BundleReport, DeviceError> {
        self.import_bundle_bytes(&read_file(path)?)
    }

    /// Imports a bundle file's bytes as [`Device::import_bundle`] does once it has read
    /// them (what the `bundle_import` fuzz target feeds).
    pub fn import_bundle_bytes(&mut self, file: &[u8]) -> Result<BundleReport, DeviceError> {
        let signed = decode_sealed(BUNDLE_MAGIC, file, FORMAT_VERSION, |b: &SignedBundle| {
            b.version
        })?;
        let file_len = file.len() as u64;
        let bundle = open_bundle(&signed)?;
        let signer_committees = self.check_bundle_signer(&signed, &bundle)?;
        check_blobs(&bundle)?;
        let now = self.now();
        let mut report = BundleReport {
            bytes: file_len,
            ..BundleReport::default()
        };
        let tx = self.store.conn().unchecked_transaction()?;
        let mut touched = Vec::new();
        for doc in bundle.docs {
            report.docs += 1;
            report.changes += doc.changes.len();
            let heads_before = self.heads_if_present(&doc.doc_id)?;
            let committee = if doc.committee.is_empty() {
                self.committee_of(&doc.doc_id)?
                    .or_else(|| signer_committees.first().cloned())
                    .unwrap_or_default()
            } else {
                doc.committee.clone()
            };
            // The record as a set-aside row keeps it (made only for one set aside).
            let download = || doorstep_core::protocol::DocDownload {
                doc_id: doc.doc_id.clone(),
                kind: doc.kind.clone(),
                committee: committee.clone(),
                changes: doc.changes.clone(),
                signatures: doc.signatures.clone(),
            };
            if crate::sync::refusals::is_aside(&tx, &doc.doc_id)? {
                // Set aside here before: these changes join it, as this bundle names
                // it, and with them it may now be whole.
                crate::sync::refusals::join_aside(&tx, &download())?;
                tx.execute(
                    "UPDATE received_aside SET kind = ?2, committee = ?3 WHERE doc_id = ?1",
                    rusqlite::params![&doc.doc_id, &doc.kind, &committee],
                )?;
                match self.merge_aside(&tx, &doc.doc_id, &|_| false, now)? {
                    Some((id, merged)) => {
                        report.records_changed += 1;
                        touched.push((id, merged));
                    }
                    None => report.set_aside += 1,
                }
                continue;
            }
            // Each record alone, as a sync answer's: one that cannot be stored is set
            // aside with why, and the rest of the bundle goes in.
            tx.execute_batch("SAVEPOINT imported")?;
            let merged = match self.merge_changes(
                &tx,
                &doc.doc_id,
                &doc.kind,
                &committee,
                &doc.changes,
                &doc.signatures,
                &|_| false,
                now,
            ) {
                Ok(merged) => {
                    tx.execute_batch("RELEASE imported")?;
                    merged
                }
                Err(e) if crate::sync::refusals::is_record_fault(&e) => {
                    tx.execute_batch("ROLLBACK TO imported; RELEASE imported")?;
                    tracing::warn!(
                        code = e.code().as_str(),
                        "a record of a bundle is set aside"
                    );
                    crate::sync::refusals::set_aside(&tx, &download(), &e, now)?;
                    report.set_aside += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match merged {
                Merged::Done {
                    id,
                    doc: mut merged,
                    apart,
                    ..
                } => {
                    if let Some(apart) = apart {
                        // Kept apart for a person, never merged; the rest goes in.
                        let kept = doorstep_core::protocol::DocDownload {
                            doc_id: doc.doc_id.clone(),
                            kind: doc.kind.clone(),
                            committee: committee.clone(),
                            changes: Vec::new(),
                            signatures: Vec::new(),
                        };
                        crate::sync::refusals::keep_apart(&tx, &kept, apart, now)?;
                        report.set_aside += 1;
                    }
                    let mut after = merged.get_heads();
                    after.sort();
                    if heads_before.as_ref() != Some(&after) {
                        report.records_changed += 1;
                    }
                    touched.push((id, *merged));
                }
                Merged::Quarantined => {}
                Merged::Incomplete => {
                    return Err(DeviceError::Bundle {
                        code: ErrorCode::BundleIncomplete,
                        reason: "the bundle's changes depend on changes it does not carry; \
                                 export it again without a manifest"
                            .into(),
                    });
                }
            }
        }
        for (sha, bytes) in &bundle.blobs {
            // Not known to be on the server: whichever device syncs next sends it.
            report.blobs += crate::attachments::put_blob(&tx, sha, bytes, false, now)?;
        }
        tx.commit()?;
        let mut cache = self.cache.borrow_mut();
        for (id, doc) in touched {
            cache.put_owned(&id, doc);
        }
        drop(cache);
        // The records are in; the exporting device's checkpoints are witnessed apart (a
        // fork they prove stops syncing, not this import).
        report.log_forks = self.take_peer_checkpoints(&bundle.checkpoints)?
            + self.take_peer_evidence(&bundle.evidence)?;
        Ok(report)
    }

    /// For an enrolled device: that the bundle is signed by a device its key roster lists
    /// for its committees, and carries records of those committees only; returns the
    /// signer's committees among this device's. (A device not enrolled trusts no roster
    /// and checks nothing.)
    fn check_bundle_signer(
        &self,
        signed: &SignedBundle,
        bundle: &Bundle,
    ) -> Result<Vec<String>, DeviceError> {
        if self.enrollment()?.is_none() {
            return Ok(Vec::new());
        }
        let refuse = |code: ErrorCode, reason: &str| DeviceError::Bundle {
            code,
            reason: reason.to_owned(),
        };
        let Some(trusted) = self.trusted()? else {
            return Err(refuse(
                ErrorCode::KeyRosterMissing,
                "this device holds no key roster yet; sync once, then import",
            ));
        };
        let mine = &trusted.roster.committees;
        if bundle
            .docs
            .iter()
            .any(|d| !d.committee.is_empty() && !mine.contains(&d.committee))
        {
            return Err(refuse(
                ErrorCode::BundleForeign,
                "the bundle carries records of another committee",
            ));
        }
        let forged = || {
            refuse(
                ErrorCode::BundleForged,
                "the bundle is not signed by a device of this committee, or was altered",
            )
        };
        let actor = hex::decode(&signed.actor)
            .map(automerge::ActorId::from)
            .map_err(|_| forged())?;
        let Some(author) = trusted.author_of(&actor).cloned() else {
            // Perhaps honest and newer than this device's roster (a tablet, or a person
            // added to a shared one, since this device last synced): a sync tells.
            return Err(refuse(
                ErrorCode::BundleSignerUnknown,
                "the bundle is signed by someone this device's key roster does not hold",
            ));
        };
        if !author
            .key
            .verifies(&bundle_message(&signed.body), &signed.signature)
        {
            return Err(forged());
        };
        if author.revoked {
            return Err(refuse(
                ErrorCode::BundleForged,
                "the bundle is signed by a revoked device",
            ));
        }
        let shared: Vec<String> = mine
            .iter()
            .filter(|c| author.role_in(c).is_some())
            .cloned()
            .collect();
        if shared.is_empty() {
            return Err(refuse(
                ErrorCode::BundleForeign,
                "the bundle was exported by a device of another committee",
            ));
        }
        Ok(shared)
    }

    /// The committee a record stored here belongs to, once the server has said.
    fn committee_of(&self, doc_id: &str) -> Result<Option<String>, DeviceError> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT committee FROM docs WHERE doc_id = ?1",
                [doc_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Every record's id and kind, quarantined ones aside.
    fn all_docs(&self) -> Result<Vec<(String, String)>, DeviceError> {
        let mut stmt = self
            .store
            .conn()
            .prepare("SELECT doc_id, kind FROM docs WHERE quarantined IS NULL ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn heads_if_present(&self, doc_id: &str) -> Result<Option<Vec<ChangeHash>>, DeviceError> {
        let Some(id) = DocId::parse(doc_id) else {
            return Ok(None);
        };
        match docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Read) {
            Ok(mut loaded) => {
                let mut heads = loaded.doc.get_heads();
                heads.sort();
                Ok(Some(heads))
            }
            Err(DeviceError::NotFound(_) | DeviceError::Quarantined(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
