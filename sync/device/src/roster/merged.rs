//! Cells a clerk merged over several rows of a roster's table (an address over a
//! household's rows, a building over its flats). A spreadsheet keeps a merged cell's
//! value in its first row only, so each row below would read as having no address:
//! the value is filled down into the rows the merge covers, and the preview lists each
//! merge so the supervisor sees what was filled. A name or an ID number merged over
//! several rows is listed and not filled: each resident's own is written in their row,
//! and the rows without one are refused as they stand.

use serde::Serialize;

use super::cell::Cell;
use super::xlsx::Merged;

/// Merges listed at most in a preview.
const MERGED_SHOWN: usize = 100;

/// Cells merged over lines `first_line..=last_line` of a roster's table, in the column
/// headed `header` (read as `field`), and whether their value was filled into each line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MergedCells {
    pub first_line: usize,
    pub last_line: usize,
    pub header: String,
    pub field: String,
    pub filled: bool,
}

/// The merges below the header line in the columns read, filled down where they may be:
/// the first [`MERGED_SHOWN`], and how many there are. Work is bounded by the lines: the
/// merges of a column are taken in order and one overlapping an earlier is left alone.
pub(super) fn fill_down(
    table: &mut [(usize, Vec<Cell>)],
    merged: &[Merged],
    header_line: usize,
    headers: &[(String, Option<String>)],
) -> (Vec<MergedCells>, usize) {
    let mut merged: Vec<Merged> = merged
        .iter()
        .filter(|m| m.first_line > header_line && m.first_line < m.last_line)
        .filter(|m| headers.get(m.column).is_some_and(|(_, f)| f.is_some()))
        .copied()
        .collect();
    merged.sort_by_key(|m| (m.column, m.first_line));
    let mut shown = Vec::new();
    let mut count = 0;
    let mut column_done_to = (usize::MAX, 0);
    for m in merged {
        let (header, field) = match headers.get(m.column) {
            Some((header, Some(field))) => (header.clone(), field.clone()),
            _ => continue,
        };
        let overlaps = column_done_to.0 == m.column && m.first_line <= column_done_to.1;
        if overlaps {
            continue;
        }
        column_done_to = (m.column, m.last_line);
        let at = table.partition_point(|(line, _)| *line < m.first_line);
        let value = match table.get(at) {
            Some((line, cells)) if *line == m.first_line => cells
                .get(m.column)
                .cloned()
                .filter(|c| !c.text().is_empty()),
            _ => None,
        };
        let Some(value) = value else {
            continue;
        };
        let fill = field != "name" && field != "id_number";
        if fill {
            for (line, cells) in table[at + 1..].iter_mut() {
                if *line > m.last_line {
                    break;
                }
                if let Some(cell) = cells.get_mut(m.column)
                    && cell.text().is_empty()
                {
                    *cell = value.clone();
                }
            }
        }
        count += 1;
        if shown.len() < MERGED_SHOWN {
            shown.push(MergedCells {
                first_line: m.first_line,
                last_line: m.last_line,
                header,
                field,
                filled: fill,
            });
        }
    }
    (shown, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn headers() -> Vec<(String, Option<String>)> {
        vec![
            ("姓名".into(), Some("name".into())),
            ("地址".into(), Some("address".into())),
            ("备注".into(), None),
        ]
    }

    #[test]
    fn an_address_merged_over_a_households_rows_is_filled_into_each_and_listed() {
        let mut table = vec![
            (1, vec![text("姓名"), text("地址"), text("备注")]),
            (2, vec![text("甲"), text("一号楼"), text("")]),
            (3, vec![text("乙"), text(""), text("")]),
            (4, vec![text("丙"), text(""), text("")]),
            (5, vec![text("丁"), text(""), text("")]),
        ];
        let merged = [
            Merged {
                first_line: 2,
                last_line: 4,
                column: 1,
            },
            // Overlaps the first: left alone.
            Merged {
                first_line: 3,
                last_line: 5,
                column: 1,
            },
            // A column not read, and a title merged above the header: not listed.
            Merged {
                first_line: 2,
                last_line: 5,
                column: 2,
            },
            Merged {
                first_line: 1,
                last_line: 3,
                column: 0,
            },
        ];
        let (shown, count) = fill_down(&mut table, &merged, 1, &headers());
        assert_eq!(count, 1);
        assert_eq!(
            shown,
            vec![MergedCells {
                first_line: 2,
                last_line: 4,
                header: "地址".into(),
                field: "address".into(),
                filled: true,
            }]
        );
        let addresses: Vec<String> = table.iter().map(|(_, c)| c[1].text()).collect();
        assert_eq!(addresses, ["地址", "一号楼", "一号楼", "一号楼", ""]);
    }

    /// Through the XLSX reader: a household's address merged over its three rows.
    #[test]
    fn an_xlsx_households_merged_address_reads_into_each_row() {
        use crate::roster::{Format, read_roster};
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, text) in ["姓名", "身份证号", "住址"].iter().enumerate() {
            sheet.write_string(0, col as u16, *text).expect("header");
        }
        for (row, (name, id)) in [
            ("测试甲", "110105194003010011"),
            ("测试乙", "11010519400301002X"),
            ("测试丙", "110105194203010032"),
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(1 + row as u32, 0, *name).expect("name");
            sheet.write_string(1 + row as u32, 1, *id).expect("id");
        }
        let plain = rust_xlsxwriter::Format::new();
        sheet
            .merge_range(1, 2, 3, 2, "测试路1号", &plain)
            .expect("merge");
        let roster =
            read_roster(&book.save_to_buffer().expect("xlsx"), Format::Xlsx).expect("read");
        let addresses: Vec<&str> = roster
            .rows
            .iter()
            .map(|(_, r)| r.address.as_str())
            .collect();
        assert_eq!(addresses, ["测试路1号"; 3]);
        assert_eq!(roster.merged_cells, 1);
        assert_eq!(
            (roster.merged[0].first_line, roster.merged[0].last_line),
            (2, 4)
        );
        assert_eq!(roster.merged[0].header, "住址");
    }

    #[test]
    fn a_name_merged_over_rows_is_listed_and_not_filled() {
        let mut table = vec![
            (1, vec![text("姓名"), text("地址"), text("")]),
            (2, vec![text("甲"), text("一号楼"), text("")]),
            (3, vec![text(""), text("二号楼"), text("")]),
        ];
        let merged = [Merged {
            first_line: 2,
            last_line: 3,
            column: 0,
        }];
        let (shown, count) = fill_down(&mut table, &merged, 1, &headers());
        assert_eq!(count, 1);
        assert!(!shown[0].filled);
        assert_eq!(table[2].1[0].text(), "");
    }
}
