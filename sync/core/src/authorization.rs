//! The `authorization` record (授权委托): a resident authorizes the committee and a
//! volunteer to apply on their behalf for some services, for a period, with their
//! signature (an attachment blob).
//!
//! Layout (schema 1): `kind = "authorization"`, `schema`, `resident` (DocId),
//! `volunteer`, `services` (map of service code → true), `valid_from`, `valid_to`
//! (`YYYY-MM-DD`), `signature` (SHA-256 of the signature image), `revoked` (bool),
//! `created_at`.

use automerge::{
    AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::catalog::Catalog;
use crate::date::{Ymd, parse_ymd};
use crate::error::{CoreError, FieldErrors};
use crate::field::Field;
use crate::value::{self, FieldValue};

pub const KIND: &str = "authorization";
pub const SCHEMA: i64 = 1;
/// The longest an authorization may run, in years.
pub const MAX_YEARS: u32 = 5;

/// The conflict-tracked fields of an authorization.
pub const FIELDS: &[&str] = &[
    "volunteer",
    "valid_from",
    "valid_to",
    "signature",
    "revoked",
];

/// What the volunteer records.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct AuthorizationInput {
    pub services: Vec<String>,
    pub valid_from: String,
    pub valid_to: String,
    /// SHA-256 (hex) of the signature image, already stored as a blob.
    pub signature: String,
}

/// An authorization as read from its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Authorization {
    pub resident: String,
    pub volunteer: String,
    pub services: Vec<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub signature: String,
    pub revoked: bool,
    pub created_at: i64,
}

impl Authorization {
    /// Whether it covers `service` on `today`.
    pub fn covers(&self, service: &str, today: Ymd) -> bool {
        let in_period = matches!(
            (parse_ymd(&self.valid_from), parse_ymd(&self.valid_to)),
            (Some(from), Some(to)) if from <= today && today <= to
        );
        !self.revoked && in_period && self.services.iter().any(|s| s == service)
    }
}

impl AuthorizationInput {
    /// Checks services against the catalog and the period against `today`.
    pub fn validate(&self, catalog: &Catalog, today: Ymd) -> Result<(), CoreError> {
        let mut errors = FieldErrors::default();
        if self.services.is_empty() {
            errors.push(Field::Services, ErrorCode::ServicesEmpty);
        } else if self.services.iter().any(|s| catalog.service(s).is_none()) {
            errors.push(Field::Services, ErrorCode::ServiceUnknown);
        }
        let from = parse_ymd(&self.valid_from);
        let to = parse_ymd(&self.valid_to);
        if from.is_none() {
            errors.push(Field::ValidFrom, ErrorCode::DateInvalid);
        }
        match (from, to) {
            (_, None) => errors.push(Field::ValidTo, ErrorCode::DateInvalid),
            (_, Some(to)) if to < today => errors.push(Field::ValidTo, ErrorCode::DateInPast),
            (Some(from), Some(to)) if to < from => {
                errors.push(Field::ValidTo, ErrorCode::DateBeforeStart)
            }
            (Some(from), Some(to)) if (to.0, to.1, to.2) > (from.0 + MAX_YEARS, from.1, from.2) => {
                errors.push(Field::ValidTo, ErrorCode::PeriodTooLong);
            }
            _ => {}
        }
        let sig = &self.signature;
        if sig.len() != 64 || !sig.chars().all(|c| c.is_ascii_hexdigit()) {
            errors.push(Field::Signature, ErrorCode::SignatureMissing);
        }
        errors.into_result()
    }
}

/// Writes a new authorization (uncommitted); `input` must have been validated.
pub fn write_new(
    doc: &mut AutoCommit,
    resident: &str,
    volunteer: &str,
    input: &AuthorizationInput,
    now_ms: i64,
) -> Result<(), CoreError> {
    doc.put(ROOT, "kind", KIND)?;
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "resident", resident)?;
    doc.put(ROOT, "volunteer", volunteer)?;
    let services = doc.put_object(ROOT, "services", ObjType::Map)?;
    for s in &input.services {
        doc.put(&services, s.as_str(), true)?;
    }
    doc.put(ROOT, "valid_from", input.valid_from.as_str())?;
    doc.put(ROOT, "valid_to", input.valid_to.as_str())?;
    doc.put(ROOT, "signature", input.signature.to_ascii_lowercase())?;
    doc.put(ROOT, "revoked", false)?;
    doc.put(ROOT, "created_at", ScalarValue::Timestamp(now_ms))?;
    Ok(())
}

/// Marks an authorization revoked (uncommitted).
pub fn revoke(doc: &mut AutoCommit) -> Result<(), CoreError> {
    value::put(doc, "revoked", &FieldValue::Bool(true))
}

/// Reads an authorization document.
pub fn read(doc: &impl ReadDoc) -> Result<Authorization, CoreError> {
    value::expect_kind(doc, KIND)?;
    let mut services = Vec::new();
    if let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, "services")? {
        for key in doc.keys(&obj) {
            if value::get_in(doc, &obj, &key)? == Some(FieldValue::Bool(true)) {
                services.push(key);
            }
        }
    }
    Ok(Authorization {
        resident: value::text(doc, "resident")?,
        volunteer: value::text(doc, "volunteer")?,
        services,
        valid_from: value::text(doc, "valid_from")?,
        valid_to: value::text(doc, "valid_to")?,
        signature: value::text(doc, "signature")?,
        revoked: matches!(value::get(doc, "revoked")?, Some(FieldValue::Bool(true))),
        created_at: value::time(doc, "created_at")?.unwrap_or(0),
    })
}
