//! The volunteer's visit list on paper: a large-print PDF (the receipt's layout and
//! font) of the visits assigned to them, by due date then address, each with where, what
//! for and what the resident's file lacks, and the outcomes to tick by hand. For
//! volunteers who would rather carry paper than a tablet into a village.

use std::collections::BTreeMap;

use doorstep_core::date::parse_ymd;

use doorstep_core::ErrorCode;

use crate::device::Device;
use crate::error::DeviceError;
use crate::receipt::{Receipt, find_font, render, written_date};

/// The most visits one list prints; more are left for the next list.
pub const MAX_PRINTED: usize = 200;

impl Device {
    /// This device's user's visits as a large-print PDF (see the module). `labels` are
    /// its words in the window's language (keys: `title`, `address`, `due`, `purpose`,
    /// `missing`, `outcome`, `purpose.<code>`, `missing.<code>`, `outcome.<code>`,
    /// `none`); `lang` is `zh-CN` or `en`.
    pub fn visit_list_pdf(
        &self,
        labels: &BTreeMap<String, String>,
        lang: &str,
    ) -> Result<(Vec<u8>, usize), DeviceError> {
        let receipt = self.visit_list(labels, lang)?;
        let font = find_font().ok_or(DeviceError::Receipt {
            code: ErrorCode::ReceiptFontMissing,
            reason: "no CJK font is installed (apt package fonts-wqy-microhei)".into(),
        })?;
        let count = receipt
            .sections
            .iter()
            .filter(|(_, lines)| !lines.is_empty())
            .count();
        Ok((render(&receipt, &font)?, count))
    }

    /// The list's content, laid out as a receipt: one section per visit.
    pub fn visit_list(
        &self,
        labels: &BTreeMap<String, String>,
        lang: &str,
    ) -> Result<Receipt, DeviceError> {
        let label = |key: &str| labels.get(key).cloned().unwrap_or_else(|| key.to_owned());
        let en = lang == "en";
        let colon = if en { ": " } else { "：" };
        let date =
            |text: &str| parse_ymd(text).map_or_else(|| text.to_owned(), |d| written_date(d, en));
        let visits = self.my_visits(0, MAX_PRINTED)?;
        let mut sections = Vec::with_capacity(visits.len());
        for (n, v) in visits.iter().enumerate() {
            let purpose = if v.purpose == doorstep_core::visit::Purpose::Service {
                self.catalog
                    .service(&v.service)
                    .map_or_else(|| v.service.clone(), |s| s.name.get(lang).to_owned())
            } else {
                label(&format!("purpose.{}", v.purpose.as_str()))
            };
            let mut lines = vec![
                format!("{}{colon}{}", label("address"), v.address),
                format!("{}{colon}{}", label("due"), date(&v.due)),
                format!("{}{colon}{purpose}", label("purpose")),
            ];
            if !v.missing.is_empty() {
                let missing: Vec<String> = v
                    .missing
                    .iter()
                    .map(|m| {
                        let code = serde_json::to_value(m)
                            .ok()
                            .and_then(|j| j.as_str().map(str::to_owned))
                            .unwrap_or_default();
                        label(&format!("missing.{code}"))
                    })
                    .collect();
                lines.push(format!(
                    "{}{colon}{}",
                    label("missing"),
                    missing.join(if en { ", " } else { "、" })
                ));
            }
            let boxes: Vec<String> = doorstep_core::visit::Outcome::ALL
                .iter()
                .map(|o| format!("□ {}", label(&format!("outcome.{}", o.as_str()))))
                .collect();
            lines.push(format!("{}{colon}{}", label("outcome"), boxes.join("  ")));
            sections.push((format!("{}. {}", n + 1, v.name), lines));
        }
        let title = format!(
            "{} · {} · {}",
            label("title"),
            self.volunteer(),
            written_date(self.today(), en)
        );
        if sections.is_empty() {
            sections.push((label("none"), Vec::new()));
        }
        Ok(Receipt {
            title,
            colon,
            rows: Vec::new(),
            sections,
        })
    }
}
