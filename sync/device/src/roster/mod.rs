//! Rosters in and out: a committee's roster of elderly residents read from XLSX, XLS or
//! CSV ([`read`], any sheet of a workbook; titles, totals and notes left out and listed;
//! cells merged over rows filled down, [`merged`]) with every row validated before
//! anything is saved, imported in batches without ever registering an ID number twice;
//! and exports of residents and applications to XLSX and CSV ([`export`]), ID numbers
//! and phones masked unless the caller has confirmed the supervisor's PIN.
//!
//! A roster names its columns in a header row, in Chinese or English (`姓名`/`name`,
//! `身份证号`/`id_number`, `电话`/`phone`, `性别`/`gender`, `出生日期`/`birth_date`,
//! `地址`/`address`, and the variants people write), found among its first lines; where
//! the file does not say, a person lays it out ([`RosterLayout`]). Other columns are
//! ignored and said so in the preview. The residents export writes the same columns, so
//! an export imports again unchanged.

mod bounds;
mod cell;
mod export;
mod merged;
mod read;
mod xlsx;

pub use export::{ExportFilter, Exported, Table, save_export, save_file};
pub use merged::MergedCells;
pub use read::{IgnoredKind, IgnoredLine, Roster, RosterLayout, read_roster, read_roster_as};

/// The largest roster read (rows after the header).
pub const MAX_ROWS: usize = 200_000;

use std::collections::HashMap;

use automerge::AutoCommit;
use doorstep_core::ErrorCode;
use doorstep_core::error::CoreError;
use doorstep_core::id_number::mask_tail;
use doorstep_core::resident;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::device::{Device, mask_phone, new_doc_id};
use crate::docs;
use crate::error::DeviceError;
use crate::projection::project_resident;
use cell::file_error;
use doorstep_core::date::format_ymd;

/// Rows saved per transaction: a crash loses at most one batch, importing the file again
/// adds only what is missing, and the window waits at most one batch (~50 ms) for the
/// device.
pub const IMPORT_BATCH: usize = 100;

/// A file format of rosters and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RowProblem {
    /// `name`, `id_number`, … or `row`.
    pub field: String,
    pub code: ErrorCode,
    /// For `id_duplicate_in_file`: the line that first has the same ID number.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub first_line: Option<usize>,
}

/// A refused row: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RejectedRow {
    pub line: usize,
    /// The name as written (for the person fixing the file; never logged).
    pub name: String,
    pub problems: Vec<RowProblem>,
}

/// What importing a roster would do, shown before anything is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RosterPreview {
    /// A workbook's sheets (none for a CSV file), and the one read.
    pub sheets: Vec<String>,
    pub sheet: Option<String>,
    /// Lines left out (titles, totals, notes): the first hundred, and how many in all.
    pub ignored: Vec<IgnoredLine>,
    pub ignored_lines: usize,
    /// Cells merged over several rows of the table (an address over a household's rows):
    /// the first hundred, each filled into every row or not, and how many in all.
    pub merged: Vec<MergedCells>,
    pub merged_cells: usize,
    /// How the file was read: found in it, or as a person laid it out; `None` when the
    /// file does not say which row and columns hold the names and ID numbers.
    pub layout: Option<RosterLayout>,
    /// The file's first lines as they appear (long numbers masked), to lay it out by.
    pub head: Vec<(usize, Vec<String>)>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PreviewRow {
    pub line: usize,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub birth_date: String,
}

/// A long file task the window shows a progress bar for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Export,
    Import,
}

/// How far an export or import has got (rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct TaskProgress {
    pub task: Task,
    pub done: usize,
    pub total: usize,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub already_registered: usize,
    pub rejected: Vec<RejectedRow>,
}

fn problems_of(e: &CoreError) -> Vec<RowProblem> {
    match e {
        CoreError::Invalid(errors) => errors
            .0
            .iter()
            .map(|f| RowProblem {
                field: f.field.as_str().to_owned(),
                code: f.code,
                first_line: None,
            })
            .collect(),
        other => vec![RowProblem {
            field: "row".into(),
            code: other.code(),
            first_line: None,
        }],
    }
}

/// A roster's valid rows (each ID number once) and the refused.
struct Sorted {
    new: Vec<(usize, resident::ValidResident)>,
    rejected: Vec<RejectedRow>,
}

impl Device {
    /// Validates every row of a roster against the rules and the residents already on
    /// this device, without saving anything.
    pub fn preview_roster(&self, roster: &Roster) -> Result<RosterPreview, DeviceError> {
        let mut sorted = sort_rows(roster);
        let (fresh, already_registered) = self.not_registered(std::mem::take(&mut sorted.new))?;
        sorted.new = fresh;
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
            sheets: roster.sheets.clone(),
            sheet: roster.sheet.clone(),
            ignored: roster.ignored.clone(),
            ignored_lines: roster.ignored_lines,
            merged: roster.merged.clone(),
            merged_cells: roster.merged_cells,
            layout: roster.layout.clone(),
            head: roster.head.clone(),
            headers: roster.headers.clone(),
            rows: roster.rows.len() + roster.unreadable.len(),
            new: sorted.new.len(),
            already_registered,
            rejected: sorted.rejected,
            sample,
        })
    }

    /// Imports a roster into `committee` (required on a device with several): every
    /// valid row whose ID number is not registered yet becomes a resident; the others
    /// are reported. [`import`] with this device.
    pub fn import_roster(
        &mut self,
        roster: &Roster,
        committee: Option<&str>,
        progress: &dyn Fn(usize, usize),
    ) -> Result<ImportReport, DeviceError> {
        import(self, roster, committee, progress)
    }

    /// Saves one batch of new residents in one transaction; how many it added (a row
    /// whose ID number is registered by now is skipped).
    fn import_batch(
        &mut self,
        batch: &[(usize, resident::ValidResident)],
        committee: Option<&str>,
    ) -> Result<usize, DeviceError> {
        let note = self.note("import_roster");
        let now = self.now();
        let actor = self.actor.clone();
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        let mut added = 0;
        for (_, valid) in batch {
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
            docs::insert_new(&tx, &signer, &id, resident::KIND, &mut doc, now)?;
            if let Some(c) = committee {
                tx.execute(
                    "UPDATE docs SET committee = ?2 WHERE doc_id = ?1",
                    params![id.as_str(), c],
                )?;
            }
            project_resident(&tx, &id, &mut doc, now)?;
            added += 1;
        }
        tx.commit()?;
        Ok(added)
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
                ErrorCode::CommitteeNotYours,
                format!("committee {c} is not one of this device's"),
            )),
            None if enrollment.committees.len() == 1 => {
                Ok(Some(enrollment.committees[0].id.clone()))
            }
            None => Err(file_error(
                ErrorCode::CommitteeRequired,
                "choose the committee the roster belongs to",
            )),
        }
    }

    /// Of `rows`, those whose ID number is not registered on this device, and how many
    /// are.
    fn not_registered(
        &self,
        rows: Vec<(usize, resident::ValidResident)>,
    ) -> Result<(Vec<(usize, resident::ValidResident)>, usize), DeviceError> {
        let mut stmt = self
            .store
            .conn()
            .prepare_cached("SELECT 1 FROM residents WHERE id_number = ?1")?;
        let mut fresh = Vec::with_capacity(rows.len());
        let mut registered = 0;
        for row in rows {
            let taken = stmt
                .query_row([row.1.id_number.as_str()], |r| r.get::<_, i64>(0))
                .optional()?
                .is_some();
            if taken {
                registered += 1;
            } else {
                fresh.push(row);
            }
        }
        Ok((fresh, registered))
    }
}

/// Imports a roster into `committee` (required on a device with several), borrowing the
/// device one batch of [`IMPORT_BATCH`] rows at a time: every row is validated before
/// anything is saved (no device needed), each batch is one transaction (a crash loses at
/// most one, and importing the file again adds only what is missing), and between
/// batches the window has the device. `progress(done, total)` is told after each.
pub fn import(
    access: &mut impl crate::access::DeviceAccess,
    roster: &Roster,
    committee: Option<&str>,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, DeviceError> {
    if roster.layout.is_none() {
        return Err(file_error(
            ErrorCode::RosterColumns,
            "say which row and columns hold the names and ID numbers first",
        ));
    }
    let committee = access.with_device(|d| d.committee_for_new(committee))?;
    // Every batch is written as whoever started the import: if someone else unlocks in
    // between (a shared tablet), it stops, the batches done kept.
    let who = access.with_device(|d| Ok::<_, DeviceError>(d.active.clone()))?;
    let sorted = sort_rows(roster);
    let total = sorted.new.len();
    progress(0, total);
    let mut added = 0;
    let mut done = 0;
    for batch in sorted.new.chunks(IMPORT_BATCH) {
        added += access.with_device(|d| {
            if d.active != who {
                return Err(DeviceError::Member(ErrorCode::MemberChanged));
            }
            d.import_batch(batch, committee.as_deref())
        })?;
        done += batch.len();
        progress(done, total);
        access.between_steps();
    }
    tracing::info!(added, "imported a roster");
    Ok(ImportReport {
        rows: roster.rows.len() + roster.unreadable.len(),
        added,
        already_registered: total - added,
        rejected: sorted.rejected,
    })
}

/// A roster's rows validated and sorted into those to add (if not registered yet) and
/// those refused, without the device.
fn sort_rows(roster: &Roster) -> Sorted {
    let mut rejected = roster.unreadable.clone();
    let mut new = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
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
                    code: ErrorCode::IdDuplicateInFile,
                    first_line: Some(*first),
                }],
            });
            continue;
        }
        seen.insert(key, *line);
        new.push((*line, valid));
    }
    rejected.sort_by_key(|r| r.line);
    Sorted { new, rejected }
}
