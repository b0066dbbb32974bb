//! Rosters in and out: a committee's roster of elderly residents read from XLSX or CSV
//! (calamine, csv) with every row validated before anything is saved, imported in
//! batches without ever registering an ID number twice; and exports of residents and
//! applications to XLSX (rust_xlsxwriter) and CSV, ID numbers and phones masked unless
//! the caller has confirmed the supervisor's PIN.
//!
//! A roster's first row names its columns, in Chinese or English (`姓名`/`name`,
//! `身份证号`/`id_number`, `电话`/`phone`, `性别`/`gender`, `出生日期`/`birth_date`,
//! `地址`/`address`); other columns are ignored and said so in the preview. The residents
//! export writes the same columns, so an export imports again unchanged.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use automerge::AutoCommit;
use calamine::{Data, Reader};
use doorstep_core::DocId;
use doorstep_core::error::CoreError;
use doorstep_core::id_number::mask_tail;
use doorstep_core::resident::{self, ResidentInput};
use doorstep_core::value::FieldValue;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::console::{china_date, committee_or, format_ymd};
use crate::device::{Device, civil_from_days, mask_phone, new_doc_id, now_ms, project_resident};
use crate::docs;
use crate::error::DeviceError;

/// Rows saved per transaction: a crash loses at most one batch, and importing the file
/// again adds only what is missing.
pub const IMPORT_BATCH: usize = 1000;

/// The largest roster read (rows after the header).
pub const MAX_ROWS: usize = 200_000;

/// The columns a roster may have, with the header names accepted for each (the first
/// is the one exports write).
const COLUMNS: &[(&str, &[&str])] = &[
    ("name", &["姓名", "name", "名字"]),
    (
        "id_number",
        &[
            "身份证号",
            "id_number",
            "身份证号码",
            "公民身份号码",
            "身份证",
        ],
    ),
    ("phone", &["电话", "phone", "手机", "手机号", "联系电话"]),
    ("gender", &["性别", "gender"]),
    ("birth_date", &["出生日期", "birth_date", "出生年月日"]),
    ("address", &["地址", "address", "住址", "家庭住址"]),
];

/// The committee column of an export (ignored on import: the importer chooses).
const COMMITTEE_HEADER: &str = "委员会";

/// A file format of rosters and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    /// The format a file name says.
    pub fn of_name(name: &str) -> Option<Format> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".xls") {
            Some(Format::Xlsx)
        } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// One reason a roster row is refused: the column and a code the UI translates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// `name`, `id_number`, … or `row`.
    pub field: String,
    pub code: String,
}

/// A refused row: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    pub line: usize,
    /// The name as written (for the person fixing the file; never logged).
    pub name: String,
    pub problems: Vec<RowProblem>,
}

/// A roster as read from its file.
#[derive(Debug, Clone)]
pub struct Roster {
    /// Each header and the column it was taken as (`None`: ignored).
    pub headers: Vec<(String, Option<String>)>,
    /// `(line, input)` of every non-empty row.
    pub rows: Vec<(usize, ResidentInput)>,
    /// Rows that could not even be read as a resident (a numeric ID number cell).
    pub unreadable: Vec<RejectedRow>,
}

/// What importing a roster would do, shown before anything is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterPreview {
    pub headers: Vec<(String, Option<String>)>,
    /// Non-empty rows in the file.
    pub rows: usize,
    /// Rows that would be added.
    pub new: usize,
    /// Rows whose ID number is already registered (skipped).
    pub already_registered: usize,
    pub rejected: Vec<RejectedRow>,
    /// The first rows that would be added, masked (name, ID, phone).
    pub sample: Vec<PreviewRow>,
}

/// One row of the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    pub line: usize,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub birth_date: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub already_registered: usize,
    pub rejected: Vec<RejectedRow>,
}

/// Reads a roster from the bytes of an XLSX or CSV file (the first sheet of a workbook).
pub fn read_roster(bytes: &[u8], format: Format) -> Result<Roster, DeviceError> {
    let table = match format {
        Format::Xlsx => read_xlsx(bytes)?,
        Format::Csv => read_csv(bytes)?,
    };
    let mut lines = table.into_iter();
    let Some((_, header_cells)) = lines.next() else {
        return Err(file_error("roster_empty", "the file has no rows"));
    };
    let headers: Vec<(String, Option<String>)> = header_cells
        .iter()
        .map(|cell| {
            let text = cell.text();
            let column = column_of(&text).map(str::to_owned);
            (text, column)
        })
        .collect();
    for required in ["name", "id_number"] {
        if !headers.iter().any(|(_, c)| c.as_deref() == Some(required)) {
            return Err(file_error(
                "roster_columns",
                format!("the first row names no {required} column"),
            ));
        }
    }
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for (line, cells) in lines {
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        if rows.len() + unreadable.len() >= MAX_ROWS {
            return Err(file_error(
                "roster_too_large",
                format!("a roster may have at most {MAX_ROWS} rows; split the file"),
            ));
        }
        let mut input = ResidentInput::default();
        let mut problems = Vec::new();
        for (i, (_, column)) in headers.iter().enumerate() {
            let Some(column) = column else {
                continue;
            };
            let cell = cells.get(i).cloned().unwrap_or(Cell::Text(String::new()));
            let text = cell.text();
            match column.as_str() {
                "name" => input.name = text,
                "id_number" => {
                    if matches!(cell, Cell::Number(_)) {
                        // Excel keeps 15 digits of a number: the ID is already damaged.
                        problems.push(RowProblem {
                            field: "id_number".into(),
                            code: "id_number_not_text".into(),
                        });
                    }
                    input.id_number = text;
                }
                "phone" => input.phone = text,
                "gender" => input.gender = gender_code(&text),
                "birth_date" => input.birth_date = text,
                "address" => input.address = text,
                _ => {}
            }
        }
        if problems.is_empty() {
            rows.push((line, input));
        } else {
            unreadable.push(RejectedRow {
                line,
                name: input.name.trim().to_owned(),
                problems,
            });
        }
    }
    Ok(Roster {
        headers,
        rows,
        unreadable,
    })
}

/// A cell as read: text, or a number (which an ID number must not be).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) | Cell::Number(t) => t.trim().to_owned(),
        }
    }
}

fn file_error(code: &'static str, reason: impl Into<String>) -> DeviceError {
    DeviceError::File {
        code,
        reason: reason.into(),
    }
}

fn column_of(header: &str) -> Option<&'static str> {
    let header = header.trim().trim_start_matches('\u{feff}');
    COLUMNS
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(header)))
        .map(|(column, _)| *column)
}

/// `男`/`女` and the English words as the codes residents use; anything else as written
/// (and refused by validation).
fn gender_code(text: &str) -> String {
    match text.trim().to_ascii_lowercase().as_str() {
        "男" | "m" | "male" => "male".into(),
        "女" | "f" | "female" => "female".into(),
        other => other.to_owned(),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(usize, Vec<Cell>)>, DeviceError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        file_error(
            "roster_unreadable",
            format!("not a spreadsheet this app reads: {e}"),
        )
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| file_error("roster_empty", "the workbook has no sheet"))?
        .map_err(|e| file_error("roster_unreadable", format!("the first sheet: {e}")))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .map(|cell| match cell {
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        Cell::Text(s.clone())
                    }
                    Data::Int(n) => Cell::Number(n.to_string()),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e18 => {
                        Cell::Number(format!("{f:.0}"))
                    }
                    Data::Float(f) => Cell::Number(f.to_string()),
                    Data::DateTime(d) => {
                        // Excel's day 25,569 is 1970-01-01.
                        let days = d.as_f64().floor() as i64 - 25_569;
                        Cell::Text(format_ymd(civil_from_days(days)))
                    }
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    Data::Error(_) | Data::Empty => Cell::Text(String::new()),
                })
                .collect();
            (first_row + i + 1, cells)
        })
        .collect())
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<Cell>)>, DeviceError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        file_error(
            "roster_encoding",
            "the CSV file is not UTF-8; save it as \"CSV UTF-8\"",
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_error("roster_unreadable", e.to_string()))?;
        let line = record
            .position()
            .map_or(out.len() + 1, |p| p.line() as usize);
        out.push((
            line,
            record
                .iter()
                .map(|field| Cell::Text(field.to_owned()))
                .collect(),
        ));
    }
    Ok(out)
}

/// The problems of a validation error, as row problems.
fn problems_of(e: &CoreError) -> Vec<RowProblem> {
    match e {
        CoreError::Invalid(errors) => errors
            .0
            .iter()
            .map(|f| RowProblem {
                field: f.field.as_str().to_owned(),
                code: f.code.to_owned(),
            })
            .collect(),
        other => vec![RowProblem {
            field: "row".into(),
            code: other.code().to_owned(),
        }],
    }
}

/// A roster's rows sorted into those to add, those already registered and the refused.
struct Sorted {
    new: Vec<(usize, resident::ValidResident)>,
    already_registered: usize,
    rejected: Vec<RejectedRow>,
}

impl Device {
    /// Validates every row of a roster against the rules and the residents already on
    /// this device, without saving anything.
    pub fn preview_roster(&self, roster: &Roster) -> Result<RosterPreview, DeviceError> {
        let sorted = self.sort_roster(roster)?;
        let sample = sorted
            .new
            .iter()
            .take(20)
            .map(|(line, v)| PreviewRow {
                line: *line,
                name: v.name.clone(),
                id_number_masked: mask_tail(v.id_number.as_str(), 4),
                phone_masked: mask_phone(&v.phone),
                birth_date: format_ymd(v.id_number.birth_date()),
            })
            .collect();
        Ok(RosterPreview {
            headers: roster.headers.clone(),
            rows: roster.rows.len() + roster.unreadable.len(),
            new: sorted.new.len(),
            already_registered: sorted.already_registered,
            rejected: sorted.rejected,
            sample,
        })
    }

    /// Imports a roster into `committee` (required on a device with several): every
    /// valid row whose ID number is not registered yet becomes a resident; the others
    /// are reported. Saved in batches of [`IMPORT_BATCH`], `progress(done, total)` told
    /// after each; importing the same file again adds nothing.
    pub fn import_roster(
        &mut self,
        roster: &Roster,
        committee: Option<&str>,
        progress: &dyn Fn(usize, usize),
    ) -> Result<ImportReport, DeviceError> {
        let committee = self.committee_for_new(committee)?;
        let sorted = self.sort_roster(roster)?;
        let total = sorted.new.len();
        progress(0, total);
        let mut added = 0;
        let note = self.note("import_roster");
        for batch in sorted.new.chunks(IMPORT_BATCH) {
            let now = now_ms();
            let actor = self.actor.clone();
            let tx = self.store.transaction()?;
            for (_, valid) in batch {
                // Checked again inside the transaction: another import may have added it.
                let taken: Option<i64> = tx
                    .prepare_cached("SELECT 1 FROM residents WHERE id_number = ?1")?
                    .query_row([valid.id_number.as_str()], |r| r.get(0))
                    .optional()?;
                if taken.is_some() {
                    continue;
                }
                let id = new_doc_id();
                let mut doc = AutoCommit::new().with_actor(actor.clone());
                resident::write_new(&mut doc, valid, now)?;
                note.commit(&mut doc, now);
                docs::insert_new(&tx, &id, resident::KIND, &mut doc, now)?;
                if let Some(c) = &committee {
                    tx.execute(
                        "UPDATE docs SET committee = ?2 WHERE doc_id = ?1",
                        params![id.as_str(), c],
                    )?;
                }
                project_resident(&tx, &id, &mut doc, now)?;
                added += 1;
            }
            tx.commit()?;
            progress(added.min(total), total);
        }
        tracing::info!(added, "imported a roster");
        Ok(ImportReport {
            rows: roster.rows.len() + roster.unreadable.len(),
            added,
            already_registered: sorted.already_registered + (total - added),
            rejected: sorted.rejected,
        })
    }

    /// The committee a record made on this device belongs to: the one asked for (it
    /// must be one of the device's), or the device's only one.
    pub(crate) fn committee_for_new(
        &self,
        asked: Option<&str>,
    ) -> Result<Option<String>, DeviceError> {
        let asked = asked.map(str::trim).filter(|c| !c.is_empty());
        let Some(enrollment) = self.enrollment()? else {
            return Ok(asked.map(str::to_owned));
        };
        match asked {
            Some(c) if enrollment.committees.iter().any(|k| k.id == c) => Ok(Some(c.to_owned())),
            Some(c) => Err(file_error(
                "committee_not_yours",
                format!("committee {c} is not one of this device's"),
            )),
            None if enrollment.committees.len() == 1 => {
                Ok(Some(enrollment.committees[0].id.clone()))
            }
            None => Err(file_error(
                "committee_required",
                "choose the committee the roster belongs to",
            )),
        }
    }

    fn sort_roster(&self, roster: &Roster) -> Result<Sorted, DeviceError> {
        let mut rejected = roster.unreadable.clone();
        let mut new = Vec::new();
        let mut already_registered = 0;
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut stmt = self
            .store
            .conn()
            .prepare_cached("SELECT 1 FROM residents WHERE id_number = ?1")?;
        for (line, input) in &roster.rows {
            let valid = match input.validate() {
                Ok(v) => v,
                Err(e) => {
                    rejected.push(RejectedRow {
                        line: *line,
                        name: input.name.trim().to_owned(),
                        problems: problems_of(&e),
                    });
                    continue;
                }
            };
            let key = valid.id_number.as_str().to_owned();
            if let Some(first) = seen.get(&key) {
                rejected.push(RejectedRow {
                    line: *line,
                    name: valid.name.clone(),
                    problems: vec![RowProblem {
                        field: "id_number".into(),
                        code: format!("id_duplicate_in_file:{first}"),
                    }],
                });
                continue;
            }
            seen.insert(key.clone(), *line);
            let registered = stmt
                .query_row([key.as_str()], |r| r.get::<_, i64>(0))
                .optional()?
                .is_some();
            if registered {
                already_registered += 1;
            } else {
                new.push((*line, valid));
            }
        }
        rejected.sort_by_key(|r| r.line);
        Ok(Sorted {
            new,
            already_registered,
            rejected,
        })
    }
}

// --- exports --------------------------------------------------------------------

/// Which applications an export takes (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFilter {
    #[serde(default)]
    pub committee: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Created at or after (ms).
    #[serde(default)]
    pub from: Option<i64>,
    /// Created before (ms).
    #[serde(default)]
    pub to: Option<i64>,
}

/// A table ready to be written: headers and rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The table as a file of `format`; `progress(done, total)` told as rows are written.
    pub fn write(
        &self,
        format: Format,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Vec<u8>, DeviceError> {
        let total = self.rows.len();
        let step = (total / 50).max(100);
        match format {
            Format::Csv => {
                // A BOM, so that Excel opens the Chinese text as UTF-8.
                let mut out = "\u{feff}".as_bytes().to_vec();
                {
                    let mut writer = csv::Writer::from_writer(&mut out);
                    let fail = |e: csv::Error| file_error("export_failed", e.to_string());
                    writer.write_record(&self.headers).map_err(fail)?;
                    for (i, row) in self.rows.iter().enumerate() {
                        writer.write_record(row).map_err(fail)?;
                        if i % step == 0 {
                            progress(i, total);
                        }
                    }
                    writer
                        .flush()
                        .map_err(|e| file_error("export_failed", e.to_string()))?;
                }
                progress(total, total);
                Ok(out)
            }
            Format::Xlsx => {
                let fail =
                    |e: rust_xlsxwriter::XlsxError| file_error("export_failed", e.to_string());
                let mut workbook = rust_xlsxwriter::Workbook::new();
                let sheet = workbook.add_worksheet();
                let bold = rust_xlsxwriter::Format::new().set_bold();
                for (c, header) in self.headers.iter().enumerate() {
                    sheet
                        .write_string_with_format(0, c as u16, header, &bold)
                        .map_err(fail)?;
                }
                for (r, row) in self.rows.iter().enumerate() {
                    for (c, value) in row.iter().enumerate() {
                        // Everything as text: an ID number must never become a number.
                        sheet
                            .write_string((r + 1) as u32, c as u16, value)
                            .map_err(fail)?;
                    }
                    if r % step == 0 {
                        progress(r, total);
                    }
                }
                sheet.set_freeze_panes(1, 0).map_err(fail)?;
                let bytes = workbook.save_to_buffer().map_err(fail)?;
                progress(total, total);
                Ok(bytes)
            }
        }
    }
}

impl Device {
    /// Every resident (of `committee`, or all) as a roster table, in the columns a roster
    /// import reads. ID numbers and phones are masked unless `reveal`.
    pub fn residents_table(
        &self,
        committee: Option<&str>,
        reveal: bool,
    ) -> Result<Table, DeviceError> {
        let home = self.home_committee();
        let mut stmt = self.store.conn().prepare(
            "SELECT r.doc_id, d.committee FROM residents r JOIN docs d ON d.doc_id = r.doc_id
             WHERE d.quarantined IS NULL ORDER BY r.created_at, r.doc_id",
        )?;
        let ids: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| r.try_into())?
            .collect::<Result<_, _>>()?;
        let mut headers: Vec<String> = COLUMNS.iter().map(|(_, n)| n[0].to_owned()).collect();
        headers.push(COMMITTEE_HEADER.to_owned());
        let mut rows = Vec::with_capacity(ids.len());
        for (id, c) in ids {
            let c = committee_or(c, home.as_deref());
            if committee.is_some_and(|want| want != c) {
                continue;
            }
            let Some(id) = DocId::parse(&id) else {
                continue;
            };
            let r = self.resident(&id)?;
            rows.push(vec![
                r.name,
                if reveal {
                    r.id_number.clone()
                } else {
                    mask_tail(&r.id_number, 4)
                },
                if reveal {
                    r.phone.clone()
                } else {
                    mask_phone(&r.phone)
                },
                match r.gender.as_str() {
                    "male" => "男".into(),
                    "female" => "女".into(),
                    other => other.to_owned(),
                },
                r.birth_date,
                r.address,
                c,
            ]);
        }
        Ok(Table { headers, rows })
    }

    /// The applications `filter` selects as a table: `labels` are the column headers
    /// and status names in the supervisor's language (keys: `reference`, `resident`,
    /// `id_number`, `phone`, `service`, `status`, `committee`, `created_at`,
    /// `submitted_by`, `decision`, `fields`, and `status.<code>`); `lang` chooses the
    /// catalog's service and field names (`zh-CN` or `en`).
    pub fn applications_table(
        &self,
        filter: &ExportFilter,
        labels: &BTreeMap<String, String>,
        lang: &str,
        reveal: bool,
    ) -> Result<Table, DeviceError> {
        let label = |key: &str| labels.get(key).cloned().unwrap_or_else(|| key.to_owned());
        let home = self.home_committee();
        let mut stmt = self.store.conn().prepare(
            "SELECT a.doc_id, a.resident, a.service, a.status, a.created_at, d.committee
             FROM applications a JOIN docs d ON d.doc_id = a.doc_id
             WHERE d.quarantined IS NULL
               AND (?1 IS NULL OR a.service = ?1) AND (?2 IS NULL OR a.status = ?2)
               AND (?3 IS NULL OR a.created_at >= ?3) AND (?4 IS NULL OR a.created_at < ?4)
             ORDER BY a.created_at, a.doc_id",
        )?;
        type Row = (String, String, String, String, i64, Option<String>);
        let found: Vec<Row> = stmt
            .query_map(
                params![
                    filter.service.as_deref().filter(|s| !s.is_empty()),
                    filter.status.as_deref().filter(|s| !s.is_empty()),
                    filter.from,
                    filter.to
                ],
                |r| r.try_into(),
            )?
            .collect::<Result<_, _>>()?;
        let headers = [
            "reference",
            "resident",
            "id_number",
            "phone",
            "service",
            "status",
            "committee",
            "created_at",
            "submitted_by",
            "decision",
            "fields",
        ]
        .iter()
        .map(|k| label(k))
        .collect();
        // The committee as people call it, not its id.
        let committee_names: HashMap<String, String> = self
            .enrollment()?
            .map(|e| e.committees.into_iter().map(|c| (c.id, c.name)).collect())
            .unwrap_or_default();
        let mut residents: HashMap<String, (String, String, String)> = HashMap::new();
        let mut rows = Vec::with_capacity(found.len());
        let want_committee = filter.committee.as_deref().filter(|c| !c.is_empty());
        for (doc_id, resident_id, service_code, status, created_at, c) in found {
            let c = committee_or(c, home.as_deref());
            if want_committee.is_some_and(|want| want != c) {
                continue;
            }
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            let app = self.application(&id)?;
            if !residents.contains_key(&resident_id) {
                let person = DocId::parse(&resident_id)
                    .and_then(|rid| self.resident(&rid).ok())
                    .map(|r| (r.name, r.id_number, r.phone))
                    .unwrap_or_default();
                residents.insert(resident_id.clone(), person);
            }
            let (name, id_number, phone) = residents.get(&resident_id).cloned().unwrap_or_default();
            let service = self.catalog.service(&service_code);
            let service_name =
                service.map_or(service_code.clone(), |s| s.name.get(lang).to_owned());
            let fields: Vec<String> = app
                .fields
                .iter()
                .filter(|(_, v)| *v != FieldValue::Null)
                .map(|(k, v)| {
                    let def = service.and_then(|s| s.field(k));
                    let name = def.map_or(k.clone(), |f| f.label.get(lang).to_owned());
                    let shown = match v {
                        FieldValue::Text(t) => def
                            .and_then(|f| f.options.iter().find(|o| &o.value == t))
                            .map_or(t.clone(), |o| o.label.get(lang).to_owned()),
                        FieldValue::Bool(b) => label(if *b { "yes" } else { "no" }),
                        FieldValue::Int(n) => n.to_string(),
                        FieldValue::Time(t) => format_ymd(china_date(*t)),
                        FieldValue::Null => String::new(),
                    };
                    // Accounts and phones in the form follow the rule of the columns.
                    let shown = match def {
                        Some(def) if !reveal => doorstep_core::mask::mask_text(def, &shown),
                        _ => shown,
                    };
                    format!("{name}: {shown}")
                })
                .collect();
            let submitted_by = app
                .events
                .iter()
                .rev()
                .find(|e| e.kind == doorstep_core::application::EventKind::Submitted)
                .map(|e| e.by.clone())
                .unwrap_or_default();
            let decision = app
                .events
                .iter()
                .rev()
                .find(|e| {
                    use doorstep_core::application::EventKind::*;
                    matches!(e.kind, Returned | Approved | Rejected | Filed)
                })
                .map(|e| {
                    let when = format_ymd(china_date(e.at));
                    if e.text.is_empty() {
                        format!(
                            "{} {when} {}",
                            label(&format!("status.{}", e.kind.as_str())),
                            e.by
                        )
                    } else {
                        format!(
                            "{} {when} {}: {}",
                            label(&format!("status.{}", e.kind.as_str())),
                            e.by,
                            e.text
                        )
                    }
                })
                .unwrap_or_default();
            rows.push(vec![
                crate::receipt::reference(&id),
                name,
                if reveal {
                    id_number
                } else {
                    mask_tail(&id_number, 4)
                },
                if reveal { phone } else { mask_phone(&phone) },
                service_name,
                label(&format!("status.{status}")),
                committee_names.get(&c).cloned().unwrap_or(c),
                format_ymd(china_date(created_at)),
                submitted_by,
                decision,
                fields.join("；"),
            ]);
        }
        Ok(Table { headers, rows })
    }
}
