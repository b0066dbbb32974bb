//! A workbook's sheets as lines of cells. An XLSX sheet is read cell by cell and
//! kept sparse: a file of a few bytes may name a cell at `XFD1048576`, and a reader that
//! lays out the whole used range (calamine's `worksheet_range`) would ask for billions
//! of cells and end the app. Lines without a cell are left out (their numbers are kept),
//! columns past [`MAX_COLUMNS`] are not read, and more than [`MAX_LINES`] lines with
//! cells is too large a roster. An XLS workbook goes through calamine's range, its size
//! checked first (`bounds`); other workbooks (ODS, XLSB) are not read.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Sheets};
use doorstep_core::ErrorCode;
use doorstep_core::date::{civil_from_days, format_ymd};

use super::MAX_ROWS;
use super::bounds::{self, CFB_MAGIC, ZIP_MAGIC, unreadable};
use super::cell::{Cell, file_error};
use crate::error::DeviceError;

/// Columns read from the left of a sheet's first used one; a roster has a dozen.
pub const MAX_COLUMNS: u32 = 256;

/// Lines with cells read: the most rows a roster may have, and room for a title.
pub const MAX_LINES: usize = MAX_ROWS + 1_000;

/// The lines of a sheet: `(line from 1, cells from its first used column)`.
pub(super) type Lines = Vec<(usize, Vec<Cell>)>;

/// Merged cells read at most from a sheet: a roster merges an address or a household's
/// cells over a few rows each, so this is one for every line a roster may have.
pub const MAX_MERGED: usize = MAX_LINES;

/// A sheet as read: its lines, and the cells merged over several lines.
#[derive(Debug, Default)]
pub(super) struct Sheet {
    pub lines: Lines,
    pub merged: Vec<Merged>,
}

/// Cells merged over lines `first_line..=last_line` (from 1): the value is written in
/// the first line only, at `column` (an index into the lines' cells, as in [`Lines`]).
/// Merges within one line (a title over several columns) are not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Merged {
    pub first_line: usize,
    pub last_line: usize,
    pub column: usize,
}

/// An open workbook: its sheets' names, and each sheet read on demand. calamine panics on
/// some damaged files (fuzzing found a cell reference whose column overflows): such a
/// file is unreadable, like any other damaged one, and the app goes on.
pub(super) struct Book {
    names: Vec<String>,
    sheets: Sheets<Cursor<Vec<u8>>>,
}

impl Book {
    pub(super) fn open(bytes: &[u8]) -> Result<Book, DeviceError> {
        guarded(|| open_unguarded(bytes))
    }

    /// The names of its sheets, in the workbook's order.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    /// Sheet `name`: its lines and its merged cells.
    pub(super) fn sheet(&mut self, name: &str) -> Result<Sheet, DeviceError> {
        guarded(std::panic::AssertUnwindSafe(|| {
            read_sheet(&mut self.sheets, name)
        }))
    }
}

fn guarded<T>(
    read: impl FnOnce() -> Result<T, DeviceError> + std::panic::UnwindSafe,
) -> Result<T, DeviceError> {
    std::panic::catch_unwind(read).unwrap_or_else(|_| {
        Err(file_error(
            ErrorCode::RosterUnreadable,
            "not a spreadsheet this app reads: its reader failed on it",
        ))
    })
}

fn open_unguarded(bytes: &[u8]) -> Result<Book, DeviceError> {
    // By its first bytes, not by trying each reader in turn: a reader that fails still
    // allocated what the file declared (`bounds`), and an ODS or XLSB workbook is never a
    // roster this app asks for. An XLS workbook is opened as the copy `bounds` checked.
    let sheets = if bytes.starts_with(&ZIP_MAGIC) {
        bounds::check_xlsx(bytes)?;
        Sheets::Xlsx(
            calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(unreadable)?,
        )
    } else if bytes.starts_with(&CFB_MAGIC) {
        let checked = bounds::checked_xls(bytes)?;
        Sheets::Xls(calamine::open_workbook_from_rs(Cursor::new(checked)).map_err(unreadable)?)
    } else {
        return Err(unreadable("neither an XLSX nor an XLS workbook"));
    };
    let names = sheets.sheet_names();
    if names.is_empty() {
        return Err(file_error(
            ErrorCode::RosterEmpty,
            "the workbook has no sheet",
        ));
    }
    Ok(Book { names, sheets })
}

fn read_sheet(workbook: &mut Sheets<Cursor<Vec<u8>>>, name: &str) -> Result<Sheet, DeviceError> {
    let mut lines: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
    let mut keep = |(row, col): (u32, u32), data: Data| -> Result<(), DeviceError> {
        if col >= MAX_COLUMNS || matches!(data, Data::Empty) {
            return Ok(());
        }
        if !lines.contains_key(&row) && lines.len() >= MAX_LINES {
            return Err(file_error(
                ErrorCode::RosterTooLarge,
                format!("a roster may have at most {MAX_ROWS} rows; split the file"),
            ));
        }
        lines.entry(row).or_default().insert(col, cell_of(&data));
        Ok(())
    };
    let sheet_error = |e: &dyn std::fmt::Display| {
        file_error(ErrorCode::RosterUnreadable, format!("a sheet: {e}"))
    };
    let regions = match workbook {
        Sheets::Xlsx(xlsx) => {
            let mut cells = xlsx
                .worksheet_cells_reader(name)
                .map_err(|e| sheet_error(&e))?;
            while let Some(cell) = cells.next_cell().map_err(unreadable)? {
                keep(cell.get_position(), cell.get_value().clone().into())?;
            }
            drop(cells);
            xlsx.merge_cells_by_sheet_name(name)
                .map_err(|e| sheet_error(&e))?
        }
        Sheets::Xls(xls) => {
            let range = xls.worksheet_range(name).map_err(|e| sheet_error(&e))?;
            let (top, left) = range.start().unwrap_or((0, 0));
            for (row, col, data) in range.used_cells() {
                keep((top + row as u32, left + col as u32), data.clone())?;
            }
            xls.merge_cells_by_sheet_name(name)
                .map_err(|e| sheet_error(&e))?
        }
        _ => return Err(unreadable("neither an XLSX nor an XLS workbook")),
    };
    let left = lines
        .values()
        .filter_map(|cells| cells.keys().next())
        .min()
        .copied()
        .unwrap_or(0);
    let right = lines
        .values()
        .filter_map(|cells| cells.keys().next_back())
        .max()
        .copied()
        .unwrap_or(0);
    if regions.len() > MAX_MERGED {
        return Err(file_error(
            ErrorCode::RosterTooLarge,
            format!("a sheet may have at most {MAX_MERGED} merged cells"),
        ));
    }
    let merged = regions
        .iter()
        .filter(|r| r.start.0 < r.end.0 && (left..=right).contains(&r.start.1))
        .map(|r| Merged {
            first_line: r.start.0 as usize + 1,
            last_line: r.end.0 as usize + 1,
            column: (r.start.1 - left) as usize,
        })
        .collect();
    let lines = lines
        .into_iter()
        .map(|(row, mut cells)| {
            let line = (left..=right)
                .map(|col| cells.remove(&col).unwrap_or(Cell::Text(String::new())))
                .collect();
            (row as usize + 1, line)
        })
        .collect();
    Ok(Sheet { lines, merged })
}

/// A workbook's first sheet (what the tests here read).
#[cfg(test)]
fn read_xlsx(bytes: &[u8]) -> Result<Sheet, DeviceError> {
    let mut book = Book::open(bytes)?;
    let first = book.names()[0].clone();
    book.sheet(&first)
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(n) => Cell::Number(n.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e18 => Cell::Number(format!("{f:.0}")),
        Data::Float(f) => Cell::Number(f.to_string()),
        Data::DateTime(d) => {
            // Excel's day 25,569 is 1970-01-01.
            let days = d.as_f64().floor() as i64 - 25_569;
            Cell::Text(format_ymd(civil_from_days(days)))
        }
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::Error(_) | Data::Empty => Cell::Text(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{Format, read_roster};

    /// A roster whose sheet also has one cell at the last row and column Excel allows:
    /// its used range is 17 billion cells; its rows read as they are.
    #[test]
    fn a_sheet_whose_used_range_is_enormous_reads_its_few_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, text) in ["姓名", "身份证号"].iter().enumerate() {
            sheet.write_string(0, col as u16, *text).expect("header");
        }
        sheet.write_string(1, 0, "测试甲").expect("name");
        sheet.write_string(1, 1, "11010519500301001X").expect("id");
        sheet
            .write_string(1_048_575, 16_383, "远处")
            .expect("far cell");
        let bytes = book.save_to_buffer().expect("xlsx");
        assert!(bytes.len() < 10_000, "a small file");
        let roster = read_roster(&bytes, Format::Xlsx).expect("read");
        assert_eq!(roster.rows.len(), 1);
        assert_eq!(roster.rows[0].1.name, "测试甲");
    }

    #[test]
    fn a_sheet_of_more_lines_than_a_roster_may_have_is_too_large() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for row in 0..=MAX_LINES as u32 {
            sheet.write_number(row, 0, 1.0).expect("cell");
        }
        let bytes = book.save_to_buffer().expect("xlsx");
        let e = read_xlsx(&bytes).expect_err("too many lines");
        assert_eq!(e.code(), ErrorCode::RosterTooLarge);
    }
}
