//! The use-case API of a field device: what the app shell calls. Each method is one thing
//! a volunteer does, validated by doorstep-core and saved durably (one transaction,
//! `synchronous=FULL`) before it returns.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit};
use doorstep_core::ErrorCode;
use doorstep_core::catalog::{Catalog, Eligibility, Text};
use doorstep_core::date::{Ymd, parse_ymd};
use doorstep_core::history::{self, HistoryEntry};
use doorstep_core::id_number::mask_tail;
use doorstep_core::provenance::ChangeNote;
use doorstep_core::resident::{self, Resident, ResidentInput, ResidentPatch, ValidResident};
use doorstep_core::search::{self, Query};
use doorstep_core::value::{self, Fields};
use doorstep_core::{DocId, Field, FieldErrors};
use doorstep_core::{application, authorization, visit};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::docs::{self, Access, DocCache, Loaded};
use crate::error::DeviceError;
use crate::projection::{
    LISTED, ResidentSummary, project, project_resident, project_resident_fields, summary_of,
    tracked_fields,
};
use crate::secret::{self, DbKey};
use crate::store::{self, Store};

/// The database file inside the data folder.
pub const DATABASE_FILE: &str = "doorstep.sqlite3";
pub(crate) const ACTOR_KEY: &str = "actor_id";
pub(crate) const VOLUNTEER_KEY: &str = "volunteer";
/// Most results a search returns.
pub const SEARCH_LIMIT: usize = 50;

/// What merging another replica's bytes of a record did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeOutcome {
    /// The record was new to this device.
    pub created: bool,
    /// Changes this device did not have before.
    pub new_changes: usize,
    /// The record has conflicted fields after the merge.
    pub conflicted: bool,
}

/// A service as offered for one resident: whether they can apply, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServiceOffer {
    pub code: String,
    pub name: Text,
    pub summary: Text,
    #[serde(flatten)]
    pub eligibility: Eligibility,
}

/// An open device: its store, its Automerge actor, the volunteer using it and the
/// service catalog.
#[derive(Debug)]
pub struct Device {
    pub(crate) store: Store,
    pub(crate) actor: ActorId,
    pub(crate) volunteer: String,
    pub(crate) catalog: Catalog,
    pub(crate) cache: RefCell<DocCache>,
    /// The data folder: its keyring entries (database key, sync token) are named after it.
    pub(crate) data_dir: std::path::PathBuf,
    /// Told how far a sync has got (a progress bar).
    pub(crate) progress: crate::progress::ProgressListener,
    /// Where the time comes from (the system's clock; tests set their own).
    pub(crate) clock: Arc<dyn Clock>,
    /// The key this device signs its changes with, read from the keyring when first
    /// needed.
    pub(crate) signing_key: std::cell::OnceCell<Arc<secret::DeviceKey>>,
    /// The key roster received changes are checked against, read when first needed.
    pub(crate) trusted: RefCell<Option<Arc<doorstep_core::key_roster::Trusted>>>,
    /// The slot of the member who unlocked last (empty: the first person; see
    /// members.rs): their actor, name and key are the ones above.
    pub(crate) active: String,
}

impl Device {
    /// Opens the device's data in `data_dir` with the built-in catalog, creating the
    /// folder and database on first use.
    pub fn open(data_dir: &Path) -> Result<Device, DeviceError> {
        Device::open_with_catalog(data_dir, crate::catalog::builtin()?)
    }

    /// Opens the device's data in `data_dir` with the given (checked) catalog.
    pub fn open_with_catalog(data_dir: &Path, catalog: Catalog) -> Result<Device, DeviceError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DeviceError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let key = secret::load_or_create(data_dir, path.exists())?;
        Device::open_with_key(data_dir, catalog, &key)
    }

    /// Opens the device's data with an explicit database key (which the caller keeps).
    pub fn open_with_key(
        data_dir: &Path,
        catalog: Catalog,
        key: &DbKey,
    ) -> Result<Device, DeviceError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DeviceError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let mut store = Store::open(&data_dir.join(DATABASE_FILE), key)
            .map_err(|e| DeviceError::opening(data_dir, e))?;
        let actor = match store.meta(ACTOR_KEY)? {
            Some(bytes) => ActorId::from(bytes),
            None => {
                // One actor per device, never reused: a fresh random id on first open.
                let bytes = uuid::Uuid::new_v4().into_bytes();
                let tx = store.transaction()?;
                store::put_meta(&tx, ACTOR_KEY, &bytes)?;
                tx.commit()?;
                ActorId::from(bytes.as_slice())
            }
        };
        let volunteer = first_person(&store)?;
        let mut device = Device {
            store,
            actor,
            volunteer,
            catalog,
            cache: RefCell::new(DocCache::default()),
            data_dir: data_dir.to_owned(),
            progress: crate::progress::ProgressListener::default(),
            clock: Arc::new(SystemClock),
            signing_key: std::cell::OnceCell::new(),
            trusted: RefCell::new(None),
            active: String::new(),
        };
        device.reproject_if_asked()?;
        device.activate_last()?;
        // A device enrolled before enrollment named its person: the code's name.
        if device.active.is_empty()
            && device.volunteer.is_empty()
            && let Some(e) = device.enrollment()?
            && !e.name.trim().is_empty()
        {
            device.set_volunteer(&e.name)?;
        }
        Ok(device)
    }

    /// Reads the time from `clock` from now on (tests move it to see what time does).
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    /// Milliseconds since the epoch, by this device's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Today in China Standard Time, by this device's clock.
    pub fn today(&self) -> Ymd {
        self.clock.today()
    }

    /// The service catalog in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every service of the catalog for one resident, as of `today`: those they can
    /// apply for, and for the others the reasons why not.
    pub fn services_for(&self, id: &DocId, today: Ymd) -> Result<Vec<ServiceOffer>, DeviceError> {
        let r = self.resident(id)?;
        let birth = parse_ymd(&r.birth_date).ok_or_else(|| {
            DeviceError::from(doorstep_core::CoreError::Malformed {
                kind: resident::KIND,
                reason: "birth_date is not a date".into(),
            })
        })?;
        Ok(self
            .catalog
            .services
            .values()
            .map(|s| ServiceOffer {
                code: s.code.get_ref().clone(),
                name: s.name.clone(),
                summary: s.summary.clone(),
                eligibility: s.eligibility(birth, today),
            })
            .collect())
    }

    /// The data folder this device keeps its database (and receipts) in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// This device's public key (its private half stays in the keyring).
    pub fn public_key(&self) -> Result<doorstep_core::keys::PublicKey, DeviceError> {
        Ok(self.signing_key()?.public())
    }

    /// This device's Automerge actor id (hex).
    pub fn actor_hex(&self) -> String {
        self.actor.to_hex_string()
    }

    /// The name recorded as the author of this device's changes.
    pub fn volunteer(&self) -> &str {
        &self.volunteer
    }

    /// Sets the first person's name, recorded as the author of their changes from now on.
    pub fn set_volunteer(&mut self, name: &str) -> Result<(), DeviceError> {
        let name = name.trim();
        let tx = self.store.transaction()?;
        store::put_meta(&tx, VOLUNTEER_KEY, name.as_bytes())?;
        tx.commit()?;
        if self.active.is_empty() {
            self.volunteer = name.to_owned();
        }
        Ok(())
    }

    pub(crate) fn note(&self, what: &str) -> ChangeNote {
        ChangeNote::new(what, &self.volunteer)
    }

    /// Registers a new resident. Refuses invalid input and an ID number already registered
    /// on this device; on success the record is durably saved before this returns.
    pub fn register_resident(
        &mut self,
        input: &ResidentInput,
    ) -> Result<ResidentSummary, DeviceError> {
        let valid = input.validate()?;
        self.refuse_duplicate_id(&valid, None)?;
        let now = self.now();
        let id = new_doc_id();
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        resident::write_new(&mut doc, &valid, now)?;
        self.note("register_resident").commit(&mut doc, now);

        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        docs::insert_new(&tx, &signer, &id, resident::KIND, &mut doc, now)?;
        let summary = project_resident(&tx, &id, &mut doc, now)?;
        tx.commit()?;
        tracing::info!(doc = %id, "registered resident");
        Ok(summary)
    }

    /// Registers many residents in one transaction (a roster import): all or none.
    /// Each input is validated as in [`Device::register_resident`]; the first refusal
    /// is returned with its position, and nothing is saved.
    pub fn register_residents(
        &mut self,
        inputs: &[ResidentInput],
    ) -> Result<Vec<ResidentSummary>, (usize, DeviceError)> {
        let now = self.now();
        let mut docs = Vec::with_capacity(inputs.len());
        let mut seen = std::collections::HashSet::new();
        for (i, input) in inputs.iter().enumerate() {
            let valid = input.validate().map_err(|e| (i, e.into()))?;
            self.refuse_duplicate_id(&valid, None).map_err(|e| (i, e))?;
            if !seen.insert(valid.id_number.as_str().to_owned()) {
                let mut errors = FieldErrors::default();
                errors.push(Field::IdNumber, ErrorCode::IdDuplicate);
                return Err((i, DeviceError::Invalid(errors)));
            }
            let mut doc = AutoCommit::new().with_actor(self.actor.clone());
            resident::write_new(&mut doc, &valid, now).map_err(|e| (i, e.into()))?;
            self.note("register_resident").commit(&mut doc, now);
            docs.push((new_doc_id(), doc));
        }
        let signer = self.signer().map_err(|e| (0, e))?;
        let tx = self.store.transaction().map_err(|e| (0, e))?;
        let mut out = Vec::with_capacity(docs.len());
        for (i, (id, doc)) in docs.iter_mut().enumerate() {
            docs::insert_new(&tx, &signer, id, resident::KIND, doc, now).map_err(|e| (i, e))?;
            out.push(project_resident(&tx, id, doc, now).map_err(|e| (i, e))?);
        }
        tx.commit().map_err(|e| (0, e.into()))?;
        Ok(out)
    }

    /// The underlying store, for diagnostics and benchmarks.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Edits a resident: the fields `edit` gives replace the ones on record, the others
    /// stay ([`ResidentPatch`]); only the fields that differ are written, so edits of
    /// other fields on other devices merge without conflict.
    pub fn update_resident(
        &mut self,
        id: &DocId,
        edit: impl Into<ResidentPatch>,
    ) -> Result<ResidentSummary, DeviceError> {
        let mut loaded = self.load_resident_for(id, Access::Edit)?;
        let fields = Fields::scan(&loaded.doc);
        let current = resident::read_fields(&loaded.doc, &fields)?;
        let valid = edit.into().apply(&current).validate()?;
        // A record keeps its own number: only a new one can be another's.
        if valid.id_number.as_str() != current.id_number {
            self.refuse_duplicate_id(&valid, Some(id))?;
        }
        let now = self.now();
        let conflicted = fields.any_conflict(resident::FIELDS);
        let (written, fields) = resident::write_changes_over(&mut loaded.doc, &valid, fields)?;
        // The list's row changes only with a listed field or the record's conflict mark.
        let listed = written.iter().any(|path| LISTED.contains(path))
            || fields.any_conflict(resident::FIELDS) != conflicted;
        self.note("update_resident").commit(&mut loaded.doc, now);
        self.save_resident(id, loaded, Some((fields, listed)), now)
    }

    /// Replaces a resident's notes (merged character by character with other devices).
    pub fn set_resident_notes(&mut self, id: &DocId, notes: &str) -> Result<(), DeviceError> {
        let mut loaded = self.load_resident_for(id, Access::Edit)?;
        let now = self.now();
        resident::write_notes(&mut loaded.doc, notes)?;
        self.note("update_notes").commit(&mut loaded.doc, now);
        self.save_resident(id, loaded, None, now)?;
        Ok(())
    }

    /// Every resident, newest first.
    pub fn list_residents(&self) -> Result<Vec<ResidentSummary>, DeviceError> {
        self.list_residents_page(0, u32::MAX)
    }

    /// One page of residents, newest first.
    pub fn list_residents_page(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ResidentSummary>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT doc_id, name, id_number, phone, conflicted, created_at FROM residents
             ORDER BY created_at DESC, doc_id DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit, offset], summary_row)?;
        collect_summaries(rows)
    }

    /// Residents matching `query`: part of the name, pinyin initials or full pinyin
    /// (`zs`, `zhangsan`), or the last digits of the ID or phone number.
    pub fn search_residents(&self, query: &str) -> Result<Vec<ResidentSummary>, DeviceError> {
        let conn = self.store.conn();
        let limit = SEARCH_LIMIT as i64;
        let select = "SELECT r.doc_id, r.name, r.id_number, r.phone, r.conflicted, r.created_at
                      FROM residents r";
        match Query::parse(query) {
            Query::Empty => self.list_residents_page(0, SEARCH_LIMIT as u32),
            Query::NumberSuffix(digits) => {
                let (lo, hi) = prefix_range(&search::reversed(&digits));
                let mut stmt = conn.prepare_cached(&format!(
                    "{select} WHERE r.doc_id IN (
                        SELECT doc_id FROM residents WHERE id_rev >= ?1 AND id_rev < ?2
                        UNION SELECT doc_id FROM residents WHERE phone_rev >= ?1 AND phone_rev < ?2)
                     ORDER BY r.created_at DESC LIMIT ?3"
                ))?;
                collect_summaries(stmt.query_map(params![lo, hi, limit], summary_row)?)
            }
            Query::Pinyin(letters) => {
                let (lo, hi) = prefix_range(&letters);
                let mut stmt = conn.prepare_cached(&format!(
                    "{select} WHERE r.doc_id IN (
                        SELECT doc_id FROM resident_keys WHERE key >= ?1 AND key < ?2)
                     ORDER BY r.created_at DESC LIMIT ?3"
                ))?;
                collect_summaries(stmt.query_map(params![lo, hi, limit], summary_row)?)
            }
            Query::Name(text) if text.chars().count() <= 2 => {
                // The whole query is a gram: its index entries are already in result order.
                let mut stmt = conn.prepare_cached(&format!(
                    "{select} JOIN (SELECT doc_id, pos, created_at FROM resident_grams
                                    WHERE gram = ?1 ORDER BY pos, created_at DESC LIMIT ?2) g
                       ON g.doc_id = r.doc_id
                     ORDER BY g.pos, g.created_at DESC"
                ))?;
                collect_summaries(stmt.query_map(params![text, limit], summary_row)?)
            }
            Query::Name(text) => {
                // Candidates through the first two characters' gram, then the whole text
                // checked on each.
                let gram: String = text.chars().take(2).collect();
                let mut stmt = conn.prepare_cached(&format!(
                    "{select} WHERE r.doc_id IN (SELECT doc_id FROM resident_grams WHERE gram = ?1)
                       AND instr(r.name, ?2) > 0
                     ORDER BY instr(r.name, ?2), r.created_at DESC LIMIT ?3"
                ))?;
                collect_summaries(stmt.query_map(params![gram, text, limit], summary_row)?)
            }
        }
    }

    /// A resident read from their Automerge document (not the projection).
    pub fn resident(&self, id: &DocId) -> Result<Resident, DeviceError> {
        let loaded = self.load_resident(id)?;
        Ok(resident::read(&loaded.doc)?)
    }

    /// Every change of a record: who, when, which fields from what to what.
    pub fn history(&self, id: &DocId) -> Result<Vec<HistoryEntry>, DeviceError> {
        let mut loaded = docs::load(&self.store, &self.cache, id, &self.actor)?;
        let fields = self.tracked_fields(&loaded.doc)?;
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let mut entries = history::history(&mut loaded.doc, &fields)?;
        self.check_signers(id.as_str(), &mut loaded.doc, &mut entries)?;
        Ok(entries)
    }

    pub(crate) fn tracked_fields(&self, doc: &AutoCommit) -> Result<Vec<String>, DeviceError> {
        tracked_fields(&self.catalog, doc)
    }
}

impl Device {
    /// Saves a record's new changes and rewrites its projection, in one transaction.
    pub(crate) fn save_record(
        &mut self,
        id: &DocId,
        mut loaded: Loaded,
        now: i64,
    ) -> Result<(), DeviceError> {
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        docs::save_changes(&tx, &signer, id, &mut loaded)?;
        project(&self.catalog, &tx, id, &mut loaded.doc, now)?;
        tx.commit()?;
        self.cache.borrow_mut().put_owned(id, loaded.doc);
        Ok(())
    }
}

impl Device {
    /// The whole record as Automerge bytes, for another replica to merge.
    pub fn export_record(&self, id: &DocId) -> Result<Vec<u8>, DeviceError> {
        let mut loaded = docs::load(&self.store, &self.cache, id, &self.actor)?;
        Ok(loaded.doc.save())
    }

    /// Merges another replica's bytes of a record (whole or incremental). Nothing is lost:
    /// concurrent values of a field are kept as a conflict. Invalid bytes change nothing.
    pub fn merge_record(&mut self, id: &DocId, bytes: &[u8]) -> Result<MergeOutcome, DeviceError> {
        let mut incoming =
            doorstep_core::apply::load(bytes).map_err(|_| DeviceError::InvalidBytes)?;
        let kind = value::text(&incoming, "kind")?;
        match kind.as_str() {
            resident::KIND => drop(resident::read(&incoming)?),
            application::KIND => drop(application::read(&incoming)?),
            authorization::KIND => drop(authorization::read(&incoming)?),
            visit::KIND => drop(visit::read(&incoming)?),
            _ => return Err(DeviceError::UnknownKind(kind)),
        }
        let now = self.now();
        let existing = if self.record_exists(id)? {
            Some(docs::load_for(
                &self.store,
                &self.cache,
                id,
                &self.actor,
                Access::Edit,
            )?)
        } else {
            None
        };
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        let (mut loaded, created, new_changes) = match existing {
            Some(mut loaded) => {
                let before = loaded.doc.get_changes(&[]).len();
                loaded.doc.merge(&mut incoming)?;
                let new_changes = loaded.doc.get_changes(&[]).len() - before;
                (loaded, false, new_changes)
            }
            None => {
                incoming.set_actor(self.actor.clone());
                docs::insert_new(&tx, &signer, id, &kind, &mut incoming, now)?;
                let heads = incoming.get_heads();
                let new_changes = incoming.get_changes(&[]).len();
                let loaded = Loaded {
                    doc: incoming,
                    heads,
                };
                (loaded, true, new_changes)
            }
        };
        docs::save_changes(&tx, &signer, id, &mut loaded)?;
        let conflicted = project(&self.catalog, &tx, id, &mut loaded.doc, now)?;
        tx.commit()?;
        self.cache.borrow_mut().put_owned(id, loaded.doc);
        Ok(MergeOutcome {
            created,
            new_changes,
            conflicted,
        })
    }

    pub(crate) fn record_exists(&self, id: &DocId) -> Result<bool, DeviceError> {
        Ok(self
            .store
            .conn()
            .prepare_cached("SELECT 1 FROM docs WHERE doc_id = ?1")?
            .query_row([id.as_str()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub(crate) fn load_resident(&self, id: &DocId) -> Result<Loaded, DeviceError> {
        self.load_resident_for(id, Access::Read)
    }

    fn load_resident_for(&self, id: &DocId, access: Access) -> Result<Loaded, DeviceError> {
        self.load_kind_for(id, resident::KIND, access)
    }

    fn save_resident(
        &mut self,
        id: &DocId,
        mut loaded: Loaded,
        fields: Option<(Fields, bool)>,
        now: i64,
    ) -> Result<ResidentSummary, DeviceError> {
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        docs::save_changes(&tx, &signer, id, &mut loaded)?;
        let summary = match fields {
            Some((fields, false)) => summary_of(id, &fields),
            Some((fields, true)) => project_resident_fields(&tx, id, &loaded.doc, &fields, now)?,
            None => project_resident_fields(&tx, id, &loaded.doc, &Fields::scan(&loaded.doc), now)?,
        };
        tx.commit()?;
        self.cache.borrow_mut().put_owned(id, loaded.doc);
        Ok(summary)
    }

    fn refuse_duplicate_id(
        &self,
        valid: &ValidResident,
        except: Option<&DocId>,
    ) -> Result<(), DeviceError> {
        let taken: Option<String> = self
            .store
            .conn()
            .prepare_cached(
                "SELECT doc_id FROM residents WHERE id_number = ?1 AND doc_id != ?2 LIMIT 1",
            )?
            .query_row(
                params![
                    valid.id_number.as_str(),
                    except.map(DocId::as_str).unwrap_or("")
                ],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            let mut errors = FieldErrors::default();
            errors.push(Field::IdNumber, ErrorCode::IdDuplicate);
            return Err(DeviceError::Invalid(errors));
        }
        Ok(())
    }
}

type SummaryRow = (String, String, String, String, bool, i64);

fn summary_row(r: &Row<'_>) -> rusqlite::Result<SummaryRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn collect_summaries(
    rows: impl Iterator<Item = rusqlite::Result<SummaryRow>>,
) -> Result<Vec<ResidentSummary>, DeviceError> {
    let mut out = Vec::new();
    for row in rows {
        let (doc_id, name, id_number, phone, conflicted, created_at) = row?;
        let id = DocId::parse(&doc_id).ok_or_else(|| DeviceError::NotFound(doc_id.clone()))?;
        out.push(ResidentSummary {
            id,
            name,
            id_number_masked: mask_tail(&id_number, 4),
            phone_masked: mask_phone(&phone),
            conflicted,
            created_at,
        });
    }
    Ok(out)
}

/// The half-open range of strings starting with `prefix`, for index range scans.
fn prefix_range(prefix: &str) -> (String, String) {
    let mut hi = prefix.to_owned();
    hi.push(char::MAX);
    (prefix.to_owned(), hi)
}

pub(crate) fn new_doc_id() -> DocId {
    let text = uuid::Uuid::now_v7().hyphenated().to_string();
    DocId::parse(&text).unwrap_or_else(|| unreachable!("uuid text is always a DocId"))
}

/// The name of the first person of a device (the one it was enrolled for, or who set
/// its PIN before it was; see members.rs), empty before there is one.
pub(crate) fn first_person(store: &Store) -> Result<String, DeviceError> {
    Ok(store
        .meta(VOLUNTEER_KEY)?
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default())
}

/// Now, in milliseconds since the epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemClock.now_ms()
}

pub use doorstep_core::mask::mask_phone;
