//! The resident's receipt: a large-print PDF of what was applied for, by whom, the
//! reference, and the next steps, to print or keep. Text is set in a CJK font found on
//! the system (WenQuanYi Micro Hei, or Noto Sans CJK), subset into the file; the labels
//! come from the window's i18n catalog, so the receipt speaks the resident's language.

use std::path::{Path, PathBuf};

use doorstep_core::DocId;
use doorstep_core::ErrorCode;
use doorstep_core::application;
use printpdf::{
    Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};
use serde::Deserialize;

use crate::device::Device;
use crate::error::DeviceError;

/// Environment variable naming a font file (TTF, OTF or TTC) for receipts.
pub const RECEIPT_FONT_ENV: &str = "DOORSTEP_RECEIPT_FONT";

/// Where Debian and Ubuntu put the CJK fonts the app can use.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// The receipt's words, in the window's language.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct ReceiptLabels {
    pub title: String,
    pub resident: String,
    pub service: String,
    pub reference: String,
    pub date: String,
    pub helper: String,
    pub status: String,
    pub next: String,
    pub consents: String,
    /// The label of the committee's phone.
    #[serde(default)]
    pub phone: String,
    /// The status's name in words.
    pub status_text: String,
    /// One line per consent decision, already in words.
    #[serde(default)]
    pub consent_lines: Vec<String>,
    /// `zh-CN` or `en`: which of the catalog's texts to use.
    pub lang: String,
}

/// A receipt's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub title: String,
    /// Between a row's label and its value: `：` in Chinese, `: ` in English.
    pub colon: &'static str,
    /// Label and value, one per line.
    pub rows: Vec<(String, String)>,
    /// A heading and its paragraphs.
    pub sections: Vec<(String, Vec<String>)>,
}

/// The folder of the data folder where receipts are saved.
pub const RECEIPTS_DIR: &str = "receipts";

/// The font for receipts: `DOORSTEP_RECEIPT_FONT`, or the first CJK font installed.
pub fn find_font() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(RECEIPT_FONT_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    FONT_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The reference a resident can quote: the application's id, grouped for reading aloud.
pub fn reference(id: &DocId) -> String {
    let hex: String = id
        .as_str()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase();
    // The last twelve: the first ones are a time stamp shared by records made together.
    let tail = &hex[hex.len().saturating_sub(12)..];
    tail.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A date as the receipt's language writes it: `2026年12月1日`, `1 Dec 2026`.
pub fn written_date((y, m, d): (u32, u32, u32), en: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if en {
        let month = MONTHS
            .get(m.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("");
        format!("{d} {month} {y}")
    } else {
        format!("{y}年{m}月{d}日")
    }
}

/// Width of `text` in ems: CJK and other wide characters one em, the rest about half.
fn width_em(text: &str) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum()
}

/// Breaks `text` into lines no wider than `max_em`.
pub fn wrap(text: &str, max_em: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        if c == '\n' {
            lines.push(std::mem::take(&mut line));
            continue;
        }
        line.push(c);
        if width_em(&line) > max_em {
            // Break before an ASCII word rather than inside it, when one started here.
            let cut = if c.is_ascii_alphanumeric() {
                line.rfind(|ch: char| !ch.is_ascii_alphanumeric())
                    .map(|i| i + line[i..].chars().next().map_or(1, char::len_utf8))
            } else {
                None
            };
            match cut {
                Some(i) if i > 0 && i < line.len() => {
                    let rest = line.split_off(i);
                    lines.push(std::mem::replace(&mut line, rest));
                }
                _ => {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
const TITLE_PT: f32 = 30.0;
const BODY_PT: f32 = 20.0;
const LINE: f32 = 1.5;

/// Lays the receipt out on A4 pages in large print and returns the PDF's bytes.
pub fn render(receipt: &Receipt, font_file: &Path) -> Result<Vec<u8>, DeviceError> {
    let bytes = std::fs::read(font_file).map_err(|e| DeviceError::Receipt {
        code: ErrorCode::ReceiptFontMissing,
        reason: format!("{}: {e}", font_file.display()),
    })?;
    let unusable = |why: String| DeviceError::Receipt {
        code: ErrorCode::ReceiptFontMissing,
        reason: format!("{} is not a usable font: {why}", font_file.display()),
    };
    // Only the glyphs the receipt uses go into the file: a CJK font is megabytes.
    let used: String =
        std::iter::once(receipt.title.as_str())
            .chain(
                receipt
                    .rows
                    .iter()
                    .flat_map(|(l, v)| [l.as_str(), v.as_str(), receipt.colon]),
            )
            .chain(receipt.sections.iter().flat_map(|(h, ps)| {
                std::iter::once(h.as_str()).chain(ps.iter().map(String::as_str))
            }))
            .collect();
    let subset = subset_font(&bytes, &used).map_err(unusable)?;
    let mut font_warnings = Vec::new();
    let font = ParsedFont::from_bytes(&subset, 0, &mut font_warnings)
        .ok_or_else(|| unusable("cannot be parsed".into()))?;
    let mut doc = PdfDocument::new(&receipt.title);
    let font_id = doc.add_font(&font);
    let usable_em = |pt: f32| (PAGE_W - 2.0 * MARGIN) * 72.0 / 25.4 / pt;

    // (text, size in points, bold-ish gap before) for every line, then paginate.
    let mut lines: Vec<(String, f32, f32)> = Vec::new();
    for l in wrap(&receipt.title, usable_em(TITLE_PT)) {
        lines.push((l, TITLE_PT, 0.0));
    }
    for (label, value) in &receipt.rows {
        let mut first = true;
        for l in wrap(
            &format!("{label}{}{value}", receipt.colon),
            usable_em(BODY_PT),
        ) {
            lines.push((l, BODY_PT, if first { 4.0 } else { 0.0 }));
            first = false;
        }
    }
    for (heading, paragraphs) in &receipt.sections {
        for l in wrap(heading, usable_em(BODY_PT * 1.15)) {
            lines.push((l, BODY_PT * 1.15, 8.0));
        }
        for p in paragraphs {
            for l in wrap(p, usable_em(BODY_PT)) {
                lines.push((l, BODY_PT, 0.0));
            }
        }
    }

    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let mut y = PAGE_H - MARGIN;
    for (text, size, gap) in lines {
        let step = (size * LINE + gap) * 25.4 / 72.0;
        if y - step < MARGIN && !ops.is_empty() {
            pages.push(PdfPage::new(
                Mm(PAGE_W),
                Mm(PAGE_H),
                std::mem::take(&mut ops),
            ));
            y = PAGE_H - MARGIN;
        }
        y -= step;
        ops.extend([
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point {
                    x: Mm(MARGIN).into(),
                    y: Mm(y).into(),
                },
            },
            Op::SetFont {
                font: PdfFontHandle::External(font_id.clone()),
                size: Pt(size),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text)],
            },
            Op::EndTextSection,
        ]);
    }
    pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings))
}

/// The first font of `bytes` (a TTF, OTF or TTC) cut down to the glyphs of `text`, with a
/// Unicode cmap for them.
fn subset_font(bytes: &[u8], text: &str) -> Result<Vec<u8>, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile, subset};

    let face = ttf_parser::Face::parse(bytes, 0).map_err(|e| e.to_string())?;
    let mut glyphs: Vec<u16> = vec![0];
    // The space too: allsorts panics (in a frame that cannot unwind, so the app aborts)
    // subsetting to no mapped character, as for a receipt of empty text (fuzzing found it).
    for c in text.chars().chain([' ']) {
        if let Some(g) = face.glyph_index(c)
            && !glyphs.contains(&g.0)
        {
            glyphs.push(g.0);
        }
    }
    if glyphs.len() < 2 {
        return Err("the font has none of the receipt's characters, nor a space".into());
    }
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    subset(
        &provider,
        &glyphs,
        &SubsetProfile::Minimal,
        CmapTarget::Unicode,
    )
    .map_err(|e| e.to_string())
}

impl Device {
    /// The receipt of an application, in the words of `labels`.
    pub fn receipt(&self, id: &DocId, labels: &ReceiptLabels) -> Result<Receipt, DeviceError> {
        let app = self.application(id)?;
        let service = self
            .catalog
            .service(&app.service)
            .ok_or_else(|| DeviceError::ServiceUnknown(app.service.clone()))?;
        let en = labels.lang == "en";
        // Lists, brackets and colons as the receipt's language writes them.
        let list = if en { ", " } else { "、" };
        let text = |t: &doorstep_core::catalog::Text| {
            if en { t.en.clone() } else { t.zh_cn.clone() }
        };
        let resident = DocId::parse(&app.resident)
            .and_then(|r| self.resident(&r).ok())
            .map(|r| r.name)
            .unwrap_or_default();
        let enrolled = self.enrollment()?.map(|e| e.committees).unwrap_or_default();
        let committees = enrolled
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(list);
        // Whom the resident or their family can call later.
        let phones = enrolled
            .iter()
            .filter(|c| !c.phone.is_empty())
            .map(|c| c.phone.as_str())
            .collect::<Vec<_>>()
            .join(list);
        let helper = match (committees.is_empty(), en) {
            (true, _) => self.volunteer.clone(),
            (false, true) => format!("{} ({committees})", self.volunteer),
            (false, false) => format!("{}（{committees}）", self.volunteer),
        };
        let (y, m, d) = self.today();
        let mut rows = vec![
            (labels.resident.clone(), resident),
            (labels.service.clone(), text(&service.name)),
            (labels.reference.clone(), reference(id)),
            (labels.date.clone(), written_date((y, m, d), en)),
            (labels.helper.clone(), helper),
            (labels.phone.clone(), phones),
            (labels.status.clone(), labels.status_text.clone()),
        ];
        rows.retain(|(_, v)| !v.trim().is_empty());
        let next: Vec<String> = service
            .steps
            .last()
            .map(|s| vec![text(&s.body)])
            .unwrap_or_default();
        let mut sections = vec![(labels.next.clone(), next)];
        if !labels.consent_lines.is_empty() && !application::sensitive_kinds(service).is_empty() {
            sections.push((labels.consents.clone(), labels.consent_lines.clone()));
        }
        Ok(Receipt {
            title: labels.title.clone(),
            colon: if en { ": " } else { "：" },
            rows,
            sections,
        })
    }

    /// Makes the receipt and saves it as `receipts/<reference>.pdf` in the data folder
    /// (a later one for the same application replaces it); returns the file.
    pub fn save_receipt(&self, id: &DocId, labels: &ReceiptLabels) -> Result<PathBuf, DeviceError> {
        let pdf = self.receipt_pdf(id, labels)?;
        let dir = self.data_dir().join(RECEIPTS_DIR);
        let path = dir.join(format!("{}.pdf", reference(id)));
        crate::file_out::write_whole(&path, &pdf).map_err(|e| DeviceError::Receipt {
            code: ErrorCode::ReceiptUnwritable,
            reason: format!("{}: {e}", path.display()),
        })?;
        Ok(path)
    }

    /// `path` when it is a receipt this device saved: the window may open nothing else.
    pub fn saved_receipt(&self, path: &str) -> Result<PathBuf, DeviceError> {
        let path = PathBuf::from(path);
        let own = path.parent() == Some(self.data_dir().join(RECEIPTS_DIR).as_path())
            && path.extension().is_some_and(|e| e == "pdf")
            && path.is_file();
        if own {
            Ok(path)
        } else {
            Err(DeviceError::NotFound("a receipt".into()))
        }
    }

    /// The receipt as a PDF (see [`render`]), with the font [`find_font`] finds.
    pub fn receipt_pdf(&self, id: &DocId, labels: &ReceiptLabels) -> Result<Vec<u8>, DeviceError> {
        let receipt = self.receipt(id, labels)?;
        let font = find_font().ok_or(DeviceError::Receipt {
            code: ErrorCode::ReceiptFontMissing,
            reason: "no CJK font is installed (apt package fonts-wqy-microhei)".into(),
        })?;
        render(&receipt, &font)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_written_as_the_receipts_language_writes_it() {
        assert_eq!(written_date((2026, 12, 1), false), "2026年12月1日");
        assert_eq!(written_date((2026, 9, 30), true), "30 Sep 2026");
    }

    #[test]
    fn lines_wrap_by_width_and_keep_latin_words_whole() {
        assert_eq!(wrap("一二三四五六", 4.0), ["一二三四", "五六"]);
        let lines = wrap("账户 6222000011112222 已登记", 10.0);
        assert!(lines.iter().all(|l| width_em(l) <= 10.0), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("6222000011112222")),
            "{lines:?}"
        );
        assert_eq!(wrap("第一行\n第二行", 20.0), ["第一行", "第二行"]);
    }

    #[test]
    fn references_are_the_ids_tail_in_groups_of_four() {
        let id = DocId::parse("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("id");
        assert_eq!(reference(&id), "3B1F-2A9D-8E11");
    }
}
