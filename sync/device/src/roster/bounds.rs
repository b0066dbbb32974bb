//! What a workbook would make calamine allocate, checked before calamine opens it.
//!
//! calamine trusts counts a file declares when it opens a workbook: an XLSX's shared
//! string table reserves room for its `uniqueCount` (a 5 KB file declaring 10¹¹ strings
//! asks for 2.4 TB, and the failed allocation ends the app, which no `catch_unwind`
//! survives); an XLS sheet reserves room for the area its DIMENSIONS record claims and
//! lays every sheet out as a dense range from its first to its last cell (two cells at
//! opposite corners of 65,536 × 65,536 make 4 billion). These checks read what calamine
//! will read — the XLSX's shared strings through `zip` and `quick-xml`, the XLS's
//! workbook stream through `cfb` and its records exactly as calamine walks them — and
//! refuse a workbook whose declarations pass what a roster can need.

use std::io::{Cursor, Read, Write};

use doorstep_core::ErrorCode;

use super::MAX_ROWS;
use super::cell::file_error;
use crate::error::DeviceError;

/// Shared strings an XLSX roster may declare: every cell of the most lines a roster may
/// have, twenty columns each, a different text.
pub const MAX_SHARED_STRINGS: u64 = 20 * MAX_ROWS as u64;

/// Cells an XLS sheet's dense range may span (first to last cell, every sheet): the most
/// lines a roster may have by twenty columns (an XLS sheet has at most 65,536 rows), about
/// 130 MB of calamine's cells and 100 MB of its formula texts at most.
pub const MAX_XLS_AREA: u64 = 20 * MAX_ROWS as u64;

/// The most rows and columns an XLS (BIFF8) sheet can have: a DIMENSIONS record claiming
/// more is not one Excel wrote.
const XLS_ROWS: u64 = 65_536;
const XLS_COLUMNS: u64 = 256;

/// The first bytes of a compound file (an XLS workbook).
pub const CFB_MAGIC: [u8; 8] = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
/// The first bytes of a ZIP archive (an XLSX workbook).
pub const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

fn too_large(what: impl std::fmt::Display) -> DeviceError {
    file_error(
        ErrorCode::RosterTooLarge,
        format!("the workbook {what}, more than a roster can need; save it again as XLSX or CSV"),
    )
}

/// A workbook this app cannot read, and why (the roster readers' one wording).
pub(super) fn unreadable(what: impl std::fmt::Display) -> DeviceError {
    file_error(
        ErrorCode::RosterUnreadable,
        format!("not a spreadsheet this app reads: {what}"),
    )
}

/// An XLSX's shared string tables: each declares at most [`MAX_SHARED_STRINGS`] (as plain
/// digits, or not at all). calamine opens `<dir>sharedStrings.xml` in any case of letters;
/// every entry whose name ends so is checked.
pub(super) fn check_xlsx(bytes: &[u8]) -> Result<(), DeviceError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    for index in 0..zip.len() {
        let entry = zip.by_index(index).map_err(unreadable)?;
        if !entry
            .name_raw()
            .to_ascii_lowercase()
            .ends_with(b"sharedstrings.xml")
        {
            continue;
        }
        if let Some(count) = declared_unique_strings(entry)?
            && count > MAX_SHARED_STRINGS
        {
            return Err(too_large(format_args!("declares {count} different texts")));
        }
    }
    Ok(())
}

/// The `uniqueCount` of a shared string table's `sst` element, as calamine reads it (the
/// first `sst` start tag). A value that is not plain digits is refused: calamine's
/// number reader could take a form this one does not.
fn declared_unique_strings(entry: impl Read) -> Result<Option<u64>, DeviceError> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    xml.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "sst" => {
                for attr in e.attributes().with_checks(false) {
                    let attr = attr.map_err(unreadable)?;
                    if attr.key.local_name().as_ref() != "uniqueCount" {
                        continue;
                    }
                    let text = attr.value.as_ref();
                    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(unreadable("its shared string count is not a number"));
                    }
                    return Ok(Some(text.parse().unwrap_or(u64::MAX)));
                }
                return Ok(None);
            }
            // calamine refuses such a table itself.
            Ok(Event::Eof) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// An XLS workbook's sheets: for each sheet the workbook's BoundSheet records point at,
/// the area its DIMENSIONS record claims (at most 65,536 × 256) and the area from its
/// first to its last cell (at most [`MAX_XLS_AREA`]), the records read as calamine reads
/// them (a Continue record joins the one before; a chart's nested records are skipped).
///
/// What it answers is the workbook calamine is to open: a new compound file that `cfb`
/// writes holding only the workbook stream these checks read. calamine reads compound
/// files with its own code, which could find other bytes than `cfb` does in a crafted
/// container (or trust the container's own declarations); it never sees the file that
/// came in, only the stream that was checked.
pub(super) fn checked_xls(bytes: &[u8]) -> Result<Vec<u8>, DeviceError> {
    let stream = workbook_stream(bytes)?;
    check_workbook_stream(&stream)?;
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
            .map_err(unreadable)?;
    file.create_stream("/Workbook")
        .and_then(|mut out| out.write_all(&stream))
        .and_then(|()| file.flush())
        .map_err(unreadable)?;
    Ok(file.into_inner().into_inner())
}

/// The workbook stream of a compound file (`Workbook`, or `Book` in older files).
fn workbook_stream(bytes: &[u8]) -> Result<Vec<u8>, DeviceError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(unreadable)?;
    let mut stream = Vec::new();
    file.open_stream("/Workbook")
        .or_else(|_| file.open_stream("/Book"))
        .map_err(|_| unreadable("it has no workbook stream"))?
        .read_to_end(&mut stream)
        .map_err(unreadable)?;
    Ok(stream)
}

fn check_workbook_stream(stream: &[u8]) -> Result<(), DeviceError> {
    let mut sheets = Vec::new();
    for (typ, data) in Records(stream) {
        match typ {
            // BoundSheet8: the stream position of a sheet's records.
            0x0085 if data.len() >= 4 => sheets.push(u32le(data) as usize),
            0x000A => break,
            _ => {}
        }
    }
    for pos in sheets {
        if let Some(sheet) = stream.get(pos..) {
            check_sheet(sheet)?;
        }
    }
    Ok(())
}

fn check_sheet(records: &[u8]) -> Result<(), DeviceError> {
    let mut span = Span::default();
    let mut seen_bof = false;
    let mut nested = 0usize;
    for (typ, data) in Records(records) {
        if nested > 0 {
            match typ {
                0x0809 => nested += 1,
                0x000A => nested -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            0x0809 if seen_bof => nested += 1,
            0x0809 => seen_bof = true,
            0x0200 => check_dimensions(data)?,
            // Number, Label, RString, BoolErr, Rk, LabelSst, Formula: row, column first.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 if data.len() >= 4 => {
                span.add(u16le(data), u16le(&data[2..]));
            }
            // MulRk: a row's run of cells from its first column to the one at its end.
            0x00BD if data.len() >= 6 => {
                let row = u16le(data);
                span.add(row, u16le(&data[2..]));
                span.add(row, u16le(&data[data.len() - 2..]));
            }
            0x000A => break,
            _ => {}
        }
    }
    if span.area() > MAX_XLS_AREA {
        return Err(too_large(format_args!(
            "has a sheet whose cells span {} rows by {} columns",
            span.rows(),
            span.columns()
        )));
    }
    Ok(())
}

/// A DIMENSIONS record as calamine reads it, and the room calamine reserves for it: its
/// rows and columns counted in 32 bits as calamine counts them (a last row before the
/// first wraps to four billion in a release build) within what Excel allows.
fn check_dimensions(data: &[u8]) -> Result<(), DeviceError> {
    let (first_row, end_row, first_col, end_col) = match data.len() {
        10 => (
            u32::from(u16le(data)),
            u32::from(u16le(&data[2..])),
            u32::from(u16le(&data[4..])),
            u32::from(u16le(&data[6..])),
        ),
        14 | 16 => (
            u32le(data),
            u32le(&data[4..]),
            u32::from(u16le(&data[8..])),
            u32::from(u16le(&data[10..])),
        ),
        // calamine refuses it.
        _ => return Ok(()),
    };
    // calamine takes the first column as 0 when it is past 255 or past the end.
    let first_col = if first_col > 0xff || end_col < first_col {
        0
    } else {
        first_col
    };
    let (rows, columns) = if end_row >= 1 && end_col >= 1 {
        (
            (end_row - 1).wrapping_sub(first_row).wrapping_add(1),
            (end_col - 1).wrapping_sub(first_col).wrapping_add(1),
        )
    } else {
        (1, 1)
    };
    if u64::from(rows) > XLS_ROWS || u64::from(columns) > XLS_COLUMNS {
        return Err(too_large(format_args!(
            "claims a sheet of {rows} rows by {columns} columns"
        )));
    }
    Ok(())
}

/// The first and last row and column of a sheet's cells.
#[derive(Default)]
struct Span(Option<(u16, u16, u16, u16)>);

impl Span {
    fn add(&mut self, row: u16, col: u16) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn rows(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, _, _)| u64::from(r1 - r0) + 1)
    }

    fn columns(&self) -> u64 {
        self.0.map_or(0, |(_, _, c0, c1)| u64::from(c1 - c0) + 1)
    }

    fn area(&self) -> u64 {
        self.rows() * self.columns()
    }
}

/// BIFF records as calamine's iterator yields them: type and data, a Continue record
/// (0x003C) after one taken as part of it; a record past the end stops the walk (calamine
/// refuses the file there).
struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let typ = u16le(self.0.get(..4)?);
        let len = usize::from(u16le(&self.0[2..4]));
        let data = self.0.get(4..4 + len)?;
        self.0 = &self.0[4 + len..];
        while self.0.len() > 4 && u16le(self.0) == 0x003C {
            let len = usize::from(u16le(&self.0[2..4]));
            self.0 = self.0.get(4 + len..)?;
        }
        Some((typ, data))
    }
}

fn u16le(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[0], bytes[1]])
}

fn u32le(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::{Format, IgnoredKind, read_roster};

    /// The legacy-Excel roster the tests read (`tests/data/make_roster_xls.py`): a title
    /// row, the header, two synthetic residents; a second sheet.
    const ROSTER_XLS: &[u8] = include_bytes!("../../tests/data/roster.xls");

    fn roster_xlsx() -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, text) in ["姓名", "身份证号"].iter().enumerate() {
            sheet.write_string(0, col as u16, *text).expect("header");
        }
        sheet.write_string(1, 0, "测试甲").expect("name");
        sheet.write_string(1, 1, "11010519500301001X").expect("id");
        book.save_to_buffer().expect("xlsx")
    }

    /// `xlsx` with its shared string table's `uniqueCount` set to `count`.
    fn with_unique_count(xlsx: &[u8], count: &str) -> Vec<u8> {
        let mut from = zip::ZipArchive::new(Cursor::new(xlsx)).expect("zip");
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..from.len() {
            let mut entry = from.by_index(i).expect("entry");
            let name = entry.name().expect("name").into_owned();
            let mut text = Vec::new();
            entry.read_to_end(&mut text).expect("read");
            if name.ends_with("sharedStrings.xml") {
                let xml = String::from_utf8(text).expect("utf-8");
                let at = xml.find("uniqueCount=\"").expect("uniqueCount") + 13;
                let end = at + xml[at..].find('"').expect("quote");
                text = format!("{}{count}{}", &xml[..at], &xml[end..]).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("entry");
            out.write_all(&text).expect("write");
        }
        out.finish().expect("zip").into_inner()
    }

    #[test]
    fn an_xlsx_declaring_more_texts_than_a_roster_has_is_refused_before_it_is_read() {
        let xlsx = roster_xlsx();
        assert_eq!(
            read_roster(&xlsx, Format::Xlsx).expect("read").rows.len(),
            1
        );
        // The count as written, and one a roster can need, read.
        let fine = with_unique_count(&xlsx, &MAX_SHARED_STRINGS.to_string());
        assert_eq!(
            read_roster(&fine, Format::Xlsx).expect("read").rows.len(),
            1
        );
        // 10¹¹ texts: calamine would reserve 2.4 TB and the app would end.
        let bomb = with_unique_count(&xlsx, "100000000000");
        let e = read_roster(&bomb, Format::Xlsx).expect_err("refused");
        assert_eq!(e.code(), ErrorCode::RosterTooLarge);
        for odd in ["+100000000000", "1e11", " 4", ""] {
            let e = read_roster(&with_unique_count(&xlsx, odd), Format::Xlsx).expect_err(odd);
            assert_eq!(e.code(), ErrorCode::RosterUnreadable, "{odd:?}");
        }
    }

    /// The records of `xls`'s workbook stream, and the stream put back in a new file.
    fn workbook_stream(xls: &[u8]) -> Vec<u8> {
        let mut file = cfb::CompoundFile::open(Cursor::new(xls)).expect("cfb");
        let mut stream = Vec::new();
        file.open_stream("/Workbook")
            .expect("stream")
            .read_to_end(&mut stream)
            .expect("read");
        stream
    }

    fn xls_with(stream: &[u8]) -> Vec<u8> {
        let mut file =
            cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
                .expect("cfb");
        file.create_stream("/Workbook")
            .expect("stream")
            .write_all(stream)
            .expect("write");
        file.flush().expect("flush");
        file.into_inner().into_inner()
    }

    /// The stream offsets of the data of every record of type `typ`.
    fn records_of(stream: &[u8], typ: u16) -> Vec<usize> {
        let mut at = 0;
        let mut found = Vec::new();
        while at + 4 <= stream.len() {
            let len = usize::from(u16le(&stream[at + 2..]));
            if u16le(&stream[at..]) == typ {
                found.push(at + 4);
            }
            at += 4 + len;
        }
        found
    }

    #[test]
    fn an_xls_roster_reads_with_its_title_row_and_its_second_sheet_left_alone() {
        let roster = read_roster(ROSTER_XLS, Format::Xlsx).expect("read");
        let names: Vec<&str> = roster.rows.iter().map(|(_, r)| r.name.as_str()).collect();
        assert_eq!(names, ["测试甲", "测试乙"]);
        assert_eq!(roster.sheets.len(), 2);
        assert_eq!(
            roster.sheet.as_deref(),
            roster.sheets.first().map(String::as_str)
        );
        // Put back as it was, the stream reads the same.
        let again = xls_with(&workbook_stream(ROSTER_XLS));
        assert_eq!(
            read_roster(&again, Format::Xlsx).expect("read").rows.len(),
            2
        );
    }

    #[test]
    fn calamine_reads_a_new_file_holding_only_the_stream_that_was_checked() {
        // An older workbook names its stream `Book`, and a container may hold other
        // streams beside it: what calamine is given holds the checked stream alone.
        let stream = workbook_stream(ROSTER_XLS);
        let mut file =
            cfb::CompoundFile::create_with_version(cfb::Version::V4, Cursor::new(Vec::new()))
                .expect("cfb");
        file.create_stream("/Book")
            .expect("stream")
            .write_all(&stream)
            .expect("write");
        file.create_stream("/Other")
            .expect("stream")
            .write_all(&[7; 9000])
            .expect("write");
        file.flush().expect("flush");
        let container = file.into_inner().into_inner();
        let checked = checked_xls(&container).expect("checked");
        let mut copy = cfb::CompoundFile::open(Cursor::new(&checked)).expect("cfb");
        let names: Vec<String> = copy
            .read_root_storage()
            .map(|entry| entry.name().to_owned())
            .collect();
        assert_eq!(names, ["Workbook"]);
        let mut read = Vec::new();
        copy.open_stream("/Workbook")
            .expect("stream")
            .read_to_end(&mut read)
            .expect("read");
        assert_eq!(read, stream);
        let roster = read_roster(&container, Format::Xlsx).expect("read");
        assert_eq!(roster.rows.len(), 2);
    }

    #[test]
    fn an_xls_sheet_claiming_more_rows_than_excel_has_is_refused_before_it_is_read() {
        let stream = workbook_stream(ROSTER_XLS);
        let dims = records_of(&stream, 0x0200);
        assert!(!dims.is_empty(), "xlwt writes DIMENSIONS");
        // Four billion rows; and a last row before the first, which calamine's release
        // build counts as four billion too.
        for (first, end) in [(0u32, u32::MAX), (10, 5)] {
            let mut bad = stream.clone();
            bad[dims[0]..dims[0] + 4].copy_from_slice(&first.to_le_bytes());
            bad[dims[0] + 4..dims[0] + 8].copy_from_slice(&end.to_le_bytes());
            let e = read_roster(&xls_with(&bad), Format::Xlsx).expect_err("refused");
            assert_eq!(e.code(), ErrorCode::RosterTooLarge, "{first}..{end}");
        }
    }

    #[test]
    fn an_xls_sheet_whose_cells_span_billions_is_refused_before_it_is_read() {
        let stream = workbook_stream(ROSTER_XLS);
        // xlwt writes each text as a LabelSst record: row, column, format, string index.
        // The first sheet's second one (the first is the title at A1) is moved.
        let last = records_of(&stream, 0x00FD)[1];
        for (row, col) in [(65_535u16, 65_535u16), (65_535, 255)] {
            let mut far = stream.clone();
            far[last..last + 2].copy_from_slice(&row.to_le_bytes());
            far[last + 2..last + 4].copy_from_slice(&col.to_le_bytes());
            let e = read_roster(&xls_with(&far), Format::Xlsx).expect_err("refused");
            assert_eq!(e.code(), ErrorCode::RosterTooLarge, "({row}, {col})");
        }
        // The first sheet's last cell (a note) 3,000 rows down: within what a roster can
        // span, it reads (on a line of its own, which the preview lists as a note).
        let cells = records_of(&stream, 0x00FD);
        let note = cells[cells.len() - 2];
        let mut near = stream.clone();
        near[note..note + 2].copy_from_slice(&3_000u16.to_le_bytes());
        let roster = read_roster(&xls_with(&near), Format::Xlsx).expect("read");
        let lines: Vec<usize> = roster.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [3, 4]);
        let ignored: Vec<(usize, IgnoredKind)> =
            roster.ignored.iter().map(|i| (i.line, i.kind)).collect();
        assert_eq!(
            ignored,
            [(1, IgnoredKind::Title), (3_001, IgnoredKind::Note)],
            "the note on its own line"
        );
    }

    #[test]
    fn a_workbook_that_is_neither_xlsx_nor_xls_is_unreadable() {
        let mut ods = ZIP_MAGIC.to_vec();
        ods.extend_from_slice(b"not a real archive");
        for bytes in [
            &ods[..],
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated",
            b"<table>",
        ] {
            let e = read_roster(bytes, Format::Xlsx).expect_err("refused");
            assert_eq!(e.code(), ErrorCode::RosterUnreadable);
        }
    }
}
