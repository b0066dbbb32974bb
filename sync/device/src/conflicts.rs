//! Conflicts: the fields of a record two devices wrote differently, shown with their
//! authors (personal numbers masked) and settled by a person's choice, which is recorded
//! as a change of its own.

use doorstep_core::DocId;
use doorstep_core::conflict::{self, FieldConflict};
use doorstep_core::mask::mask_record_value;
use doorstep_core::value::{self, FieldValue};

use crate::device::Device;
use crate::docs::{self, Access, Loaded};
use crate::error::DeviceError;

impl Device {
    /// The fields of a record holding concurrent values, each value with its author.
    pub fn conflicts(&self, id: &DocId) -> Result<Vec<FieldConflict>, DeviceError> {
        Ok(self.conflicts_in(id)?.0)
    }

    /// A record's conflicts with the record itself, read once.
    fn conflicts_in(&self, id: &DocId) -> Result<(Vec<FieldConflict>, Loaded), DeviceError> {
        let mut loaded = docs::load(&self.store, &self.cache, id, &self.actor)?;
        let fields = self.tracked_fields(&loaded.doc)?;
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let found = conflict::conflicts(&mut loaded.doc, &fields)?;
        Ok((found, loaded))
    }

    /// [`Device::conflicts`] as screens show them: personal numbers masked by the rule
    /// of every screen ([`doorstep_core::mask`]); a person chooses one by its
    /// [`choice`](doorstep_core::conflict::ConflictValue::choice), not by its value.
    pub fn conflicts_shown(&self, id: &DocId) -> Result<Vec<FieldConflict>, DeviceError> {
        let (mut found, loaded) = self.conflicts_in(id)?;
        let kind = value::text(&loaded.doc, "kind")?;
        let service = value::text(&loaded.doc, "service")?;
        let service = self.catalog.service(&service);
        for c in &mut found {
            for v in &mut c.values {
                mask_record_value(&kind, service, &c.field, &mut v.value);
            }
        }
        Ok(found)
    }

    /// Settles a conflicted field on the value that `choice` names (from
    /// [`Device::conflicts_shown`]), with the person's note.
    pub fn resolve_conflict_choice(
        &mut self,
        id: &DocId,
        field: &str,
        choice: &str,
        note: &str,
    ) -> Result<(), DeviceError> {
        let loaded = docs::load(&self.store, &self.cache, id, &self.actor)?;
        let chosen = conflict::chosen_value(&loaded.doc, field, choice)?
            .ok_or_else(|| DeviceError::NotAConflictValue(field.to_owned()))?;
        drop(loaded);
        self.resolve_conflict_with_note(id, field, &chosen, note)
    }

    /// Settles a conflicted field on `chosen`, recorded as a change of its own. The value
    /// must be one of the field's current values.
    pub fn resolve_conflict(
        &mut self,
        id: &DocId,
        field: &str,
        chosen: &FieldValue,
    ) -> Result<(), DeviceError> {
        self.resolve_conflict_with_note(id, field, chosen, "")
    }

    /// [`Device::resolve_conflict`] with the person's note on why this value, kept in
    /// the change that settles it.
    pub fn resolve_conflict_with_note(
        &mut self,
        id: &DocId,
        field: &str,
        chosen: &FieldValue,
        note: &str,
    ) -> Result<(), DeviceError> {
        let mut loaded = docs::load_for(&self.store, &self.cache, id, &self.actor, Access::Edit)?;
        // A submitted or decided application is settled by returning it (the rules
        // freeze its content), not here.
        if let Ok(app) = doorstep_core::application::read(&loaded.doc)
            && !doorstep_core::rules::content_open(&app)
        {
            return Err(DeviceError::ApplicationLocked(app.status.as_str()));
        }
        // A visit plan's assignment is a supervisor's to settle (the rules refuse any
        // other's change to it).
        if value::text(&loaded.doc, "kind")? == doorstep_core::visit::KIND
            && self
                .enrollment()?
                .is_some_and(|e| e.role != doorstep_core::protocol::Role::Supervisor)
        {
            return Err(DeviceError::NotSupervisor);
        }
        if !self.tracked_fields(&loaded.doc)?.iter().any(|f| f == field) {
            return Err(DeviceError::NoConflict(field.to_owned()));
        }
        let values = value::get_all(&loaded.doc, field)?;
        if values.len() < 2 {
            return Err(DeviceError::NoConflict(field.to_owned()));
        }
        if !values.iter().any(|(v, _)| v == chosen) {
            return Err(DeviceError::NotAConflictValue(field.to_owned()));
        }
        let now = self.now();
        // A visit's assignee is settled with their name, as the same supervisor wrote it.
        let companion = if field == "assignee" {
            conflict::written_with(&loaded.doc, field, chosen, "assignee_name")?
        } else {
            None
        };
        conflict::resolve(&mut loaded.doc, field, chosen)?;
        if let Some(name) = companion {
            conflict::resolve(&mut loaded.doc, "assignee_name", &name)?;
        }
        self.note("resolve_conflict")
            .with_note(note)
            .commit(&mut loaded.doc, now);
        self.save_record(id, loaded, now)
    }

    /// Every record (of any kind) with conflicted fields this device's user may settle:
    /// a visit plan's only on a supervisor's device (or one not enrolled); a volunteer
    /// sees the plan's conflict on the plan and waits for a supervisor.
    pub fn conflicted_records(&self) -> Result<Vec<(DocId, String)>, DeviceError> {
        let settles_plans = self
            .enrollment()?
            .is_none_or(|e| e.role == doorstep_core::protocol::Role::Supervisor);
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT doc_id, 'resident' FROM residents WHERE conflicted
             UNION ALL SELECT doc_id, 'application' FROM applications WHERE conflicted
             UNION ALL SELECT doc_id, 'visit' FROM visits WHERE conflicted
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind) = row?;
            if kind == doorstep_core::visit::KIND && !settles_plans {
                continue;
            }
            if let Some(id) = DocId::parse(&id) {
                out.push((id, kind));
            }
        }
        Ok(out)
    }
}
