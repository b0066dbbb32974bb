//! Names of the fields a person fills in, shared by validation errors and the UI.

use serde::{Deserialize, Serialize};

/// A field of a record form. The serialized name is what the UI keys its messages on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    IdNumber,
    Phone,
    Gender,
    BirthDate,
    Address,
    EmergencyName,
    EmergencyPhone,
    EmergencyRelation,
    Services,
    ValidFrom,
    ValidTo,
    Signature,
    /// A form field of an application (its catalog key is reported beside it).
    Form,
    /// An attachment slot of an application.
    Attachment,
    /// The resident's consent to one kind of sensitive data (its kind is the key).
    Consent,
    /// The resident's proxy authorization covering the application's service.
    Authorization,
    /// A visit: the volunteer assigned, the day it is due, what it is for, what came of
    /// it, the day of the visit, and the next one proposed.
    Assignee,
    Due,
    Purpose,
    Outcome,
    VisitedOn,
    NextDue,
}

impl Field {
    /// The key used in documents and in serialized errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::IdNumber => "id_number",
            Field::Phone => "phone",
            Field::Gender => "gender",
            Field::BirthDate => "birth_date",
            Field::Address => "address",
            Field::EmergencyName => "emergency_name",
            Field::EmergencyPhone => "emergency_phone",
            Field::EmergencyRelation => "emergency_relation",
            Field::Services => "services",
            Field::ValidFrom => "valid_from",
            Field::ValidTo => "valid_to",
            Field::Signature => "signature",
            Field::Form => "form",
            Field::Attachment => "attachment",
            Field::Consent => "consent",
            Field::Authorization => "authorization",
            Field::Assignee => "assignee",
            Field::Due => "due",
            Field::Purpose => "purpose",
            Field::Outcome => "outcome",
            Field::VisitedOn => "visited_on",
            Field::NextDue => "next_due",
        }
    }
}
