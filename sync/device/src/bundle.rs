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

use std::path::Path;

use automerge::ChangeHash;
use doorstep_core::DocId;
use doorstep_core::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::device::Device;
use crate::docs::{self, Access};
use crate::error::DeviceError;
use crate::sync::Merged;

const BUNDLE_MAGIC: &[u8; 16] = b"DOORSTEP-BUNDLE\n";
const MANIFEST_MAGIC: &[u8; 16] = b"DOORSTEP-MANIFS\n";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    docs: Vec<(String, Vec<ByteBuf>)>,
    blobs: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    version: u32,
    created_at: i64,
    docs: Vec<BundleDoc>,
    blobs: Vec<(String, ByteBuf)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundleDoc {
    doc_id: String,
    kind: String,
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
    // Written beside, then renamed: a pulled stick never leaves half a file under the name.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| DeviceError::Bundle {
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
    version: impl Fn(&T) -> u32,
) -> Result<(T, u64), DeviceError> {
    let file = read_file(path)?;
    let value: T = doorstep_core::protocol::from_cbor(unseal(magic, &file)?).map_err(|e| {
        DeviceError::Bundle {
            code: ErrorCode::BundleInvalid,
            reason: e,
        }
    })?;
    if version(&value) > FORMAT_VERSION {
        return Err(DeviceError::Bundle {
            code: ErrorCode::BundleTooNew,
            reason: "written by a newer Doorstep".into(),
        });
    }
    Ok((value, file.len() as u64))
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
            version: FORMAT_VERSION,
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
                let (m, _) = read_sealed(MANIFEST_MAGIC, p, |m: &Manifest| m.version)?;
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
        for (doc_id, kind) in self.all_docs()? {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
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
        };
        let file = seal(BUNDLE_MAGIC, &doorstep_core::protocol::to_cbor(&bundle));
        report.bytes = file.len() as u64;
        write_file(path, &file)?;
        Ok(report)
    }

    /// Imports a bundle: all of it in one transaction, or (for a damaged file, or changes
    /// that do not fit together) nothing at all.
    pub fn import_bundle(&mut self, path: &Path) -> Result<BundleReport, DeviceError> {
        let (bundle, file_len) = read_sealed(BUNDLE_MAGIC, path, |b: &Bundle| b.version)?;
        for (sha, bytes) in &bundle.blobs {
            if crate::applications::sha256_hex(bytes) != *sha {
                return Err(DeviceError::Bundle {
                    code: ErrorCode::BundleDamaged,
                    reason: "an attachment does not match its name".into(),
                });
            }
        }
        let now = self.now();
        let mut report = BundleReport {
            bytes: file_len,
            ..BundleReport::default()
        };
        let tx = self.store.conn().unchecked_transaction()?;
        let mut touched = Vec::new();
        for doc in &bundle.docs {
            report.docs += 1;
            report.changes += doc.changes.len();
            let heads_before = self.heads_if_present(&doc.doc_id)?;
            match self.merge_changes(
                &tx,
                &doc.doc_id,
                &doc.kind,
                &doc.changes,
                &doc.signatures,
                now,
            )? {
                Merged::Done { id, mut doc, .. } => {
                    let mut after = doc.get_heads();
                    after.sort();
                    if heads_before.as_ref() != Some(&after) {
                        report.records_changed += 1;
                    }
                    touched.push((id, *doc));
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
            report.blobs += crate::applications::put_blob(&tx, sha, bytes, false, now)?;
        }
        tx.commit()?;
        let mut cache = self.cache.borrow_mut();
        for (id, doc) in touched {
            cache.put_owned(&id, doc);
        }
        Ok(report)
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
