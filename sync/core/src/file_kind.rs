//! What kind of file an attachment is, judged from its bytes rather than from the name
//! or the type the file chooser reported: a slot for a photo takes only pictures the
//! window and the government counter can open, and a slot for a document takes those or
//! a PDF. Sniffing is the `infer` crate's; this module says which of its answers we take.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Which files an attachment slot takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Accepts {
    /// A photo: JPEG, PNG or WebP.
    #[default]
    Photo,
    /// A photo, or a scanned document as PDF.
    PhotoOrPdf,
}

const PHOTOS: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
const PDF: &str = "application/pdf";

impl Accepts {
    /// The media type of `bytes` when the slot takes it; `None` when it does not (or the
    /// bytes are no file type we know).
    pub fn media_type(self, bytes: &[u8]) -> Option<&'static str> {
        let found = infer::get(bytes)?.mime_type();
        let taken = PHOTOS.contains(&found) || (self == Accepts::PhotoOrPdf && found == PDF);
        taken.then_some(found)
    }

    /// The error code shown when a file is refused.
    pub fn refusal_code(self) -> ErrorCode {
        match self {
            Accepts::Photo => ErrorCode::AttachmentNotPhoto,
            Accepts::PhotoOrPdf => ErrorCode::AttachmentNotPhotoOrPdf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    const PDF_BYTES: &[u8] = b"%PDF-1.7\n";

    #[test]
    fn photos_go_in_every_slot_and_pdfs_only_where_documents_are_taken() {
        assert_eq!(Accepts::Photo.media_type(PNG), Some("image/png"));
        assert_eq!(Accepts::Photo.media_type(JPEG), Some("image/jpeg"));
        assert_eq!(Accepts::PhotoOrPdf.media_type(JPEG), Some("image/jpeg"));
        assert_eq!(Accepts::Photo.media_type(PDF_BYTES), None);
        assert_eq!(
            Accepts::PhotoOrPdf.media_type(PDF_BYTES),
            Some("application/pdf")
        );
    }

    #[test]
    fn text_archives_and_unknown_bytes_are_refused() {
        for bytes in [
            &b"synthetic photo"[..],
            b"PK\x03\x04\x14\0\0\0",
            b"GIF89a\x01\0\x01\0",
            b"",
        ] {
            assert_eq!(Accepts::PhotoOrPdf.media_type(bytes), None, "{bytes:?}");
        }
        assert_eq!(Accepts::Photo.refusal_code(), ErrorCode::AttachmentNotPhoto);
    }
}
