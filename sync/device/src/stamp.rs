//! The day and the volunteer's name stamped onto a copy of a photo: the ID-card photo of
//! a certification at home, which local practice asks to show the date. The device
//! draws it itself, from its own clock and its volunteer's name (never from what the
//! window says), in a band across the bottom of the picture, in the CJK font receipts
//! use; the original is kept beside the copy, unchanged.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use doorstep_core::ErrorCode;
use doorstep_core::date::Ymd;
use image::{Rgb, RgbImage};

use crate::error::DeviceError;

/// The band's height, as a share of the picture's height (at least [`MIN_BAND`] pixels).
const BAND_SHARE: f32 = 0.075;
const MIN_BAND: f32 = 28.0;
/// JPEG quality of the stamped copy: the card's print stays legible.
const JPEG_QUALITY: u8 = 90;

/// What the stamp says, in Chinese whatever the window's language (it is read at the
/// social security counter): `日期：2026年12月7日  工作人员：…`.
pub fn stamp_text((y, m, d): Ymd, volunteer: &str) -> String {
    format!("日期：{y}年{m}月{d}日  工作人员：{}", volunteer.trim())
}

fn refused(code: ErrorCode, reason: String) -> DeviceError {
    DeviceError::Photo { code, reason }
}

/// A JPEG copy of `photo` (JPEG, PNG or WebP) with `text` in a dark band across its
/// bottom, set in `font` (a TTF, OTF or TTC file's bytes).
pub fn stamp(photo: &[u8], text: &str, font: &[u8]) -> Result<Vec<u8>, DeviceError> {
    let font = FontRef::try_from_slice_and_index(font, 0).map_err(|e| {
        refused(
            ErrorCode::StampFontMissing,
            format!("not a usable font: {e}"),
        )
    })?;
    if let Some(c) = text
        .chars()
        .find(|c| !c.is_whitespace() && font.glyph_id(*c).0 == 0)
    {
        return Err(refused(
            ErrorCode::StampFontMissing,
            format!("the font has no glyph for U+{:04X}", u32::from(c)),
        ));
    }
    let mut picture = image::load_from_memory(photo)
        .map_err(|e| refused(ErrorCode::PhotoUnreadable, e.to_string()))?
        .to_rgb8();
    let (width, height) = picture.dimensions();
    let band = (height as f32 * BAND_SHARE)
        .max(MIN_BAND)
        .min(height as f32);
    let top = height as f32 - band;
    darken(&mut picture, top as u32);
    // The text's size: 60% of the band, smaller when it would not fit across.
    let margin = band * 0.3;
    let mut size = band * 0.6;
    let width_at = |size: f32| -> f32 {
        let scaled = font.as_scaled(PxScale::from(size));
        text.chars()
            .map(|c| scaled.h_advance(font.glyph_id(c)))
            .sum()
    };
    let room = width as f32 - 2.0 * margin;
    let natural = width_at(size);
    if natural > room && natural > 0.0 {
        size *= room / natural;
    }
    let scale = PxScale::from(size);
    let scaled = font.as_scaled(scale);
    let baseline = top + (band + scaled.ascent() + scaled.descent()) / 2.0;
    let mut x = margin;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, point(x, baseline));
        x += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) else {
                return;
            };
            if px < width && py < height {
                let p = picture.get_pixel_mut(px, py);
                let c = coverage.clamp(0.0, 1.0);
                *p = Rgb(p
                    .0
                    .map(|v| (f32::from(v) * (1.0 - c) + 255.0 * c).round() as u8));
            }
        });
    }
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    picture
        .write_with_encoder(encoder)
        .map_err(|e| refused(ErrorCode::PhotoUnreadable, e.to_string()))?;
    Ok(out.into_inner())
}

/// Darkens every row from `top` down to a third of its light, for white text to read on
/// any picture.
fn darken(picture: &mut RgbImage, top: u32) {
    let (width, height) = picture.dimensions();
    for y in top.min(height)..height {
        for x in 0..width {
            let p = picture.get_pixel_mut(x, y);
            *p = Rgb(p.0.map(|v| v / 3));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_font_is_refused_as_missing_the_font() {
        let err = stamp(b"\x89PNG", "日期", b"not a font").expect_err("no font");
        assert_eq!(err.code(), ErrorCode::StampFontMissing);
    }

    #[test]
    fn the_text_names_the_day_and_the_volunteer() {
        assert_eq!(
            stamp_text((2026, 12, 7), " 测试志愿者 "),
            "日期：2026年12月7日  工作人员：测试志愿者"
        );
    }
}
