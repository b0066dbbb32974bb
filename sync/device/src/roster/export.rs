//! Exports: residents as a roster (the columns an import reads, so an export imports
//! again unchanged) and applications as a table in the supervisor's language, to XLSX
//! (rust_xlsxwriter) or CSV, personal numbers masked unless the PIN was given.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use doorstep_core::DocId;
use doorstep_core::ErrorCode;
use doorstep_core::id_number::mask_tail;
use doorstep_core::value::FieldValue;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::Format;
use super::cell::file_error;
use super::read::COLUMNS;
use crate::device::{Device, mask_phone};
use crate::error::DeviceError;
use crate::projection::committee_or;
use doorstep_core::date::{china_date, format_ymd};

/// The committee column of an export (ignored on import: the importer chooses).
const COMMITTEE_HEADER: &str = "委员会";

/// Which applications an export takes (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
                    let fail = |e: csv::Error| file_error(ErrorCode::ExportFailed, e.to_string());
                    writer.write_record(&self.headers).map_err(fail)?;
                    for (i, row) in self.rows.iter().enumerate() {
                        writer.write_record(row).map_err(fail)?;
                        if i % step == 0 {
                            progress(i, total);
                        }
                    }
                    writer
                        .flush()
                        .map_err(|e| file_error(ErrorCode::ExportFailed, e.to_string()))?;
                }
                progress(total, total);
                Ok(out)
            }
            Format::Xlsx => {
                let fail = |e: rust_xlsxwriter::XlsxError| {
                    file_error(ErrorCode::ExportFailed, e.to_string())
                };
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

/// A file written into the exports folder.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Exported {
    pub path: String,
    pub rows: usize,
    pub revealed: bool,
}

/// Saves an export in `dir` as `<stem> <yyyymmdd>-<hhmm>.<ext>` (China time), never over an earlier
/// one: a second export in the same minute gets ` (2)`.
pub fn save_export(
    dir: &Path,
    stem: &str,
    format: Format,
    bytes: &[u8],
    rows: usize,
    revealed: bool,
    now: i64,
) -> Result<Exported, DeviceError> {
    let ext = match format {
        Format::Xlsx => "xlsx",
        Format::Csv => "csv",
    };
    save_file(dir, stem, ext, bytes, rows, revealed, now)
}

/// [`save_export`] of a file of any extension (a printable PDF).
pub fn save_file(
    dir: &Path,
    stem: &str,
    ext: &str,
    bytes: &[u8],
    rows: usize,
    revealed: bool,
    now: i64,
) -> Result<Exported, DeviceError> {
    let (y, m, day) = china_date(now);
    let minutes = (now + 8 * 3_600_000).rem_euclid(86_400_000) / 60_000;
    let base = format!(
        "{stem} {y:04}{m:02}{day:02}-{:02}{:02}",
        minutes / 60,
        minutes % 60
    );
    let path = (1..)
        .map(|n| match n {
            1 => dir.join(format!("{base}.{ext}")),
            n => dir.join(format!("{base} ({n}).{ext}")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{base}.{ext}")));
    crate::file_out::write_whole(&path, bytes).map_err(|e| DeviceError::File {
        code: ErrorCode::ExportUnwritable,
        reason: format!("{}: {e}", path.display()),
    })?;
    Ok(Exported {
        path: path.display().to_string(),
        rows,
        revealed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_named_by_china_time_and_never_overwrite() {
        let dir = tempfile::tempdir().expect("temp dir");
        // 2026-11-30 17:30 UTC is 1 December, 01:30, in China.
        let now = 1_796_059_800_000;
        let first = save_export(dir.path(), "申请", Format::Csv, b"a", 1, false, now).expect("one");
        let second = save_export(dir.path(), "申请", Format::Csv, b"b", 1, true, now).expect("two");
        assert!(
            first.path.ends_with("申请 20261201-0130.csv"),
            "{}",
            first.path
        );
        assert!(
            second.path.ends_with("申请 20261201-0130 (2).csv"),
            "{}",
            second.path
        );
        assert!(second.revealed && !first.revealed);
        assert_eq!(std::fs::read(&first.path).expect("first kept"), b"a");
    }
}
