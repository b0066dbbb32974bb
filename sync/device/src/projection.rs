//! What lists and searches read instead of documents: each record's projection rows,
//! rewritten from its document in the transaction that saves it, and a resident's list
//! entry.

use automerge::AutoCommit;
use doorstep_core::catalog::Catalog;
use doorstep_core::conflict;
use doorstep_core::date::{china_date, format_ymd, parse_ymd};
use doorstep_core::id_number::mask_tail;
use doorstep_core::mask::mask_phone;
use doorstep_core::resident;
use doorstep_core::search;
use doorstep_core::value::{self, FieldValue, Fields};
use doorstep_core::{DocId, application, authorization, visit};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::DeviceError;

/// The application field in which a volunteer records the date of the resident's last
/// certification (the pension certification's form has it).
pub(crate) const LAST_CERTIFIED_FIELD: &str = "last_certified_on";

/// A resident as lists show them: personal numbers masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ResidentSummary {
    pub id: DocId,
    pub name: String,
    /// All but the last four characters hidden.
    pub id_number_masked: String,
    /// The middle digits hidden (`138****8000`); empty when the resident has no phone.
    pub phone_masked: String,
    /// Some field holds values written concurrently on different devices.
    pub conflicted: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// The scalar fields conflicts and history are reported on, by record kind.
pub(crate) fn tracked_fields(
    catalog: &Catalog,
    doc: &AutoCommit,
) -> Result<Vec<String>, DeviceError> {
    let kind = value::text(doc, "kind")?;
    Ok(match kind.as_str() {
        resident::KIND => resident::FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        authorization::KIND => authorization::FIELDS
            .iter()
            .map(|f| (*f).to_owned())
            .collect(),
        application::KIND => {
            let code = value::text(doc, "service")?;
            catalog
                .service(&code)
                .map(application::field_paths)
                .unwrap_or_default()
        }
        visit::KIND => visit::FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        _ => return Err(DeviceError::UnknownKind(kind)),
    })
}

/// Rewrites the projection rows of a record of any kind; returns whether it is
/// conflicted.
pub(crate) fn project(
    catalog: &Catalog,
    tx: &Transaction<'_>,
    id: &DocId,
    doc: &mut AutoCommit,
    now: i64,
) -> Result<bool, DeviceError> {
    let kind = value::text(doc, "kind")?;
    match kind.as_str() {
        resident::KIND => Ok(project_resident(tx, id, doc, now)?.conflicted),
        application::KIND => {
            let app = application::read(doc)?;
            let fields = tracked_fields(catalog, doc)?;
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let conflicted = conflict::has_conflicts(doc, &fields)?;
            let filing = application::filing(&app);
            let last_certified = app.fields.iter().find_map(|(k, v)| match (k.as_str(), v) {
                (LAST_CERTIFIED_FIELD, FieldValue::Text(t)) => parse_ymd(t).map(format_ymd),
                _ => None,
            });
            tx.prepare_cached(
                "INSERT INTO applications (doc_id, resident, service, status, conflicted,
                                           created_at, updated_at, filed_on, reference,
                                           last_certified_on)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (doc_id) DO UPDATE SET status = excluded.status,
                        conflicted = excluded.conflicted, updated_at = excluded.updated_at,
                        filed_on = excluded.filed_on, reference = excluded.reference,
                        last_certified_on = excluded.last_certified_on",
            )?
            .execute(params![
                id.as_str(),
                app.resident,
                app.service,
                app.status.as_str(),
                conflicted,
                app.created_at,
                now,
                filing.map(|e| format_ymd(china_date(e.at))),
                filing.map(|e| e.text.trim()).unwrap_or_default(),
                last_certified,
            ])?;
            Ok(conflicted)
        }
        authorization::KIND => {
            let a = authorization::read(doc)?;
            let conflicted = conflict::has_conflicts(doc, authorization::FIELDS)?;
            tx.prepare_cached(
                "INSERT INTO authorizations (doc_id, resident, valid_to, revoked, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (doc_id) DO UPDATE SET valid_to = excluded.valid_to,
                        revoked = excluded.revoked",
            )?
            .execute(params![
                id.as_str(),
                a.resident,
                a.valid_to,
                a.revoked,
                a.created_at
            ])?;
            Ok(conflicted)
        }
        visit::KIND => project_visit(tx, id, doc, now),
        _ => Err(DeviceError::UnknownKind(kind)),
    }
}

/// The committee a record belongs to: as the server named it (`column`), or else `home`,
/// the device's only committee (read once per list with `Device::home_committee`).
pub(crate) fn committee_or(column: Option<String>, home: Option<&str>) -> String {
    column.unwrap_or_else(|| home.unwrap_or_default().to_owned())
}

/// Rewrites a resident's projection rows from their document.
pub(crate) fn project_resident(
    tx: &Transaction<'_>,
    id: &DocId,
    doc: &mut AutoCommit,
    now: i64,
) -> Result<ResidentSummary, DeviceError> {
    project_resident_fields(tx, id, doc, &Fields::scan(doc), now)
}

/// The resident fields the list's row holds (see `project_resident_fields`), besides
/// whether the record is conflicted.
pub(crate) const LISTED: &[&str] = &[
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "address",
];

/// A resident's list entry from `fields`, when its row is already up to date.
pub(crate) fn summary_of(id: &DocId, fields: &Fields) -> ResidentSummary {
    let id_number = fields.text("id_number");
    ResidentSummary {
        id: id.clone(),
        id_number_masked: mask_tail(&id_number, 4),
        phone_masked: mask_phone(&fields.text("phone")),
        name: fields.text("name"),
        conflicted: fields.any_conflict(resident::FIELDS),
        created_at: fields.time("created_at").unwrap_or_default(),
    }
}

/// Rewrites a resident's projection rows from `fields`, the current fields of `doc`.
pub(crate) fn project_resident_fields(
    tx: &Transaction<'_>,
    id: &DocId,
    doc: &AutoCommit,
    fields: &Fields,
    now: i64,
) -> Result<ResidentSummary, DeviceError> {
    let r = resident::read_fields(doc, fields)?;
    let conflicted = fields.any_conflict(resident::FIELDS);
    let stored_name: Option<String> = tx
        .prepare_cached("SELECT name FROM residents WHERE doc_id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    tx.prepare_cached(
        "INSERT INTO residents (doc_id, name, id_number, id_rev, phone, phone_rev, gender,
                                birth_date, conflicted, created_at, updated_at, address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (doc_id) DO UPDATE SET
            name = excluded.name, id_number = excluded.id_number, id_rev = excluded.id_rev,
            phone = excluded.phone, phone_rev = excluded.phone_rev, gender = excluded.gender,
            birth_date = excluded.birth_date, conflicted = excluded.conflicted,
            updated_at = excluded.updated_at, address = excluded.address
         -- an edit of a field the lists do not show leaves the row (and its pages) alone
         WHERE (name, id_number, phone, gender, birth_date, conflicted, address)
               IS NOT (excluded.name, excluded.id_number, excluded.phone, excluded.gender,
                       excluded.birth_date, excluded.conflicted, excluded.address)",
    )?
    .execute(params![
        id.as_str(),
        r.name,
        r.id_number,
        search::reversed(&r.id_number),
        r.phone,
        search::reversed(&r.phone),
        r.gender,
        r.birth_date,
        conflicted,
        r.created_at,
        now,
        r.address
    ])?;
    if stored_name.as_deref() != Some(r.name.as_str()) {
        index_name(tx, id, &r.name, r.created_at)?;
    }
    Ok(ResidentSummary {
        id: id.clone(),
        id_number_masked: mask_tail(&r.id_number, 4),
        phone_masked: mask_phone(&r.phone),
        name: r.name,
        conflicted,
        created_at: r.created_at,
    })
}

/// Rewrites the search keys of a resident's name: pinyin keys and character grams.
fn index_name(
    tx: &Transaction<'_>,
    id: &DocId,
    name: &str,
    created_at: i64,
) -> Result<(), DeviceError> {
    tx.prepare_cached("DELETE FROM resident_keys WHERE doc_id = ?1")?
        .execute([id.as_str()])?;
    tx.prepare_cached("DELETE FROM resident_grams WHERE doc_id = ?1")?
        .execute([id.as_str()])?;
    // Each gram once, at its first position (what instr() would answer).
    let chars: Vec<char> = name.chars().collect();
    let mut first_pos: std::collections::BTreeMap<String, usize> =
        std::collections::BTreeMap::new();
    for (i, c) in chars.iter().enumerate() {
        first_pos.entry(c.to_string()).or_insert(i);
        if let Some(next) = chars.get(i + 1) {
            first_pos.entry(format!("{c}{next}")).or_insert(i);
        }
    }
    for (gram, pos) in first_pos {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO resident_grams (gram, pos, created_at, doc_id)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![gram, pos as i64, created_at, id.as_str()])?;
    }
    let (initials, full) = search::name_keys(name);
    for key in initials
        .split(' ')
        .chain(full.split(' '))
        .filter(|k| !k.is_empty())
    {
        tx.prepare_cached("INSERT OR IGNORE INTO resident_keys (key, doc_id) VALUES (?1, ?2)")?
            .execute(params![key, id.as_str()])?;
    }
    Ok(())
}

/// Rewrites a visit plan's row; returns whether its assignment is conflicted.
fn project_visit(
    tx: &Transaction<'_>,
    id: &DocId,
    doc: &AutoCommit,
    now: i64,
) -> Result<bool, DeviceError> {
    let plan = visit::read(doc)?;
    let conflicted = conflict::has_conflicts(doc, visit::FIELDS)?;
    let open = visit::open_visit(&plan);
    let last = plan.outcomes.last();
    let (assignee, assignee_name) = match (&open, &plan.assignment) {
        (Some(o), _) => (o.assignee.as_str(), o.assignee_name.as_str()),
        (None, Some(a)) => (a.assignee.as_str(), a.assignee_name.as_str()),
        (None, None) => ("", ""),
    };
    tx.prepare_cached(
        "INSERT INTO visits (doc_id, resident, assignee, assignee_name, due, purpose, service,
                             proposed, conflicted, last_outcome, last_visited, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (doc_id) DO UPDATE SET
            resident = excluded.resident, assignee = excluded.assignee,
            assignee_name = excluded.assignee_name, due = excluded.due,
            purpose = excluded.purpose, service = excluded.service,
            proposed = excluded.proposed, conflicted = excluded.conflicted,
            last_outcome = excluded.last_outcome, last_visited = excluded.last_visited,
            updated_at = excluded.updated_at",
    )?
    .execute(params![
        id.as_str(),
        plan.resident,
        assignee,
        assignee_name,
        open.as_ref().map(|o| o.due.as_str()).unwrap_or_default(),
        open.as_ref()
            .map(|o| o.purpose.as_str())
            .unwrap_or_default(),
        open.as_ref()
            .map(|o| o.service.as_str())
            .unwrap_or_default(),
        open.as_ref().is_some_and(|o| o.proposed),
        conflicted,
        last.and_then(|o| o.outcome)
            .map(|o| o.as_str())
            .unwrap_or_default(),
        last.map(|o| o.on.as_str()).unwrap_or_default(),
        now,
    ])?;
    Ok(conflicted)
}
