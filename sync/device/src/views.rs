//! What the window shows of a record, assembled here rather than in the shell: the
//! record with its personal numbers masked unless the PIN was given for this view, the
//! names it refers to, its conflicts, and for an application what still blocks it and
//! whether this device may decide it.

use std::collections::BTreeMap;

use doorstep_core::DocId;
use doorstep_core::FieldErrors;
use doorstep_core::application::{self, Attachment, Event, EventKind};
use doorstep_core::authorization::Authorization;
use doorstep_core::catalog::Sensitive;
use doorstep_core::conflict::FieldConflict;
use doorstep_core::id_number::mask_tail;
use doorstep_core::mask::{mask_form_text, mask_phone, mask_value};
use doorstep_core::resident::{EmergencyContact, Needs};
use doorstep_core::review::{self, DecisionOffer};
use doorstep_core::value::FieldValue;
use serde::Serialize;

use crate::applications::{ApplicationSummary, TypedText};
use crate::certifications::CertificationView;
use crate::device::Device;
use crate::error::DeviceError;

/// A resident as their page shows them.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ResidentView {
    pub id: DocId,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    /// Masked but for the last four characters unless `revealed` (the phones too).
    pub id_number: String,
    pub revealed: bool,
    pub phone: String,
    pub address: String,
    pub needs: Needs,
    pub emergency: EmergencyContact,
    pub notes: String,
    pub created_at: i64,
    pub conflicted_fields: Vec<String>,
    /// The yearly pension certification, when the committee follows it for her.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<CertificationView>,
}

/// An application as its form, the review and resident mode show it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ApplicationView {
    pub id: DocId,
    pub resident_id: String,
    pub resident_name: String,
    pub service: String,
    #[ts(as = "application::Status")]
    pub status: &'static str,
    pub fields: BTreeMap<String, FieldValue>,
    pub attachments: Vec<Attachment>,
    pub events: Vec<Event>,
    pub conflicted_fields: Vec<String>,
    pub created_at: i64,
    /// Texts kept as typed because they do not pass their checks, with the problem.
    pub typed: Vec<TypedText>,
    /// This device submitted or changed the application: it may not decide it.
    pub own_work: bool,
    /// Personal numbers are shown whole (the PIN was given for this view).
    pub revealed: bool,
    /// What stops it from being submitted now (empty when it can go).
    pub blockers: FieldErrors,
    /// The decisions this device may take on it now (none on its own work but filing,
    /// none at all on a volunteer's device).
    pub decisions: Vec<DecisionOffer>,
    /// Whether this device may change it although it has been decided: an approved
    /// application (the change reopens it for review, which only a supervisor may do),
    /// or one a supervisor has reopened.
    pub amendable: bool,
    /// Two decisions on the latest submission that contradict each other, made offline
    /// on two tablets: it waits for a supervisor to decide it again.
    pub disputed: Vec<Event>,
    /// The kinds of sensitive data its service uses, in catalog order: the consent
    /// screens resident mode shows.
    pub sensitive_kinds: Vec<Sensitive>,
    /// The resident's latest decision on each kind she was asked about.
    pub consents: BTreeMap<Sensitive, bool>,
}

/// A line of an application list: the application and its resident's name.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ApplicationRow {
    #[serde(flatten)]
    pub summary: ApplicationSummary,
    pub resident_name: String,
}

/// A signed authorization, with its record's id.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AuthorizationView {
    pub id: DocId,
    #[serde(flatten)]
    pub authorization: Authorization,
}

/// A record with fields in conflict, as the conflicts screen lists it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ConflictedRecord {
    pub id: DocId,
    pub kind: String,
    /// The resident's name (of the record, or of the application's resident).
    pub resident_name: String,
    /// The service of an application.
    pub service: Option<String>,
    pub conflicts: Vec<FieldConflict>,
    /// Some value is a personal number shown masked: the PIN can show it whole.
    pub masked: bool,
    /// Personal numbers are shown whole (the PIN was given for this view).
    pub revealed: bool,
}

impl Device {
    /// One resident; the ID number and phones masked unless `pin` is given and right
    /// (the reveal is audited).
    pub fn resident_view(
        &mut self,
        id: &DocId,
        pin: Option<&str>,
    ) -> Result<ResidentView, DeviceError> {
        let reveal = self.reveal_with(pin, "resident")?;
        let r = self.resident(id)?;
        let conflicted_fields = self.conflicts(id)?.into_iter().map(|c| c.field).collect();
        let certification = self.certification_of(id, self.today())?;
        let phone = |p: String| if reveal { p } else { mask_phone(&p) };
        Ok(ResidentView {
            id_number: if reveal {
                r.id_number.clone()
            } else {
                mask_tail(&r.id_number, 4)
            },
            revealed: reveal,
            id: id.clone(),
            name: r.name,
            gender: r.gender,
            birth_date: r.birth_date,
            phone: phone(r.phone),
            address: r.address,
            needs: r.needs,
            emergency: EmergencyContact {
                phone: phone(r.emergency.phone),
                ..r.emergency
            },
            notes: r.notes,
            created_at: r.created_at,
            conflicted_fields,
            certification,
        })
    }

    /// One application; its personal numbers (accounts, phones, ID numbers) masked unless
    /// `pin` is given and right (the reveal is audited).
    pub fn application_view(
        &mut self,
        id: &DocId,
        pin: Option<&str>,
    ) -> Result<ApplicationView, DeviceError> {
        let reveal = self.reveal_with(pin, "application")?;
        let mut a = self.application(id)?;
        let mut typed = self.typed_texts(id)?;
        if !reveal {
            let service = self.catalog().service(&a.service);
            for (key, v) in &mut a.fields {
                if let Some(def) = service.and_then(|s| s.field(key)) {
                    *v = mask_value(def, v);
                }
            }
            for t in &mut typed {
                t.text = mask_form_text(service, &t.key, &t.text);
            }
        }
        let own_work = self.is_own_work(id)?;
        let sensitive_kinds = self
            .catalog()
            .service(&a.service)
            .map(application::sensitive_kinds)
            .unwrap_or_default();
        let consents = a
            .consents()
            .into_iter()
            .map(|(_, c)| (c.data, c.agreed))
            .collect();
        let decides = self.may_append(EventKind::Approved)?;
        let amendable = match a.status {
            application::Status::Approved => self.may_append(EventKind::Reopened)?,
            application::Status::Submitted => doorstep_core::rules::reopened(&a),
            _ => false,
        };
        Ok(ApplicationView {
            blockers: self.submit_blockers(id)?,
            decisions: if decides {
                review::offers(a.status, own_work)
            } else {
                Vec::new()
            },
            amendable,
            disputed: a.disputed,
            sensitive_kinds,
            consents,
            revealed: reveal,
            own_work,
            conflicted_fields: self.conflicts(id)?.into_iter().map(|c| c.field).collect(),
            resident_name: self.resident_name(&a.resident),
            id: id.clone(),
            resident_id: a.resident,
            service: a.service,
            status: a.status.as_str(),
            fields: a.fields.into_iter().collect(),
            attachments: a.attachments,
            events: a.events,
            created_at: a.created_at,
            typed,
        })
    }

    /// The applications (of one resident, or all), each with its resident's name.
    pub fn application_rows(
        &self,
        resident: Option<&DocId>,
    ) -> Result<Vec<ApplicationRow>, DeviceError> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        Ok(self
            .list_applications(resident)?
            .into_iter()
            .map(|summary| {
                let resident_name = names
                    .entry(summary.resident.clone())
                    .or_insert_with(|| self.resident_name(&summary.resident))
                    .clone();
                ApplicationRow {
                    summary,
                    resident_name,
                }
            })
            .collect())
    }

    /// A resident's authorizations, each with its record's id.
    pub fn authorization_views(
        &self,
        resident: &DocId,
    ) -> Result<Vec<AuthorizationView>, DeviceError> {
        Ok(self
            .authorizations_of(resident)?
            .into_iter()
            .map(|(id, authorization)| AuthorizationView { id, authorization })
            .collect())
    }

    /// Every record with fields in conflict, each with its conflicts as shown (personal
    /// numbers masked unless `pin` is given and right; the reveal is audited) and whose
    /// record it is.
    pub fn conflicted_views(
        &mut self,
        pin: Option<&str>,
    ) -> Result<Vec<ConflictedRecord>, DeviceError> {
        let revealed = self.reveal_with(pin, "conflicts")?;
        self.conflicted_records()?
            .into_iter()
            .map(|(id, kind)| {
                // Two people wrote a phone differently: with the PIN, a person sees
                // both whole to choose between them.
                let shown = self.conflicts_shown(&id)?;
                let masked = shown != self.conflicts(&id)?;
                let conflicts = if revealed {
                    self.conflicts(&id)?
                } else {
                    shown
                };
                let (resident_name, service) = match kind.as_str() {
                    "application" => {
                        let a = self.application(&id)?;
                        (self.resident_name(&a.resident), Some(a.service))
                    }
                    "visit" => {
                        let loaded = self.load_kind(&id, doorstep_core::visit::KIND)?;
                        let plan = doorstep_core::visit::read(&loaded.doc)?;
                        (self.resident_name(&plan.resident), None)
                    }
                    _ => (self.resident(&id)?.name, None),
                };
                Ok(ConflictedRecord {
                    id,
                    kind,
                    resident_name,
                    service,
                    conflicts,
                    masked,
                    revealed,
                })
            })
            .collect()
    }

    /// The name of the resident with id `id`; empty when there is none on this device
    /// (an application that arrived before its resident).
    fn resident_name(&self, id: &str) -> String {
        DocId::parse(id)
            .and_then(|id| self.resident(&id).ok())
            .map(|r| r.name)
            .unwrap_or_default()
    }
}
