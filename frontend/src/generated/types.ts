// Generated from the Rust types by sync/device/tests/contract.rs: do not edit.
// After changing a type: DOORSTEP_BLESS=1 cargo test --workspace --test contract

/**
 * The id of one record document: a UUIDv7 in its hyphenated text form, chosen by the
 * device that created the record (time-ordered, so lists sort by creation).
 */
export type DocId = string;

/**
 * Help a resident needs during a visit.
 */
export type Needs = { hearing: boolean, vision: boolean, mobility: boolean, };

/**
 * Someone to call for the resident.
 */
export type EmergencyContact = { name: string, phone: string, relation: string, };

/**
 * A scalar value as records hold it.
 */
export type FieldValue = { "type": "text", "value": string } | { "type": "bool", "value": boolean } | { "type": "int", "value": number } | { "type": "time", "value": number } | { "type": "null" };

/**
 * A field of a record form. The serialized name is what the UI keys its messages on.
 */
export type Field = "name" | "id_number" | "phone" | "gender" | "birth_date" | "address" | "emergency_name" | "emergency_phone" | "emergency_relation" | "services" | "valid_from" | "valid_to" | "signature" | "form" | "attachment" | "consent" | "authorization";

/**
 * One refused field: which field and a stable machine code (`name_empty`, `id_checksum`, …).
 * The UI translates the code; the code never changes once released.
 */
export type FieldError = { field: Field, code: string, 
/**
 * The catalog key, for a form field or attachment slot of an application.
 */
key?: string, };

/**
 * Every refused field of one form, so the volunteer sees all problems at once.
 */
export type FieldErrors = Array<FieldError>;

/**
 * Personal data of a special kind (PIPL), for which the resident consents separately.
 */
export type Sensitive = "face" | "health" | "disability" | "finances";

/**
 * An attachment of an application.
 */
export type Attachment = { sha256: string, slot: string, name: string, mime: string, size: number, added_at: number, };

/**
 * Kinds of review event.
 */
export type EventKind = "submitted" | "returned" | "approved" | "rejected" | "filed" | "consent" | "reopened";

/**
 * Where an application stands, derived from its events.
 */
export type Status = "draft" | "submitted" | "returned" | "approved" | "rejected" | "filed";

/**
 * A resident's decision on one kind of sensitive personal data (PIPL art. 29: separate
 * consent for each), signed on screen when agreed.
 */
export type Consent = { data: Sensitive, agreed: boolean, 
/**
 * SHA-256 (hex) of the signature image; empty for a refusal given without one.
 */
signature: string, };

/**
 * One review event.
 */
export type Event = { 
/**
 * Unique per event (device actor + time + counter), the tie-break for ordering.
 */
id: string, kind: EventKind, 
/**
 * Milliseconds since the epoch.
 */
at: number, by: string, device: string, 
/**
 * A return comment, a rejection reason, or the government reference when filed.
 */
text: string, 
/**
 * For a consent event: which data, and the resident's decision.
 */
consent?: Consent, };

/**
 * Who and when, for one change.
 */
export type Author = { 
/**
 * The device's actor id, hex.
 */
device: string, volunteer: string, 
/**
 * Milliseconds since the epoch.
 */
at: number, what: string, 
/**
 * The person's reason, when they gave one.
 */
note: string, };

/**
 * One of the values a conflicted field holds.
 */
export type ConflictValue = { value: FieldValue, 
/**
 * Names this value among the others (the id of the operation that wrote it), so a
 * person can choose a value a screen shows masked: see [`resolve_choice`].
 */
choice: string, 
/**
 * Who wrote it, from the change that made it (`None` if that change is unknown).
 */
author: Author | null, };

/**
 * A field holding more than one concurrent value; `values[0]` is the one shown for now.
 */
export type FieldConflict = { field: string, values: Array<ConflictValue>, };

/**
 * An authorization as read from its document.
 */
export type Authorization = { resident: string, volunteer: string, services: Array<string>, valid_from: string, valid_to: string, signature: string, revoked: boolean, created_at: number, };

/**
 * A form field's text kept as typed, with the code of its problem.
 */
export type TypedText = { key: string, text: string, code: string, };

/**
 * An application as lists show it.
 */
export type ApplicationSummary = { id: DocId, resident: string, service: string, status: Status, conflicted: boolean, created_at: number, updated_at: number, };

/**
 * A resident as lists show them: personal numbers masked.
 */
export type ResidentSummary = { id: DocId, name: string, 
/**
 * All but the last four characters hidden.
 */
id_number_masked: string, 
/**
 * The middle digits hidden (`138****8000`); empty when the resident has no phone.
 */
phone_masked: string, 
/**
 * Some field holds values written concurrently on different devices.
 */
conflicted: boolean, 
/**
 * Milliseconds since the epoch.
 */
created_at: number, };

/**
 * A resident as their page shows them.
 */
export type ResidentView = { id: DocId, name: string, gender: string, birth_date: string, 
/**
 * Masked but for the last four characters unless `revealed` (the phones too).
 */
id_number: string, revealed: boolean, phone: string, address: string, needs: Needs, emergency: EmergencyContact, notes: string, created_at: number, conflicted_fields: Array<string>, };

/**
 * An application as its form, the review and resident mode show it.
 */
export type ApplicationView = { id: DocId, resident_id: string, resident_name: string, service: string, status: Status, fields: { [key in string]: FieldValue }, attachments: Array<Attachment>, events: Array<Event>, conflicted_fields: Array<string>, created_at: number, 
/**
 * Texts kept as typed because they do not pass their checks, with the problem.
 */
typed: Array<TypedText>, 
/**
 * This device submitted or changed the application: it may not decide it.
 */
own_work: boolean, 
/**
 * Personal numbers are shown whole (the PIN was given for this view).
 */
revealed: boolean, 
/**
 * What stops it from being submitted now (empty when it can go).
 */
blockers: FieldErrors, };

/**
 * A line of an application list: the application and its resident's name.
 */
export type ApplicationRow = { resident_name: string, id: DocId, resident: string, service: string, status: Status, conflicted: boolean, created_at: number, updated_at: number, };

/**
 * A signed authorization, with its record's id.
 */
export type AuthorizationView = { id: DocId, resident: string, volunteer: string, services: Array<string>, valid_from: string, valid_to: string, signature: string, revoked: boolean, created_at: number, };

/**
 * A record with fields in conflict, as the conflicts screen lists it.
 */
export type ConflictedRecord = { id: DocId, kind: string, 
/**
 * The resident's name (of the record, or of the application's resident).
 */
resident_name: string, 
/**
 * The service of an application.
 */
service: string | null, conflicts: Array<FieldConflict>, };
