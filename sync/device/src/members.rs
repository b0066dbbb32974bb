//! The people who use one tablet. A neighbourhood office keeps two or three tablets for
//! the staff and volunteers on duty, so a device enrolled for a committee can hold
//! several members, each of them an enrollment of their own on the server (their own
//! one-time code, device id, token, Ed25519 key and Automerge actor) and each with their
//! own PIN. Whoever unlocked the app is the *active* member: their actor writes, their
//! key signs, their name goes into every change's note, receipt and photo stamp, and
//! their token syncs.
//!
//! The first person (the one the device was enrolled for, or who set the PIN before it
//! was) keeps the device's original places: the enrollment in `meta`, the keyring entries
//! named after the data folder alone, the PIN under the plain `meta` keys. Those added
//! later are rows of `members`, their secrets in keyring entries named after the folder
//! and their id (a *slot*). A member the server revoked (a volunteer who left) is marked
//! removed as soon as a key roster says so or the server refuses their token: they can
//! no longer unlock, and what they wrote stays.

use std::sync::Arc;

use automerge::ActorId;
use doorstep_core::ErrorCode;
use doorstep_core::protocol::{CodeRequest, CodeResponse, Role};
use doorstep_core::server_identity::EnrollText;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::device::{ACTOR_KEY, Device, first_person};
use crate::error::DeviceError;
use crate::secret::{self, DeviceKey};
use crate::store;
use crate::sync::{Enrollment, RequestSigner, RetryPolicy, SyncReport, exchange, trade_code};

/// Which member is active (their slot: empty for the first person).
const META_ACTIVE: &str = "member.active";
/// When the server removed the first person (milliseconds), if it did.
const META_PRIMARY_REMOVED: &str = "member.primary_removed_at";

/// One person who may unlock this device, as the start screen lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MemberView {
    /// The server's id of their enrollment (empty for a device not enrolled yet).
    pub id: String,
    pub name: String,
    pub role: Option<Role>,
    /// Whether they have a PIN (everyone added with a code has one).
    pub has_pin: bool,
    /// The server removed them: they cannot unlock any more; their work stays.
    pub removed: bool,
    /// The one who unlocked last (who unlocks by default).
    pub active: bool,
}

/// Who a request goes to the server as: a member's id, name, token and key.
pub(crate) struct Identity {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) token: Zeroizing<String>,
    pub(crate) key: Arc<DeviceKey>,
}

/// A member added after the first person, as the `members` table keeps them.
#[derive(Debug, Clone)]
struct Added {
    id: String,
    name: String,
    role: Option<Role>,
    actor: ActorId,
    removed: bool,
}

fn added_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Added> {
    let role: String = r.get(2)?;
    Ok(Added {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role),
        actor: ActorId::from(r.get::<_, Vec<u8>>(3)?),
        removed: r.get::<_, Option<i64>>(4)?.is_some(),
    })
}

const SELECT_ADDED: &str =
    "SELECT member_id, name, role, actor, removed_at FROM members ORDER BY added_at, member_id";

impl Device {
    /// The enrollment of the first person, as it was stored when the device enrolled.
    pub(crate) fn primary_enrollment(&self) -> Result<Option<Enrollment>, DeviceError> {
        match self.store.meta(crate::sync::META_ENROLLMENT)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            None => Ok(None),
        }
    }

    fn added(&self) -> Result<Vec<Added>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(SELECT_ADDED)?;
        let rows = stmt.query_map([], added_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn added_member(&self, id: &str) -> Result<Option<Added>, DeviceError> {
        Ok(self
            .store
            .conn()
            .prepare_cached(
                "SELECT member_id, name, role, actor, removed_at FROM members WHERE member_id = ?1",
            )?
            .query_row([id], added_row)
            .optional()?)
    }

    fn primary_removed(&self) -> Result<bool, DeviceError> {
        Ok(self.store.meta(META_PRIMARY_REMOVED)?.is_some())
    }

    /// The slot of the member `id` names (the first person's id, or empty, is the
    /// first person's slot); a member this device does not hold is `member_unknown`.
    fn slot_of(&self, id: &str) -> Result<String, DeviceError> {
        let primary = self.primary_enrollment()?.map(|e| e.device_id);
        if id.is_empty() || primary.as_deref() == Some(id) {
            return Ok(String::new());
        }
        match self.added_member(id)? {
            Some(member) => Ok(member.id),
            None => Err(DeviceError::Member(ErrorCode::MemberUnknown)),
        }
    }

    /// Whether the member in `slot` was removed by the server.
    fn removed(&self, slot: &str) -> Result<bool, DeviceError> {
        if slot.is_empty() {
            self.primary_removed()
        } else {
            Ok(self.added_member(slot)?.is_some_and(|m| m.removed))
        }
    }

    /// Everyone who may unlock this device, the first person first; those the server
    /// removed are listed too, marked.
    pub fn members(&self) -> Result<Vec<MemberView>, DeviceError> {
        let primary = self.primary_enrollment()?;
        let primary_name = first_person(&self.store)?;
        let mut out = vec![MemberView {
            id: primary
                .as_ref()
                .map(|e| e.device_id.clone())
                .unwrap_or_default(),
            name: primary_name,
            role: primary.as_ref().map(|e| e.role),
            has_pin: self.has_pin_in("")?,
            removed: self.primary_removed()?,
            active: self.active.is_empty(),
        }];
        for member in self.added()? {
            out.push(MemberView {
                has_pin: self.has_pin_in(&member.id)?,
                active: self.active == member.id,
                id: member.id,
                name: member.name,
                role: member.role,
                removed: member.removed,
            });
        }
        Ok(out)
    }

    /// The server's ids of everyone on this device, removed or not.
    pub(crate) fn member_ids(&self) -> Result<Vec<String>, DeviceError> {
        let mut ids: Vec<String> = self.added()?.into_iter().map(|m| m.id).collect();
        if let Some(primary) = self.primary_enrollment()? {
            ids.push(primary.device_id);
        }
        Ok(ids)
    }

    /// The id of the member who is active (empty before the device is enrolled).
    pub fn active_member(&self) -> Result<String, DeviceError> {
        if self.active.is_empty() {
            Ok(self
                .primary_enrollment()?
                .map(|e| e.device_id)
                .unwrap_or_default())
        } else {
            Ok(self.active.clone())
        }
    }

    /// Whether the active member was removed by the server (the app locks).
    pub fn active_member_removed(&self) -> Result<bool, DeviceError> {
        self.removed(&self.active)
    }

    /// The active member's enrollment: the device's server and committees, with their
    /// own id, role and name.
    pub(crate) fn active_enrollment(&self) -> Result<Option<Enrollment>, DeviceError> {
        let Some(mut enrollment) = self.primary_enrollment()? else {
            return Ok(None);
        };
        if !self.active.is_empty()
            && let Some(member) = self.added_member(&self.active)?
        {
            enrollment.device_id = member.id;
            enrollment.name = member.name;
            if let Some(role) = member.role {
                enrollment.role = role;
            }
        }
        Ok(Some(enrollment))
    }

    /// Makes the member in `slot` the one who writes, signs and syncs from now on.
    pub(crate) fn activate(&mut self, slot: &str) -> Result<(), DeviceError> {
        let (actor, name) = if slot.is_empty() {
            let actor = self
                .store
                .meta(ACTOR_KEY)?
                .map(ActorId::from)
                .unwrap_or_else(|| self.actor.clone());
            (actor, first_person(&self.store)?)
        } else {
            let member = self
                .added_member(slot)?
                .ok_or(DeviceError::Member(ErrorCode::MemberUnknown))?;
            (member.actor, member.name)
        };
        if self.active != slot {
            let tx = self.store.transaction()?;
            store::put_meta(&tx, META_ACTIVE, slot.as_bytes())?;
            tx.commit()?;
        }
        self.active = slot.to_owned();
        self.actor = actor;
        self.volunteer = name;
        self.signing_key = std::cell::OnceCell::new();
        Ok(())
    }

    /// On opening: the member who was active when the device closed.
    pub(crate) fn activate_last(&mut self) -> Result<(), DeviceError> {
        let slot = self
            .store
            .meta(META_ACTIVE)?
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        if slot.is_empty() || self.added_member(&slot)?.is_none() {
            return Ok(());
        }
        self.activate(&slot)
    }

    /// Unlocks as the member `id` names (empty: the first person) with their PIN, at
    /// `now_ms`: they become the active member. A member the server removed is
    /// refused before their PIN is looked at.
    pub fn unlock_member(&mut self, id: &str, pin: &str, now_ms: i64) -> Result<(), DeviceError> {
        let slot = self.slot_of(id)?;
        if self.removed(&slot)? {
            return Err(DeviceError::Member(ErrorCode::MemberRemoved));
        }
        self.check_pin_in(&slot, pin, now_ms)?;
        self.activate(&slot)?;
        tracing::info!(member = %id, "unlocked");
        Ok(())
    }

    /// Makes the first person the one at work, on their PIN, so that they may enroll
    /// the tablet again (`Device::enroll`) though the server removed them: a tablet
    /// reported lost and found again, whose people were all removed. Refused while
    /// anyone here can still unlock (`tablet_in_use`): enrolling again forgets the
    /// tablet's other people. Nothing else may be done as a removed person; only a new
    /// code from the office makes the tablet usable again.
    pub fn unlock_to_enroll_again(&mut self, pin: &str, now_ms: i64) -> Result<(), DeviceError> {
        if self.members()?.iter().any(|m| !m.removed) {
            return Err(DeviceError::Member(ErrorCode::TabletInUse));
        }
        self.check_pin_in("", pin, now_ms)?;
        self.activate("")?;
        tracing::info!("the first person unlocked to enroll the tablet again");
        Ok(())
    }

    /// Enrolls again a tablet whose people were all removed, as its first person (her
    /// PIN; see [`Device::unlock_to_enroll_again`]); when the enrollment fails, whoever
    /// was at work before stays so.
    pub fn enroll_again_as_first(
        &mut self,
        text: &EnrollText,
        device_label: &str,
        pin: &str,
        now_ms: i64,
    ) -> Result<Enrollment, DeviceError> {
        let before = self.active.clone();
        self.unlock_to_enroll_again(pin, now_ms)?;
        self.enroll(text, device_label).inspect_err(|_| {
            if let Err(e) = self.activate(&before) {
                tracing::error!(error = %e, "the person at work could not be restored");
            }
        })
    }

    /// The slot whose token and key a sync uses: the active member's, or, once the
    /// server removed them, the first member it has not removed. A device whose members
    /// were all removed is revoked.
    pub(crate) fn sync_slot(&self) -> Result<String, DeviceError> {
        if !self.removed(&self.active)? {
            return Ok(self.active.clone());
        }
        if !self.primary_removed()? {
            return Ok(String::new());
        }
        self.added()?
            .into_iter()
            .find(|m| !m.removed)
            .map(|m| m.id)
            .ok_or_else(|| DeviceError::Server {
                status: 403,
                code: "device_revoked".into(),
                message: "every member of this device was removed".into(),
            })
    }

    /// The server's id, the name, the token and the key of the member in `slot`.
    pub(crate) fn identity_of(&self, slot: &str) -> Result<Identity, DeviceError> {
        let token = secret::load_token(&self.data_dir, slot)?.ok_or(DeviceError::NotEnrolled)?;
        if slot == self.active {
            return Ok(Identity {
                id: self.active_member()?,
                name: self.volunteer.clone(),
                token,
                key: Arc::clone(self.signing_key()?),
            });
        }
        let key = Arc::new(secret::signing_key(&self.data_dir, slot)?);
        let (id, name) = if slot.is_empty() {
            let id = self
                .primary_enrollment()?
                .ok_or(DeviceError::NotEnrolled)?
                .device_id;
            (id, first_person(&self.store)?)
        } else {
            let member = self
                .added_member(slot)?
                .ok_or(DeviceError::Member(ErrorCode::MemberUnknown))?;
            (member.id, member.name)
        };
        Ok(Identity {
            id,
            name,
            token,
            key,
        })
    }

    /// Notes that the server refused the member in `slot` as revoked.
    pub(crate) fn note_member_removed(&self, slot: &str) -> Result<(), DeviceError> {
        let tx = self.store.conn().unchecked_transaction()?;
        mark_removed(&tx, slot, self.now())?;
        tx.commit()?;
        tracing::warn!("a member of this device was removed by the server");
        Ok(())
    }

    /// Adds a member with their own one-time enrollment code and PIN. The code must be
    /// for this device's server and its committees; the member gets a key and an actor
    /// of their own, and can unlock at once. Nothing is kept if the server refuses.
    pub fn add_member(
        &mut self,
        text: &EnrollText,
        device_label: &str,
        pin: &str,
    ) -> Result<MemberView, DeviceError> {
        crate::pin::check_new_pin(pin).map_err(DeviceError::Pin)?;
        let mut transport = self.transport()?;
        self.add_member_with(&mut transport, text, device_label, pin)
    }

    /// Adds a volunteer by name, on a supervisor's authority: the supervisor at work on
    /// this tablet asks the server for a one-time code for the tablet's committee (which
    /// needs signal) and the volunteer is added with it and the PIN they choose.
    pub fn add_member_by_supervisor(
        &mut self,
        name: &str,
        device_label: &str,
        pin: &str,
    ) -> Result<MemberView, DeviceError> {
        crate::pin::check_new_pin(pin).map_err(DeviceError::Pin)?;
        let mut transport = self.transport()?;
        self.add_member_by_supervisor_with(&mut transport, name, device_label, pin)
    }

    /// [`Device::add_member_by_supervisor`] over a given transport.
    pub fn add_member_by_supervisor_with(
        &mut self,
        transport: &mut dyn crate::sync::Transport,
        name: &str,
        device_label: &str,
        pin: &str,
    ) -> Result<MemberView, DeviceError> {
        crate::pin::check_new_pin(pin).map_err(DeviceError::Pin)?;
        let name = name.trim();
        if name.is_empty() {
            let mut errors = doorstep_core::FieldErrors::default();
            errors.push(doorstep_core::Field::Name, ErrorCode::NameEmpty);
            return Err(DeviceError::Invalid(errors));
        }
        let at_work = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        if at_work.role != Role::Supervisor {
            return Err(DeviceError::NotSupervisor);
        }
        // A volunteer belongs to one committee: the tablet's.
        let [committee] = at_work.committees.as_slice() else {
            return Err(DeviceError::Member(ErrorCode::MemberOtherCommittee));
        };
        let who = self.identity_of(&self.active)?;
        let request = CodeRequest {
            name: name.to_owned(),
            committee: committee.id.clone(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| DeviceError::Network(e.to_string()))?;
        let answer = exchange(
            transport,
            &RetryPolicy::default(),
            "POST",
            "/v1/enrollments",
            Some("application/json"),
            Some(&RequestSigner::new(who.token, who.key)),
            body,
            &mut SyncReport::default(),
        )?;
        let made: CodeResponse = serde_json::from_slice(&answer)
            .map_err(|e| DeviceError::Network(format!("unexpected answer: {e}")))?;
        let text = EnrollText {
            server: None,
            server_key: None,
            code: made.code,
        };
        self.add_member_with(transport, &text, device_label, pin)
    }

    /// [`Device::add_member`] over a given transport.
    pub fn add_member_with(
        &mut self,
        transport: &mut dyn crate::sync::Transport,
        text: &EnrollText,
        device_label: &str,
        pin: &str,
    ) -> Result<MemberView, DeviceError> {
        // Hashed first: the member and their PIN are kept in one transaction.
        let pin_hash = crate::pin::pin_hash(pin)?;
        let primary = self.primary_enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        // A text that pins a server key pins this device's server's, or is another's.
        if let Some(pinned) = &text.server_key {
            let ours = self
                .pinned_server_key()?
                .map(|k| doorstep_core::server_identity::key_pin(&k));
            if ours.as_deref() != Some(pinned.as_str()) {
                return Err(DeviceError::Member(ErrorCode::MemberOtherServer));
            }
        }
        let key = DeviceKey::generate()?;
        let actor = uuid::Uuid::new_v4().into_bytes();
        let response = trade_code(
            transport,
            &text.code,
            &hex::encode(actor),
            &key,
            device_label,
        )?;
        let mut theirs: Vec<&str> = response.committees.iter().map(|c| c.id.as_str()).collect();
        let mut ours: Vec<&str> = primary.committees.iter().map(|c| c.id.as_str()).collect();
        theirs.sort_unstable();
        ours.sort_unstable();
        if theirs != ours {
            // The enrollment the server made stays unused: an administrator revokes it.
            return Err(DeviceError::Member(ErrorCode::MemberOtherCommittee));
        }
        if response.device_id == primary.device_id
            || self.added_member(&response.device_id)?.is_some()
        {
            return Err(DeviceError::Member(ErrorCode::MemberAlreadyHere));
        }
        let slot = response.device_id.clone();
        secret::store_signing_key(&self.data_dir, &slot, &key)?;
        secret::store_token(&self.data_dir, &slot, &response.token)?;
        let tx = self.store.conn().unchecked_transaction()?;
        // The tablet becomes shared: what its people made and has not synced is noted
        // under the roster in force, as their work is from now on (attest.rs).
        self.note_unsynced_as_shared(&tx)?;
        tx.execute(
            "INSERT INTO members (member_id, name, role, actor, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                slot,
                response.name.trim(),
                response.role.as_str(),
                actor.as_slice(),
                self.now()
            ],
        )?;
        crate::pin::put_pin(&tx, &slot, &pin_hash)?;
        // The roster the server sent must be signed by the key this device pinned.
        if let Some(signed) = &response.key_roster {
            self.take_key_roster(&tx, signed, false)?;
        }
        tx.commit()?;
        tracing::info!(member = %slot, "a member was added to this device");
        self.members()?
            .into_iter()
            .find(|m| m.id == slot)
            .ok_or(DeviceError::Member(ErrorCode::MemberUnknown))
    }
}

impl Device {
    /// The slots of the members added to this tablet, their PINs forgotten (in `tx`,
    /// which then deletes them: a new enrollment replaces the old one).
    pub(crate) fn forget_members(&self, tx: &Transaction<'_>) -> Result<Vec<String>, DeviceError> {
        let slots: Vec<String> = self.added()?.into_iter().map(|m| m.id).collect();
        for slot in &slots {
            crate::pin::forget_pin(tx, slot)?;
        }
        Ok(slots)
    }

    /// Notes the roster version this device holds for every change its people made
    /// that the server has not acknowledged, once, when the tablet becomes shared.
    fn note_unsynced_as_shared(&self, tx: &Transaction<'_>) -> Result<(), DeviceError> {
        let already: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM members)", [], |r| r.get(0))?;
        let Some(trusted) = self.trusted()? else {
            return Ok(());
        };
        if already {
            return Ok(());
        }
        let roster = &trusted.roster.version;
        let waiting: Vec<(String, Option<Vec<u8>>)> = tx
            .prepare(
                "SELECT d.doc_id, s.heads FROM dirty d LEFT JOIN synced s USING (doc_id)
                 ORDER BY d.doc_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO taken_under (doc_id, hash, roster) VALUES (?1, ?2, ?3)",
        )?;
        for (doc_id, heads) in waiting {
            let Some(id) = doorstep_core::DocId::parse(&doc_id) else {
                continue;
            };
            let Ok(mut loaded) = crate::docs::load(&self.store, &self.cache, &id, &self.actor)
            else {
                continue;
            };
            let since: Vec<automerge::ChangeHash> = heads
                .unwrap_or_default()
                .chunks_exact(32)
                .filter_map(|c| automerge::ChangeHash::try_from(c).ok())
                .collect();
            for change in loaded.doc.get_changes_meta(&since) {
                if *change.actor == self.actor {
                    insert.execute(params![doc_id, change.hash.to_string(), roster])?;
                }
            }
        }
        Ok(())
    }
}

/// Marks the member in `slot` removed (once; the first person's slot is empty).
fn mark_removed(tx: &Transaction<'_>, slot: &str, now: i64) -> Result<(), DeviceError> {
    if slot.is_empty() {
        if tx
            .query_row(
                "SELECT 1 FROM meta WHERE key = ?1",
                [META_PRIMARY_REMOVED],
                |_| Ok(()),
            )
            .optional()?
            .is_none()
        {
            store::put_meta(tx, META_PRIMARY_REMOVED, &now.to_be_bytes())?;
        }
    } else {
        tx.execute(
            "UPDATE members SET removed_at = ?2 WHERE member_id = ?1 AND removed_at IS NULL",
            params![slot, now],
        )?;
    }
    Ok(())
}

impl Device {
    /// Marks removed every member of this device whose enrollments `roster` lists only
    /// as revoked (in the transaction that takes the roster).
    pub(crate) fn mark_revoked_members(
        &self,
        tx: &Transaction<'_>,
        roster: &doorstep_core::key_roster::KeyRoster,
    ) -> Result<(), DeviceError> {
        let primary = self.primary_enrollment()?.map(|e| e.device_id);
        mark_revoked(tx, roster, primary.as_deref(), self.now())
    }
}

/// Marks removed every member whose enrollments `roster` lists only as revoked
/// (`primary`: the first person's id).
fn mark_revoked(
    tx: &Transaction<'_>,
    roster: &doorstep_core::key_roster::KeyRoster,
    primary: Option<&str>,
    now: i64,
) -> Result<(), DeviceError> {
    let standing: std::collections::HashSet<&str> = roster
        .entries
        .iter()
        .filter(|e| !e.revoked)
        .map(|e| e.device_id.as_str())
        .collect();
    for entry in roster.entries.iter().filter(|e| e.revoked) {
        let id = entry.device_id.as_str();
        if standing.contains(id) {
            continue;
        }
        if primary == Some(id) {
            mark_removed(tx, "", now)?;
        } else {
            mark_removed(tx, id, now)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use doorstep_core::key_roster::{KeyEntry, KeyRoster};

    use super::*;

    use crate::pin::tests::device;

    fn add(device: &Device, id: &str, name: &str) {
        device
            .store
            .conn()
            .execute(
                "INSERT INTO members (member_id, name, role, actor, added_at)
                 VALUES (?1, ?2, 'volunteer', ?3, 0)",
                params![id, name, uuid::Uuid::new_v4().into_bytes().as_slice()],
            )
            .expect("insert");
    }

    fn entry(id: &str, revoked: bool) -> KeyEntry {
        KeyEntry {
            device_id: id.into(),
            actor: String::new(),
            public_key: String::new(),
            name: String::new(),
            label: String::new(),
            role: Role::Volunteer,
            committees: vec!["c1".into()],
            revoked,
        }
    }

    #[test]
    fn each_member_has_a_pin_of_their_own_and_an_actor_of_their_own() {
        let (_dir, mut d) = device();
        d.set_pin_as("135790", "测试甲").expect("first person");
        let first_actor = d.actor_hex();
        add(&d, "m2", "测试乙");
        d.set_pin_in("m2", "246802").expect("second");
        let people = d.members().expect("members");
        let names: Vec<&str> = people.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["测试甲", "测试乙"]);
        assert!(people[0].active && people.iter().all(|m| m.has_pin));

        // Wrong tries count for the one they were made for.
        for _ in 0..5 {
            assert!(d.unlock_member("m2", "135790", 1_000).is_err());
        }
        d.unlock_member("", "135790", 1_000)
            .expect("the first person is not made to wait");
        let waiting = d.unlock_member("m2", "246802", 1_000);
        assert_eq!(
            waiting.map_err(|e| e.code()),
            Err(ErrorCode::PinWait),
            "the second waits"
        );
        d.unlock_member("m2", "246802", 40_000)
            .expect("after the wait");
        assert_eq!(d.volunteer(), "测试乙");
        assert_ne!(d.actor_hex(), first_actor);
        assert_eq!(
            d.unlock_member("nobody", "246802", 40_000)
                .map_err(|e| e.code()),
            Err(ErrorCode::MemberUnknown)
        );
        // Closed and opened again, the one at work is still the second.
        let dir = d.data_dir().to_owned();
        drop(d);
        let d = Device::open(&dir).expect("reopen");
        assert_eq!(d.volunteer(), "测试乙");
    }

    #[test]
    fn a_member_the_roster_lists_only_as_revoked_is_removed_and_cannot_unlock() {
        let (_dir, mut d) = device();
        d.set_pin_as("135790", "测试甲").expect("first person");
        for (id, name) in [("m2", "测试乙"), ("m3", "测试丙"), ("m4", "测试丁")] {
            add(&d, id, name);
            d.set_pin_in(id, "246802").expect("pin");
        }
        let roster = KeyRoster {
            version: "v2".into(),
            issued_at: 0,
            committees: vec!["c1".into()],
            // m3 was revoked and enrolled again under the same id: it stands.
            entries: vec![
                entry("m2", true),
                entry("m3", true),
                entry("m3", false),
                entry("m4", false),
            ],
        };
        let tx = d.store.transaction().expect("tx");
        mark_revoked(&tx, &roster, None, 5).expect("mark");
        tx.commit().expect("commit");
        let removed: Vec<bool> = d
            .members()
            .expect("members")
            .iter()
            .map(|m| m.removed)
            .collect();
        assert_eq!(removed, [false, true, false, false]);
        assert_eq!(
            d.unlock_member("m2", "246802", 0).map_err(|e| e.code()),
            Err(ErrorCode::MemberRemoved)
        );
        d.unlock_member("m3", "246802", 0).expect("m3 stands");
        assert!(!d.active_member_removed().expect("removed?"));
        // The one at work removed: a sync goes with the first person's token.
        d.note_member_removed("m3").expect("note");
        assert!(d.active_member_removed().expect("removed?"));
        assert_eq!(d.sync_slot().expect("slot"), "");

        // The first person removed too: a sync goes with the next member standing.
        let roster = KeyRoster {
            entries: vec![entry("p1", true)],
            ..roster
        };
        let tx = d.store.transaction().expect("tx");
        mark_revoked(&tx, &roster, Some("p1"), 6).expect("mark");
        tx.commit().expect("commit");
        assert!(d.members().expect("members")[0].removed);
        assert_eq!(d.sync_slot().expect("slot"), "m4");
    }

    #[test]
    fn a_removed_first_person_unlocks_only_to_enroll_the_tablet_again() {
        let (_dir, mut d) = device();
        d.set_pin_as("135790", "测试甲").expect("first person");
        add(&d, "m2", "测试乙");
        d.set_pin_in("m2", "246802").expect("pin");
        d.unlock_member("m2", "246802", 0).expect("m2 at work");
        // The first person removed: the tablet is still in use by the second.
        d.note_member_removed("").expect("note");
        assert_eq!(
            d.unlock_to_enroll_again("135790", 0).map_err(|e| e.code()),
            Err(ErrorCode::TabletInUse)
        );
        assert_eq!(d.active_member().expect("active"), "m2");
        // The tablet reported lost: everyone on it removed.
        d.note_member_removed("m2").expect("note");
        assert_eq!(
            d.unlock_member("", "135790", 0).map_err(|e| e.code()),
            Err(ErrorCode::MemberRemoved)
        );
        // Another's PIN does not make the first person the one at work.
        assert_eq!(
            d.unlock_to_enroll_again("246802", 0).map_err(|e| e.code()),
            Err(ErrorCode::PinWrong)
        );
        assert_eq!(d.active_member().expect("active"), "m2");
        d.unlock_to_enroll_again("135790", 0).expect("her own PIN");
        assert_eq!(d.volunteer(), "测试甲");
        assert!(
            d.active_member_removed()
                .expect("still removed until enrolled")
        );
    }
}
