//! The use-case API of a field device: what the app shell calls. Each method is one thing
//! a volunteer does, validated by doorstep-core and saved durably before it returns.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::{ActorId, AutoCommit, transaction::CommitOptions};
use doorstep_core::id_number::mask_tail;
use doorstep_core::resident::{self, Resident, ResidentInput};
use doorstep_core::{DocId, Field, FieldErrors};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::DeviceError;
use crate::store::{self, ChunkKind, Store};

/// The database file inside the data folder.
pub const DATABASE_FILE: &str = "doorstep.sqlite3";
const ACTOR_KEY: &str = "actor_id";

/// A resident as lists show them: personal numbers masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentSummary {
    pub id: DocId,
    pub name: String,
    /// All but the last four characters hidden.
    pub id_number_masked: String,
    /// The middle digits hidden (`138****8000`); empty when the resident has no phone.
    pub phone_masked: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// An open device: its store and its Automerge actor.
#[derive(Debug)]
pub struct Device {
    store: Store,
    actor: ActorId,
}

impl Device {
    /// Opens the device's data in `data_dir`, creating the folder and database on first use.
    pub fn open(data_dir: &Path) -> Result<Device, DeviceError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DeviceError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let mut store = Store::open(&data_dir.join(DATABASE_FILE))?;
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
        Ok(Device { store, actor })
    }

    /// This device's Automerge actor id (hex).
    pub fn actor_hex(&self) -> String {
        self.actor.to_hex_string()
    }

    /// Registers a new resident. Refuses invalid input and an ID number already registered
    /// on this device; on success the record is durably saved before this returns.
    pub fn register_resident(
        &mut self,
        input: &ResidentInput,
    ) -> Result<ResidentSummary, DeviceError> {
        let valid = input.validate()?;
        let taken: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT doc_id FROM residents WHERE id_number = ?1 LIMIT 1",
                [valid.id_number.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            let mut errors = FieldErrors::default();
            errors.push(Field::IdNumber, "id_duplicate");
            return Err(DeviceError::Invalid(errors));
        }

        let now = now_ms();
        let id = new_doc_id();
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        resident::write_new(&mut doc, &valid, now)?;
        doc.commit_with(
            CommitOptions::default()
                .with_message("register resident")
                .with_time(now),
        );
        let heads = doc.get_heads();
        let bytes = doc.save();

        let tx = self.store.transaction()?;
        tx.execute(
            "INSERT INTO docs (doc_id, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![id.as_str(), resident::KIND, now],
        )?;
        store::put_chunk(
            &tx,
            id.as_str(),
            ChunkKind::Snapshot,
            &store::snapshot_key(&heads),
            &bytes,
        )?;
        tx.execute(
            "INSERT INTO residents (doc_id, name, id_number, phone, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.as_str(),
                valid.name,
                valid.id_number.as_str(),
                valid.phone,
                now
            ],
        )?;
        tx.commit()?;
        tracing::info!(doc = %id, "registered resident");

        Ok(ResidentSummary {
            id,
            id_number_masked: valid.id_number.masked(),
            phone_masked: mask_phone(&valid.phone),
            name: valid.name,
            created_at: now,
        })
    }

    /// Every resident, newest first.
    pub fn list_residents(&self) -> Result<Vec<ResidentSummary>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT doc_id, name, id_number, phone, created_at FROM residents
             ORDER BY created_at DESC, doc_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let doc_id: String = r.get(0)?;
            let id_number: String = r.get(2)?;
            let phone: String = r.get(3)?;
            Ok((doc_id, r.get::<_, String>(1)?, id_number, phone, r.get(4)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (doc_id, name, id_number, phone, created_at) = row?;
            let id = DocId::parse(&doc_id).ok_or_else(|| DeviceError::NotFound(doc_id.clone()))?;
            out.push(ResidentSummary {
                id,
                name,
                id_number_masked: mask_tail(&id_number, 4),
                phone_masked: mask_phone(&phone),
                created_at,
            });
        }
        Ok(out)
    }

    /// A resident read from their Automerge document (not the projection).
    pub fn resident(&self, id: &DocId) -> Result<Resident, DeviceError> {
        let doc = self.load(id)?;
        Ok(resident::read(&doc)?)
    }

    /// Loads a document from its chunks, with this device's actor.
    fn load(&self, id: &DocId) -> Result<AutoCommit, DeviceError> {
        let chunks = self.store.chunks(id.as_str())?;
        let mut parts = chunks.into_iter();
        let Some((_, first)) = parts.next() else {
            return Err(DeviceError::NotFound(id.to_string()));
        };
        let mut doc = AutoCommit::load(&first)?;
        for (_, bytes) in parts {
            doc.load_incremental(&bytes)?;
        }
        doc.set_actor(self.actor.clone());
        Ok(doc)
    }
}

fn new_doc_id() -> DocId {
    let text = uuid::Uuid::now_v7().hyphenated().to_string();
    DocId::parse(&text).unwrap_or_else(|| unreachable!("uuid text is always a DocId"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `13800138000` → `138****8000`; landlines keep the area code and last four digits.
fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n < 8 {
        return mask_tail(phone, 4);
    }
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i >= 3 && i + 4 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, first17: &str, phone: &str) -> ResidentInput {
        ResidentInput {
            name: name.into(),
            id_number: doorstep_core::id_number::IdNumber::complete(first17).expect("17 digits"),
            phone: phone.into(),
        }
    }

    #[test]
    fn registered_resident_survives_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let id = {
            let mut device = Device::open(dir.path()).expect("open");
            device
                .register_resident(&input("测试丙", "11010119450815001", "13800138000"))
                .expect("register")
                .id
        };
        let device = Device::open(dir.path()).expect("reopen");
        let list = device.list_residents().expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, id);
        assert_eq!(list[0].name, "测试丙");
        assert_eq!(list[0].id_number_masked, "**************0014");
        assert_eq!(list[0].phone_masked, "138****8000");
        let full = device.resident(&id).expect("load document");
        assert_eq!(full.id_number, "110101194508150014");
    }

    #[test]
    fn actor_is_stable_per_data_folder_and_distinct_between_folders() {
        let a = tempfile::tempdir().expect("temp dir");
        let b = tempfile::tempdir().expect("temp dir");
        let first = Device::open(a.path()).expect("open").actor_hex();
        assert_eq!(Device::open(a.path()).expect("reopen").actor_hex(), first);
        assert_ne!(Device::open(b.path()).expect("open").actor_hex(), first);
    }

    #[test]
    fn invalid_input_saves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut device = Device::open(dir.path()).expect("open");
        let mut bad = input("", "11010119450815001", "");
        bad.id_number.replace_range(17.., "9");
        let err = device.register_resident(&bad).expect_err("refused");
        assert_eq!(err.code(), "invalid_input");
        let fields = err.field_errors().expect("field errors");
        assert_eq!(fields.code_for(Field::Name), Some("name_empty"));
        assert_eq!(fields.code_for(Field::IdNumber), Some("id_checksum"));
        assert!(device.list_residents().expect("list").is_empty());
        let docs: i64 = device
            .store
            .conn()
            .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
            .expect("count");
        assert_eq!(docs, 0);
    }

    #[test]
    fn the_same_id_number_is_not_registered_twice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut device = Device::open(dir.path()).expect("open");
        device
            .register_resident(&input("测试丁", "44030419800101123", ""))
            .expect("first");
        let err = device
            .register_resident(&input("测试戊", "44030419800101123", ""))
            .expect_err("duplicate");
        assert_eq!(
            err.field_errors().and_then(|f| f.code_for(Field::IdNumber)),
            Some("id_duplicate")
        );
        assert_eq!(device.list_residents().expect("list").len(), 1);
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("01012345678"), "010****5678");
        assert_eq!(mask_phone(""), "");
    }
}
