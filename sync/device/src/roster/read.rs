//! Reading a roster file: its cells from XLSX (calamine) or CSV, its header row found
//! among the first lines (committee rosters open with a title), its columns recognised
//! by the names people write (`身份证号码（必填）`, `联系电话`, `性 别`) — or laid out
//! by a person where the file does not say — and every row read as a resident's input.

use doorstep_core::ErrorCode;
use doorstep_core::id_number::mask_tail;
use doorstep_core::resident::ResidentInput;
use serde::{Deserialize, Serialize};

use super::cell::{Cell, file_error};
use super::merged::{MergedCells, fill_down};
use super::xlsx::Sheet;
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

/// Lines below the header listed at most, of those not read as residents.
const IGNORED_SHOWN: usize = 100;

/// Words a totals line is written with (spaces taken out first).
const TOTALS: &[&str] = &[
    "合计", "总计", "小计", "共计", "累计", "总数", "total", "subtotal",
];

/// A roster as read from its file.
#[derive(Debug, Clone)]
pub struct Roster {
    /// A workbook's sheets, in its order (none for a CSV file).
    pub sheets: Vec<String>,
    /// The sheet read: the one asked for, or else the first whose header row is found
    /// (the first sheet when none is).
    pub sheet: Option<String>,
    /// The lines of the file that are not residents and were left out (the first
    /// [`IGNORED_SHOWN`]), and how many there are in all.
    pub ignored: Vec<IgnoredLine>,
    pub ignored_lines: usize,
    /// Cells merged over several rows of the table (the first hundred), and how many.
    pub merged: Vec<MergedCells>,
    pub merged_cells: usize,
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

/// A line of a roster file left out: a title above the header row, a totals line, or a
/// note (a line with neither a name nor an ID number, such as who drew the table up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct IgnoredLine {
    pub line: usize,
    pub kind: IgnoredKind,
    /// What it says, long numbers masked, cut at 60 characters.
    pub text: String,
}

/// Why a line was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredKind {
    Title,
    Total,
    Note,
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

/// Reads a roster from the bytes of an XLSX, XLS or CSV file (of a workbook, the first
/// sheet whose header row is found), finding its header row among the first lines.
/// Refused with `roster_columns` when no row names a name and an ID-number column: then
/// [`read_roster_as`] says what the file holds, for a person to lay it out.
pub fn read_roster(bytes: &[u8], format: Format) -> Result<Roster, DeviceError> {
    let roster = read_roster_as(bytes, format, None, None)?;
    if roster.layout.is_none() {
        return Err(no_layout());
    }
    Ok(roster)
}

/// Reads a roster from sheet `sheet` of a workbook (`None`: the first whose header row is
/// found, or the first), laid out as `layout` says, or as found in the file (`None`). A
/// file whose layout cannot be found reads as its first lines only, with no layout and
/// no rows.
pub fn read_roster_as(
    bytes: &[u8],
    format: Format,
    sheet: Option<&str>,
    layout: Option<&RosterLayout>,
) -> Result<Roster, DeviceError> {
    let (
        sheets,
        sheet,
        Sheet {
            lines: table,
            merged,
        },
    ) = match format {
        Format::Xlsx => {
            let mut book = super::xlsx::Book::open(bytes)?;
            let sheets = book.names().to_vec();
            let (name, table) = match sheet {
                Some(name) if sheets.iter().any(|s| s == name) => {
                    (name.to_owned(), book.sheet(name)?)
                }
                Some(_) => {
                    return Err(file_error(
                        ErrorCode::RosterEmpty,
                        "the workbook has no sheet of that name",
                    ));
                }
                // The same sheet a preview without a sheet read, laid out or not.
                None => first_with_header(&mut book, &sheets)?,
            };
            (sheets, Some(name), table)
        }
        Format::Csv => (
            Vec::new(),
            None,
            Sheet {
                lines: read_csv(bytes)?,
                merged: Vec::new(),
            },
        ),
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
            sheets,
            sheet,
            ignored: Vec::new(),
            ignored_lines: 0,
            merged: Vec::new(),
            merged_cells: 0,
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
    let mut table = table;
    let (merged, merged_cells) = fill_down(&mut table, &merged, layout.header_line, &headers);
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    let mut ignored = Vec::new();
    let mut ignored_lines = 0;
    let mut ignore = |line: usize, kind: IgnoredKind, cells: &[Cell]| {
        ignored_lines += 1;
        if ignored.len() < IGNORED_SHOWN {
            ignored.push(IgnoredLine {
                line,
                kind,
                text: shown_text(cells),
            });
        }
    };
    for (line, cells) in &table[..at] {
        if cells.iter().any(|c| !c.text().is_empty()) {
            ignore(*line, IgnoredKind::Title, cells);
        }
    }
    let column_of_field = |field: &str| {
        headers
            .iter()
            .position(|(_, column)| column.as_deref() == Some(field))
    };
    let (name_at, id_at) = (column_of_field("name"), column_of_field("id_number"));
    for (line, cells) in table.into_iter().skip(at + 1) {
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        let holds = |at: Option<usize>| {
            at.and_then(|i| cells.get(i))
                .is_some_and(|c| !c.text().is_empty())
        };
        if !holds(name_at) && !holds(id_at) {
            ignore(line, IgnoredKind::Note, &cells);
            continue;
        }
        if !holds(id_at) && is_totals(&cells) {
            ignore(line, IgnoredKind::Total, &cells);
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
    // A totals line with no name (its count under the name column) is one too.
    for entry in &mut ignored {
        if entry.kind == IgnoredKind::Note
            && TOTALS.iter().any(|t| squeeze(&entry.text).contains(t))
        {
            entry.kind = IgnoredKind::Total;
        }
    }
    Ok(Roster {
        sheets,
        sheet,
        ignored,
        ignored_lines,
        merged,
        merged_cells,
        layout: Some(layout),
        head,
        headers,
        rows,
        unreadable,
    })
}

/// Of a workbook's sheets, the first whose header row is found (the first sheet when
/// none is, or the first with any cell), and its lines.
fn first_with_header(
    book: &mut super::xlsx::Book,
    sheets: &[String],
) -> Result<(String, Sheet), DeviceError> {
    let mut fallback: Option<(String, Sheet)> = None;
    for name in sheets {
        let sheet = book.sheet(name)?;
        if detect(&sheet.lines).is_some() {
            return Ok((name.clone(), sheet));
        }
        let has_cells = sheet
            .lines
            .iter()
            .any(|(_, cells)| cells.iter().any(|c| !c.text().is_empty()));
        if fallback.is_none() && has_cells {
            fallback = Some((name.clone(), sheet));
        }
    }
    match fallback {
        Some(found) => Ok(found),
        None => Ok((sheets[0].clone(), Sheet::default())),
    }
}

/// Whether a line says it is a total (`合计`, `总 计`, `Total` in any of its cells).
fn is_totals(cells: &[Cell]) -> bool {
    cells.iter().any(|c| {
        let text = squeeze(&c.text());
        TOTALS
            .iter()
            .any(|t| text.starts_with(t) || text.ends_with(t))
    })
}

/// Lower case, without spaces.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A line as shown in the preview: its non-empty cells joined, long numbers masked, cut
/// at 60 characters.
fn shown_text(cells: &[Cell]) -> String {
    let joined = cells
        .iter()
        .map(|c| shown_cell(&c.text()))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    joined.chars().take(60).collect()
}

/// A cell as shown: numbers of seven digits or more (ID numbers, phones) masked but for
/// the last four, text cut at 40 characters.
fn shown_cell(text: &str) -> String {
    if text.chars().filter(char::is_ascii_digit).count() >= 7 {
        mask_tail(text, 4)
    } else {
        text.chars().take(40).collect()
    }
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
            let shown = cells.iter().map(|c| shown_cell(&c.text())).collect();
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
        let again =
            read_roster_as(csv.as_bytes(), Format::Csv, None, Some(&layout)).expect("again");
        assert_eq!(again.rows.len(), 1);
        assert_eq!(again.rows[0].1.gender, found.rows[0].1.gender);
    }

    /// A committee's roster as clerks keep it: an instructions sheet first, then the
    /// roster under a merged title and a date line, a notes column, a totals line and
    /// who drew it up at the bottom.
    fn kept_roster() -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let about = book.add_worksheet().set_name("填表说明").expect("name");
        about
            .write_string(0, 0, "请按下表填写，身份证号请设为文本")
            .expect("text");
        let sheet = book.add_worksheet().set_name("花名册").expect("name");
        let title = rust_xlsxwriter::Format::new().set_bold();
        sheet
            .merge_range(0, 0, 0, 4, "测试社区高龄老人花名册", &title)
            .expect("title");
        sheet
            .write_string(1, 0, "填报日期：2026年12月")
            .expect("date");
        for (col, text) in ["序号", "姓名", "身份证号码", "联系电话", "备注"]
            .iter()
            .enumerate()
        {
            sheet.write_string(2, col as u16, *text).expect("header");
        }
        let people = [
            ("1", "测试甲", "11010519400301001X", "13800000001", "独居"),
            ("2", "测试乙", "110105194003010028", "", ""),
        ];
        for (row, (n, name, id, phone, note)) in people.iter().enumerate() {
            let row = 3 + row as u32;
            for (col, text) in [n, name, id, phone, note].iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(row, col as u16, **text).expect("cell");
                }
            }
        }
        sheet.write_string(5, 0, "合 计").expect("total");
        sheet.write_string(5, 1, "2人").expect("total");
        sheet.write_string(7, 0, "制表人：测试丙").expect("note");
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn a_roster_as_clerks_keep_it_is_found_on_its_sheet_below_its_title() {
        let bytes = kept_roster();
        let roster = read_roster(&bytes, Format::Xlsx).expect("read");
        assert_eq!(roster.sheets, ["填表说明", "花名册"]);
        assert_eq!(roster.sheet.as_deref(), Some("花名册"));
        assert_eq!(roster.layout.as_ref().map(|l| l.header_line), Some(3));
        let names: Vec<&str> = roster.rows.iter().map(|(_, r)| r.name.as_str()).collect();
        assert_eq!(names, ["测试甲", "测试乙"]);
        let ignored: Vec<(usize, IgnoredKind)> =
            roster.ignored.iter().map(|i| (i.line, i.kind)).collect();
        assert_eq!(
            ignored,
            [
                (1, IgnoredKind::Title),
                (2, IgnoredKind::Title),
                (6, IgnoredKind::Total),
                (8, IgnoredKind::Note),
            ]
        );
        assert_eq!(roster.ignored_lines, 4);
        assert_eq!(roster.ignored[0].text, "测试社区高龄老人花名册");
        // The other sheet, asked for: no header row on it.
        let about = read_roster_as(&bytes, Format::Xlsx, Some("填表说明"), None).expect("read");
        assert_eq!(about.sheet.as_deref(), Some("填表说明"));
        assert!(about.layout.is_none());
        let missing =
            read_roster_as(&bytes, Format::Xlsx, Some("第三页"), None).expect_err("no such sheet");
        assert_eq!(missing.code(), ErrorCode::RosterEmpty);
        // Laid out by a person, the sheet named or not (as the preview read it): the
        // same rows.
        let layout = roster.layout.clone().expect("layout");
        for sheet in [Some("花名册"), None] {
            let again = read_roster_as(&bytes, Format::Xlsx, sheet, Some(&layout)).expect("again");
            assert_eq!(again.sheet.as_deref(), Some("花名册"));
            assert_eq!(again.rows.len(), 2);
        }
    }

    #[test]
    fn long_numbers_on_ignored_lines_are_masked() {
        let csv =
            "姓名,身份证号\n测试甲,11010519500301001X\n,,备注：测试乙 11010519500301002X 已搬走\n";
        let roster = read_roster(csv.as_bytes(), Format::Csv).expect("read");
        assert_eq!(roster.rows.len(), 1);
        assert_eq!(roster.ignored.len(), 1);
        assert_eq!(roster.ignored[0].kind, IgnoredKind::Note);
        assert!(!roster.ignored[0].text.contains("110105195003"), "masked");
    }
}
