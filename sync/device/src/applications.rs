//! Use cases around applications: attachments as content-addressed blobs, proxy
//! authorizations, and applications from draft to submission and review.

use automerge::AutoCommit;
use doorstep_core::ErrorCode;
use doorstep_core::application::{self, Application, Consent, Event, EventKind, Status};
use doorstep_core::authorization::{self, Authorization, AuthorizationInput};
use doorstep_core::catalog::{FieldDef, Sensitive};
use doorstep_core::draft;
use doorstep_core::provenance::ChangeNote;
use doorstep_core::review::Decision;
use doorstep_core::value::FieldValue;
use doorstep_core::{DocId, Field, FieldErrors};
use serde::Serialize;

use crate::device::{Device, new_doc_id};
use crate::docs::{self, Access, Loaded};
use crate::error::DeviceError;
use crate::projection::project;

/// An application as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ApplicationSummary {
    pub id: DocId,
    pub resident: String,
    pub service: String,
    #[ts(as = "Status")]
    pub status: String,
    pub conflicted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A form field's text kept as typed, with the code of its problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct TypedText {
    pub key: String,
    pub text: String,
    /// Why the text is not a value yet; `None` when it is one.
    pub code: Option<ErrorCode>,
}

impl Device {
    /// Records a resident's proxy authorization (授权委托) with their signature, which
    /// must already be stored as a blob.
    pub fn record_authorization(
        &mut self,
        resident: &DocId,
        input: &AuthorizationInput,
    ) -> Result<DocId, DeviceError> {
        self.load_resident(resident)?;
        input.validate(&self.catalog, self.today())?;
        if !self.has_blob(&input.signature.to_ascii_lowercase())? {
            let mut errors = FieldErrors::default();
            errors.push(Field::Signature, ErrorCode::SignatureMissing);
            return Err(DeviceError::Invalid(errors));
        }
        let now = self.now();
        let id = new_doc_id();
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        authorization::write_new(&mut doc, resident.as_str(), &self.volunteer, input, now)?;
        self.note("record_authorization").commit(&mut doc, now);
        self.insert_record(&id, authorization::KIND, &mut doc, now)?;
        Ok(id)
    }

    /// Revokes an authorization (the revocation is a recorded change; nothing is deleted).
    pub fn revoke_authorization(&mut self, id: &DocId) -> Result<(), DeviceError> {
        let mut loaded = self.load_kind_for(id, authorization::KIND, Access::Edit)?;
        let now = self.now();
        authorization::revoke(&mut loaded.doc)?;
        self.note("revoke_authorization")
            .commit(&mut loaded.doc, now);
        self.save_record(id, loaded, now)
    }

    /// A resident's authorizations, newest first.
    pub fn authorizations_of(
        &self,
        resident: &DocId,
    ) -> Result<Vec<(DocId, Authorization)>, DeviceError> {
        let ids = self.ids_where(
            "SELECT doc_id FROM authorizations WHERE resident = ?1 ORDER BY created_at DESC",
            resident,
        )?;
        ids.into_iter()
            .map(|id| {
                let loaded = self.load_kind(&id, authorization::KIND)?;
                Ok((id, authorization::read(&loaded.doc)?))
            })
            .collect()
    }

    /// Starts a draft application of a resident for a service of the catalog. Refused
    /// when the resident does not meet the service's rules (the reasons are in
    /// [`Device::services_for`]).
    pub fn start_application(
        &mut self,
        resident: &DocId,
        service: &str,
    ) -> Result<DocId, DeviceError> {
        let Some(def) = self.catalog.service(service) else {
            return Err(DeviceError::ServiceUnknown(service.to_owned()));
        };
        let offer = self
            .services_for(resident, self.today())?
            .into_iter()
            .find(|o| o.code == def.code.get_ref().as_str());
        if offer.is_some_and(|o| !o.eligibility.eligible) {
            return Err(DeviceError::NotEligible(service.to_owned()));
        }
        let now = self.now();
        let id = new_doc_id();
        let mut doc = AutoCommit::new().with_actor(self.actor.clone());
        let device = self.actor_hex();
        application::write_new(
            &mut doc,
            resident.as_str(),
            service,
            &self.catalog.version,
            (&device, &self.volunteer),
            now,
        )?;
        self.note("start_application").commit(&mut doc, now);
        self.insert_record(&id, application::KIND, &mut doc, now)?;
        Ok(id)
    }

    /// Sets one form field of a draft (or returned) application, checked against the
    /// catalog; saved durably before this returns, so a draft survives a crash. Changing
    /// an approved application reopens it: it goes back to the supervisor for review.
    pub fn set_application_field(
        &mut self,
        id: &DocId,
        key: &str,
        v: &FieldValue,
    ) -> Result<(), DeviceError> {
        let (mut loaded, approved) = self.load_changeable(id)?;
        let def = self.form_field(&loaded, key)?;
        let checked = application::check_value(def, v)
            .and_then(|v| draft::check_on(def, &v, self.today()).map(|()| v))
            .map_err(|code| {
                let mut errors = FieldErrors::default();
                errors.push_key(Field::Form, key, code);
                DeviceError::Invalid(errors)
            })?;
        let path = format!("fields.{key}");
        let forgot = draft::forget_text(&mut loaded.doc, key)?;
        if !forgot && doorstep_core::value::get(&loaded.doc, &path)?.as_ref() == Some(&checked) {
            return Ok(());
        }
        doorstep_core::value::put(&mut loaded.doc, &path, &checked)?;
        self.save_change(id, loaded, approved, "edit_application")
    }

    /// Saves what the volunteer typed into one form field, exactly as typed: as the
    /// field's value when it passes the catalog's checks, else as the text itself with
    /// its problem returned (the draft keeps it; submission is refused until it is
    /// fixed). Saved durably before this returns. Changing an approved application
    /// reopens it, as [`Device::set_application_field`] does.
    pub fn type_application_field(
        &mut self,
        id: &DocId,
        key: &str,
        text: &str,
    ) -> Result<Option<ErrorCode>, DeviceError> {
        let (mut loaded, approved) = self.load_changeable(id)?;
        let def = self.form_field(&loaded, key)?;
        let (problem, changed) = draft::put_text(&mut loaded.doc, def, text, self.today())?;
        if !changed {
            return Ok(problem);
        }
        self.save_change(id, loaded, approved, "edit_application")?;
        Ok(problem)
    }

    /// The texts of an application's fields kept as typed because they do not pass
    /// their checks, each with its problem.
    pub fn typed_texts(&self, id: &DocId) -> Result<Vec<TypedText>, DeviceError> {
        let loaded = self.load_kind(id, application::KIND)?;
        let app = application::read(&loaded.doc)?;
        let typed = draft::typed(&loaded.doc)?;
        let problems = match self.catalog.service(&app.service) {
            Some(service) => draft::problems(&typed, service, self.today()),
            None => Vec::new(),
        };
        Ok(typed
            .into_iter()
            .map(|(key, text)| {
                let code = problems.iter().find(|(k, _)| *k == key).map(|(_, c)| *c);
                TypedText { key, text, code }
            })
            .collect())
    }

    /// Whether this device submitted or changed the application (anything but review
    /// decisions): then it may not decide it, another supervisor does.
    pub fn is_own_work(&self, id: &DocId) -> Result<bool, DeviceError> {
        let mut loaded = self.load_kind(id, application::KIND)?;
        Ok(self.wrote_beyond_reviews(&mut loaded.doc))
    }

    /// Why an application cannot be submitted yet, all at once: required fields and
    /// attachments missing (`required`), texts kept as typed that do not pass their
    /// checks, kinds of sensitive data the resident has not been asked about
    /// (`consent_missing`, keyed by the kind) or declined (`consent_declined`, at the
    /// slot), and no authorization of hers covering the service today
    /// (`authorization_missing`). Empty when it can go.
    pub fn submit_blockers(&self, id: &DocId) -> Result<FieldErrors, DeviceError> {
        let loaded = self.load_kind(id, application::KIND)?;
        self.blockers_of(&loaded)
    }

    fn blockers_of(&self, loaded: &Loaded) -> Result<FieldErrors, DeviceError> {
        let app = application::read(&loaded.doc)?;
        let service = self
            .catalog
            .service(&app.service)
            .ok_or_else(|| DeviceError::ServiceUnknown(app.service.clone()))?;
        let mut errors = FieldErrors::default();
        for key in application::missing_for_submit(&app, service) {
            let field = if service.field(&key).is_some() {
                Field::Form
            } else {
                Field::Attachment
            };
            errors.push_key(field, &key, ErrorCode::Required);
        }
        let today = self.today();
        for (key, code) in draft::problems(&draft::typed(&loaded.doc)?, service, today) {
            errors.push_key(Field::Form, &key, code);
        }
        for kind in application::unasked_kinds(&app, service) {
            errors.push_key(Field::Consent, kind.as_str(), ErrorCode::ConsentMissing);
        }
        for slot in application::declined_slots(&app, service) {
            errors.push_key(Field::Attachment, &slot, ErrorCode::ConsentDeclined);
        }
        let authorized = match DocId::parse(&app.resident) {
            Some(resident) => self
                .authorizations_of(&resident)?
                .iter()
                .any(|(_, a)| a.covers(&app.service, today)),
            None => false,
        };
        if !authorized {
            errors.push_key(
                Field::Authorization,
                &app.service,
                ErrorCode::AuthorizationMissing,
            );
        }
        Ok(errors)
    }

    /// Submits a draft or returned application once nothing blocks it (see
    /// [`Device::submit_blockers`]); otherwise refuses with every blocker.
    pub fn submit_application(&mut self, id: &DocId) -> Result<Status, DeviceError> {
        let loaded = self.load_editable(id)?;
        let blockers = self.blockers_of(&loaded)?;
        if !blockers.is_empty() {
            return Err(DeviceError::Invalid(blockers));
        }
        self.append_event(id, loaded, EventKind::Submitted, "", None)
    }

    /// Records a review decision: return with a comment, approve, reject with a reason,
    /// or mark filed with the government system's reference.
    pub fn record_review(
        &mut self,
        id: &DocId,
        kind: EventKind,
        text: &str,
    ) -> Result<Status, DeviceError> {
        let mut loaded = self.load_kind_for(id, application::KIND, Access::Edit)?;
        let status = application::read(&loaded.doc)?.status;
        let Some(decision) =
            Decision::of_event(kind).filter(|d| Decision::after(status).contains(d))
        else {
            return Err(DeviceError::ApplicationLocked(status.as_str()));
        };
        // The write rules, before anything is saved (the server and every other device
        // apply them too).
        if !self.may_append(kind)? {
            return Err(DeviceError::NotSupervisor);
        }
        if decision.judges() && self.wrote_beyond_reviews(&mut loaded.doc) {
            return Err(DeviceError::OwnWork);
        }
        if decision.needs_text() && text.trim().is_empty() {
            let mut errors = FieldErrors::default();
            errors.push(Field::Form, ErrorCode::ReviewTextRequired);
            return Err(DeviceError::Invalid(errors));
        }
        self.append_event(id, loaded, kind, text.trim(), None)
    }

    /// Records the resident's decision as the window gives it: the kind of data by its
    /// name (one the service does not use is refused as `consent_not_needed`) and, when
    /// she agrees, her drawn signature's bytes, stored here as a blob.
    pub fn record_consent_signed(
        &mut self,
        id: &DocId,
        data: &str,
        agreed: bool,
        signature: Option<&[u8]>,
    ) -> Result<(), DeviceError> {
        let Some(kind) = Sensitive::parse(data) else {
            let mut errors = FieldErrors::default();
            errors.push_key(Field::Form, data, ErrorCode::ConsentNotNeeded);
            return Err(DeviceError::Invalid(errors));
        };
        let sha = match signature {
            Some(bytes) if agreed => self.store_blob(bytes)?,
            _ => String::new(),
        };
        self.record_consent(id, kind, agreed, &sha)
    }

    /// Records the resident's decision on one kind of sensitive data the application
    /// uses. Agreeing needs their signature, already stored as a blob; declining does
    /// not. A later decision replaces an earlier one; both stay in the events.
    pub fn record_consent(
        &mut self,
        id: &DocId,
        data: Sensitive,
        agreed: bool,
        signature: &str,
    ) -> Result<(), DeviceError> {
        let loaded = self.load_editable(id)?;
        let app = application::read(&loaded.doc)?;
        let service = self
            .catalog
            .service(&app.service)
            .ok_or_else(|| DeviceError::ServiceUnknown(app.service.clone()))?;
        if !application::sensitive_kinds(service).contains(&data) {
            let mut errors = FieldErrors::default();
            errors.push_key(Field::Form, data.as_str(), ErrorCode::ConsentNotNeeded);
            return Err(DeviceError::Invalid(errors));
        }
        let signature = signature.trim().to_ascii_lowercase();
        if agreed && !self.has_blob(&signature)? {
            let mut errors = FieldErrors::default();
            errors.push(Field::Signature, ErrorCode::SignatureMissing);
            return Err(DeviceError::Invalid(errors));
        }
        let consent = Consent {
            data,
            agreed,
            signature: if agreed { signature } else { String::new() },
        };
        self.append_event(id, loaded, EventKind::Consent, "", Some(consent))?;
        Ok(())
    }

    /// An application read from its document.
    pub fn application(&self, id: &DocId) -> Result<Application, DeviceError> {
        let loaded = self.load_kind(id, application::KIND)?;
        Ok(application::read(&loaded.doc)?)
    }

    /// Applications, newest first: a resident's, or all of them.
    pub fn list_applications(
        &self,
        resident: Option<&DocId>,
    ) -> Result<Vec<ApplicationSummary>, DeviceError> {
        let sql = "SELECT doc_id, resident, service, status, conflicted, created_at, updated_at
                   FROM applications WHERE ?1 IS NULL OR resident = ?1
                   ORDER BY created_at DESC, doc_id DESC";
        let mut stmt = self.store.conn().prepare_cached(sql)?;
        let rows = stmt.query_map([resident.map(DocId::as_str)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, resident, service, status, conflicted, created_at, updated_at) = row?;
            let Some(id) = DocId::parse(&id) else {
                continue;
            };
            out.push(ApplicationSummary {
                id,
                resident,
                service,
                status,
                conflicted,
                created_at,
                updated_at,
            });
        }
        Ok(out)
    }

    fn append_event(
        &mut self,
        id: &DocId,
        mut loaded: Loaded,
        kind: EventKind,
        text: &str,
        consent: Option<Consent>,
    ) -> Result<Status, DeviceError> {
        let now = self.now();
        let event = Event {
            id: uuid::Uuid::now_v7().to_string(),
            kind,
            at: now,
            by: self.volunteer.clone(),
            device: self.actor_hex(),
            text: text.to_owned(),
            consent,
        };
        application::append_event(&mut loaded.doc, &event)?;
        self.note(kind.as_str()).commit(&mut loaded.doc, now);
        let status = application::read(&loaded.doc)?.status;
        self.save_record(id, loaded, now)?;
        Ok(status)
    }

    /// The catalog's definition of form field `key` of a loaded application.
    fn form_field(&self, loaded: &Loaded, key: &str) -> Result<&FieldDef, DeviceError> {
        let service = application::read(&loaded.doc)?.service;
        self.catalog
            .service(&service)
            .and_then(|s| s.field(key))
            .ok_or_else(|| DeviceError::ServiceUnknown(format!("{service}.{key}")))
    }

    /// Commits a change a volunteer made to an application (`what` names it) and saves
    /// it durably; a change to an approved one (`approved`) first reopens it for review.
    pub(crate) fn save_change(
        &mut self,
        id: &DocId,
        mut loaded: Loaded,
        approved: bool,
        what: &str,
    ) -> Result<(), DeviceError> {
        let now = self.now();
        if approved {
            self.reopen(&mut loaded.doc, now)?;
        }
        self.note(what).commit(&mut loaded.doc, now);
        self.save_record(id, loaded, now)
    }

    /// Whether this device wrote anything in the record other than review decisions:
    /// the application itself, a field, an attachment, a submission, a consent or a
    /// settled conflict. Such a device may not decide the application.
    pub(crate) fn wrote_beyond_reviews(&self, doc: &mut AutoCommit) -> bool {
        const REVIEWS: [EventKind; 5] = [
            EventKind::Returned,
            EventKind::Approved,
            EventKind::Rejected,
            EventKind::Filed,
            EventKind::Reopened,
        ];
        doc.get_changes(&[]).into_iter().any(|change| {
            change.actor_id() == &self.actor && {
                let note = ChangeNote::parse(change.message());
                !REVIEWS.iter().any(|k| k.as_str() == note.what)
            }
        })
    }

    /// An application that may be changed: a draft or returned one, or an approved one
    /// (`true`), which the change reopens.
    /// An application reopened this way stays open to further changes until the
    /// supervisor decides again.
    pub(crate) fn load_changeable(&self, id: &DocId) -> Result<(Loaded, bool), DeviceError> {
        let loaded = self.load_kind_for(id, application::KIND, Access::Edit)?;
        let app = application::read(&loaded.doc)?;
        if doorstep_core::rules::content_open(&app) {
            return Ok((loaded, false));
        }
        match app.status {
            // Changing an approved application reopens it: a supervisor's to do.
            Status::Approved if self.may_append(EventKind::Reopened)? => Ok((loaded, true)),
            other => Err(DeviceError::ApplicationLocked(other.as_str())),
        }
    }

    /// Whether this device's role may append an event of `kind` (see
    /// `doorstep_core::rules`). A device not yet enrolled has no role: what it writes
    /// is checked when it first syncs.
    pub(crate) fn may_append(&self, kind: EventKind) -> Result<bool, DeviceError> {
        Ok(self
            .enrollment()?
            .is_none_or(|e| doorstep_core::rules::may_append(e.role, kind)))
    }

    /// Adds the event that sends a changed approved application back for review.
    pub(crate) fn reopen(&self, doc: &mut AutoCommit, now: i64) -> Result<(), DeviceError> {
        let event = Event {
            id: uuid::Uuid::now_v7().to_string(),
            kind: EventKind::Reopened,
            at: now,
            by: self.volunteer.clone(),
            device: self.actor_hex(),
            text: String::new(),
            consent: None,
        };
        Ok(application::append_event(doc, &event)?)
    }

    fn load_editable(&self, id: &DocId) -> Result<Loaded, DeviceError> {
        let loaded = self.load_kind_for(id, application::KIND, Access::Edit)?;
        let status = application::read(&loaded.doc)?.status;
        if !matches!(status, Status::Draft | Status::Returned) {
            return Err(DeviceError::ApplicationLocked(status.as_str()));
        }
        Ok(loaded)
    }

    pub(crate) fn load_kind(&self, id: &DocId, kind: &str) -> Result<Loaded, DeviceError> {
        self.load_kind_for(id, kind, Access::Read)
    }

    pub(crate) fn load_kind_for(
        &self,
        id: &DocId,
        kind: &str,
        access: Access,
    ) -> Result<Loaded, DeviceError> {
        let loaded = docs::load_for(&self.store, &self.cache, id, &self.actor, access)?;
        if doorstep_core::value::text(&loaded.doc, "kind")? != kind {
            return Err(DeviceError::NotFound(id.to_string()));
        }
        Ok(loaded)
    }

    pub(crate) fn insert_record(
        &mut self,
        id: &DocId,
        kind: &str,
        doc: &mut AutoCommit,
        now: i64,
    ) -> Result<(), DeviceError> {
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        docs::insert_new(&tx, &signer, id, kind, doc, now)?;
        project(&self.catalog, &tx, id, doc, now)?;
        tx.commit()?;
        Ok(())
    }

    fn ids_where(&self, sql: &str, arg: &DocId) -> Result<Vec<DocId>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(sql)?;
        let rows = stmt.query_map([arg.as_str()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(id) = DocId::parse(&row?) {
                out.push(id);
            }
        }
        Ok(out)
    }
}
