//! Reading a roster file: its cells from XLSX (calamine) or CSV, its header row found
//! among the first lines (committee rosters open with a title), its columns recognised
//! by the names people write (`身份证号码（必填）`, `联系电话`, `性 别`) — or laid out
//! by a person where the file does not say — and every row read as a resident's input.

use doorstep_core::ErrorCode;
use doorstep_core::id_number::mask_tail;
use doorstep_core::resident::ResidentInput;
use serde::{Deserialize, Serialize};

use super::cell::{Cell, file_error};
use super::{Format, MAX_ROWS, RejectedRow, RowProblem};
use crate::error::DeviceError;

/// Lines searched for the header row: rosters often open with a title and a date.
const HEADER_SEARCH: usize = 15;

/// Lines of the file shown to a person laying it out.
const HEAD_LINES: usize = 8;

/// The columns a roster may have, with the header names accepted for each (the first
/// is the one exports write).
pub(crate) const COLUMNS: &[(&str, &[&str])] = &[
    ("name", &["姓名", "name", "名字", "老人姓名", "居民姓名"]),
    (
        "id_number",
        &[
            "身份证号",
            "id_number",
            "身份证号码",
            "公民身份号码",
            "身份证",
            "公民身份证号码",
            "证件号码",
            "身份证件号码",
        ],
    ),
    (
        "phone",
        &[
            "电话",
            "phone",
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "联系方式",
        ],
    ),
    ("gender", &["性别", "gender"]),
    (
        "birth_date",
        &["出生日期", "birth_date", "出生年月日", "出生年月"],
    ),
    (
        "address",
        &[
            "地址",
            "address",
            "住址",
            "家庭住址",
            "现住址",
            "居住地址",
            "家庭地址",
        ],
    ),
];

/// A roster as read from its file.
#[derive(Debug, Clone)]
pub struct Roster {
    /// Where its header row is and what each column holds; `None` when the file did not
    /// say and nobody has said yet.
    pub layout: Option<RosterLayout>,
    /// The file's first lines as they appear (long numbers masked).
    pub head: Vec<(usize, Vec<String>)>,
    /// Each header and the column it was taken as (`None`: ignored).
    pub headers: Vec<(String, Option<String>)>,
    /// `(line, input)` of every non-empty row.
    pub rows: Vec<(usize, ResidentInput)>,
    /// Rows that could not even be read as a resident (a numeric ID number cell).
    pub unreadable: Vec<RejectedRow>,
}

/// How a roster is laid out: the line of its header row and what each column holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RosterLayout {
    /// The file's line (from 1) naming the columns; the rows below it are read.
    pub header_line: usize,
    /// What each column holds, by position: `name`, `id_number`, `phone`, `gender`,
    /// `birth_date`, `address`, or nothing (not imported).
    pub columns: Vec<Option<String>>,
}

/// Reads a roster from the bytes of an XLSX or CSV file (the first sheet of a
/// workbook), finding its header row among the first lines. Refused with
/// `roster_columns` when no row names a name and an ID-number column: then
/// [`read_roster_as`] says what the file holds, for a person to lay it out.
pub fn read_roster(bytes: &[u8], format: Format) -> Result<Roster, DeviceError> {
    let roster = read_roster_as(bytes, format, None)?;
    if roster.layout.is_none() {
        return Err(no_layout());
    }
    Ok(roster)
}

/// Reads a roster laid out as `layout` says, or as found in the file (`None`). A file
/// whose layout cannot be found reads as its first lines only, with no layout and no
/// rows.
pub fn read_roster_as(
    bytes: &[u8],
    format: Format,
    layout: Option<&RosterLayout>,
) -> Result<Roster, DeviceError> {
    let table = match format {
        Format::Xlsx => super::xlsx::read_xlsx(bytes)?,
        Format::Csv => read_csv(bytes)?,
    };
    if table
        .iter()
        .all(|(_, cells)| cells.iter().all(|c| c.text().is_empty()))
    {
        return Err(file_error(ErrorCode::RosterEmpty, "the file has no rows"));
    }
    let head = head_of(&table);
    let layout = match layout {
        Some(given) => {
            check_layout(given)?;
            Some(given.clone())
        }
        None => detect(&table),
    };
    let Some(layout) = layout else {
        return Ok(Roster {
            layout: None,
            head,
            headers: Vec::new(),
            rows: Vec::new(),
            unreadable: Vec::new(),
        });
    };
    let Some(at) = table
        .iter()
        .position(|(line, _)| *line == layout.header_line)
    else {
        return Err(file_error(
            ErrorCode::RosterColumns,
            format!("the file has no line {}", layout.header_line),
        ));
    };
    let header_cells = &table[at].1;
    let width = header_cells.len().max(layout.columns.len());
    let headers: Vec<(String, Option<String>)> = (0..width)
        .map(|i| {
            let text = header_cells.get(i).map(Cell::text).unwrap_or_default();
            (text, layout.columns.get(i).cloned().flatten())
        })
        .collect();
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for (line, cells) in table.into_iter().skip(at + 1) {
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        if rows.len() + unreadable.len() >= MAX_ROWS {
            return Err(file_error(
                ErrorCode::RosterTooLarge,
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
                            code: ErrorCode::IdNumberNotText,
                            first_line: None,
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
        layout: Some(layout),
        head,
        headers,
        rows,
        unreadable,
    })
}

fn no_layout() -> DeviceError {
    file_error(
        ErrorCode::RosterColumns,
        "no row among the first lines names a name and an ID-number column",
    )
}

/// The first row among the first lines that names a name and an ID-number column. A
/// field two headers name is taken from the first of them; the other is ignored (the
/// preview shows it so), as a layout a person gives may name each field once.
fn detect(table: &[(usize, Vec<Cell>)]) -> Option<RosterLayout> {
    table.iter().take(HEADER_SEARCH).find_map(|(line, cells)| {
        let mut seen = std::collections::HashSet::new();
        let columns: Vec<Option<String>> = cells
            .iter()
            .map(|c| {
                column_of(&c.text())
                    .filter(|f| seen.insert(*f))
                    .map(str::to_owned)
            })
            .collect();
        let has = |want: &str| columns.iter().any(|c| c.as_deref() == Some(want));
        if has("name") && has("id_number") {
            Some(RosterLayout {
                header_line: *line,
                columns,
            })
        } else {
            None
        }
    })
}

/// A layout a person gave: known fields only, each at most once, a name and an ID
/// number among them.
fn check_layout(layout: &RosterLayout) -> Result<(), DeviceError> {
    let named: Vec<&str> = layout
        .columns
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    for field in &named {
        if !COLUMNS.iter().any(|(c, _)| c == field) {
            return Err(file_error(
                ErrorCode::RosterColumns,
                format!("no roster field {field:?}"),
            ));
        }
        if named.iter().filter(|f| *f == field).count() > 1 {
            return Err(file_error(
                ErrorCode::RosterColumns,
                format!("two columns are both {field}"),
            ));
        }
    }
    if !named.contains(&"name") || !named.contains(&"id_number") {
        return Err(no_layout());
    }
    if layout.header_line == 0 {
        return Err(file_error(ErrorCode::RosterColumns, "lines count from 1"));
    }
    Ok(())
}

/// The first lines as they appear, for a person to say which is which: numbers of seven
/// digits or more (ID numbers, phones) masked but for the last four.
fn head_of(table: &[(usize, Vec<Cell>)]) -> Vec<(usize, Vec<String>)> {
    table
        .iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.text().is_empty()))
        .take(HEAD_LINES)
        .map(|(line, cells)| {
            let shown = cells
                .iter()
                .map(|c| {
                    let text = c.text();
                    if text.chars().filter(char::is_ascii_digit).count() >= 7 {
                        mask_tail(&text, 4)
                    } else {
                        text.chars().take(40).collect()
                    }
                })
                .collect();
            (*line, shown)
        })
        .collect()
}

fn column_of(header: &str) -> Option<&'static str> {
    let header = normalize_header(header);
    COLUMNS
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(&header)))
        .map(|(column, _)| *column)
}

/// A header as written by people: `* 身份证号码（必填）` and `性 别` read as `身份证号码`
/// and `性别`.
fn normalize_header(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in header.trim().trim_start_matches('\u{feff}').chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '*' | '＊' | ':' | '：' => {}
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `男`/`女` and the English words as the codes residents use; anything else as written
/// (and refused by validation).
pub(crate) fn gender_code(text: &str) -> String {
    match text.trim().to_ascii_lowercase().as_str() {
        "男" | "m" | "male" => "male".into(),
        "女" | "f" | "female" => "female".into(),
        other => other.to_owned(),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<Cell>)>, DeviceError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        file_error(
            ErrorCode::RosterEncoding,
            "the CSV file is not UTF-8; save it as \"CSV UTF-8\"",
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_error(ErrorCode::RosterUnreadable, e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_two_headers_name_is_taken_from_the_first_and_the_layout_reads_again() {
        let csv = "姓名,身份证号,性别,备注,性别\n测试甲,11010519500301001X,男,,女\n";
        let found = read_roster(csv.as_bytes(), Format::Csv).expect("read");
        let layout = found.layout.clone().expect("a layout");
        assert_eq!(layout.columns[2].as_deref(), Some("gender"));
        assert_eq!(layout.columns[4], None);
        assert_eq!(found.rows[0].1.gender, gender_code("男"));
        let again = read_roster_as(csv.as_bytes(), Format::Csv, Some(&layout)).expect("again");
        assert_eq!(again.rows.len(), 1);
        assert_eq!(again.rows[0].1.gender, found.rows[0].1.gender);
    }
}
