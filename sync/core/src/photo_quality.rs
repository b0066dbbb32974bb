//! The quality record of a photo taken with the guided camera: how it was taken and
//! what held when it was, kept with the photo's attachment so that a supervisor sees it
//! beside the photo. It arrives from the window as JSON and is checked here (closed
//! lists of checks and liveness outcomes, bounded finite numbers); one read back from a
//! record that does not hold is shown as unreadable, never trusted.

use serde::{Deserialize, Serialize};

/// A check of the camera's guidance (the window's `CHECKS`, in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum PhotoCheck {
    NoFace,
    ManyFaces,
    TooDark,
    TooBright,
    ComeCloser,
    MoveBack,
    FaceScreen,
    HoldStill,
}

impl PhotoCheck {
    pub const ALL: [PhotoCheck; 8] = [
        PhotoCheck::NoFace,
        PhotoCheck::ManyFaces,
        PhotoCheck::TooDark,
        PhotoCheck::TooBright,
        PhotoCheck::ComeCloser,
        PhotoCheck::MoveBack,
        PhotoCheck::FaceScreen,
        PhotoCheck::HoldStill,
    ];
}

/// How the liveness step after the photo ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    /// The resident blinked when asked.
    Blink,
    /// The resident nodded when asked.
    Nod,
    /// The volunteer said the resident could not.
    Skipped,
    /// The service did not ask for it.
    NotAsked,
}

/// Where a photo came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSource {
    /// The guided camera.
    #[default]
    Camera,
    /// A file chosen by the volunteer, judged by the same checks when it was attached.
    File,
}

/// How a photo was taken and what held when it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PhotoQuality {
    /// Older records, from before files were judged, name none: the camera.
    #[serde(default)]
    pub source: PhotoSource,
    /// Taken by itself when every check held (`false`: by hand, or a chosen file).
    pub auto: bool,
    pub passed: Vec<PhotoCheck>,
    /// What did not hold when the photo was taken by hand.
    pub failed: Vec<PhotoCheck>,
    /// The face's height against the picture's shorter side.
    pub size: f64,
    /// Degrees; `None` without a face.
    pub yaw: Option<f64>,
    pub pitch: Option<f64>,
    pub roll: Option<f64>,
    /// Mean luma of the face, 0-255.
    pub brightness: f64,
    /// Edges against contrast (below 0.25 is blurred).
    pub sharpness: f64,
    pub liveness: Liveness,
}

/// Longest quality record accepted, in bytes of JSON.
pub const MAX_JSON: usize = 2048;

/// Why a quality record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QualityError {
    #[error("the quality record is {0} bytes; at most {MAX_JSON}")]
    TooLong(usize),
    #[error("the quality record is not one: {0}")]
    Malformed(String),
    #[error("the quality record's {0} is out of range")]
    OutOfRange(&'static str),
    #[error("the quality record does not list each check once, as passed or failed")]
    Checks,
}

impl PhotoQuality {
    /// Reads and checks a quality record sent as JSON.
    pub fn parse(json: &str) -> Result<PhotoQuality, QualityError> {
        if json.len() > MAX_JSON {
            return Err(QualityError::TooLong(json.len()));
        }
        let q: PhotoQuality =
            serde_json::from_str(json).map_err(|e| QualityError::Malformed(e.to_string()))?;
        q.check()?;
        Ok(q)
    }

    fn check(&self) -> Result<(), QualityError> {
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        if !within(self.size, 0.0, 10.0) {
            return Err(QualityError::OutOfRange("size"));
        }
        for (name, angle) in [
            ("yaw", self.yaw),
            ("pitch", self.pitch),
            ("roll", self.roll),
        ] {
            if angle.is_some_and(|a| !within(a, -180.0, 180.0)) {
                return Err(QualityError::OutOfRange(name));
            }
        }
        if !within(self.brightness, 0.0, 255.0) {
            return Err(QualityError::OutOfRange("brightness"));
        }
        if !within(self.sharpness, 0.0, 1000.0) {
            return Err(QualityError::OutOfRange("sharpness"));
        }
        let listed = |c: PhotoCheck| {
            self.passed.iter().filter(|p| **p == c).count()
                + self.failed.iter().filter(|f| **f == c).count()
        };
        let each_once = PhotoCheck::ALL.iter().all(|c| listed(*c) == 1)
            && self.passed.len() + self.failed.len() == PhotoCheck::ALL.len();
        // Taken by itself only when every check held.
        if !each_once || (self.auto && !self.failed.is_empty()) {
            return Err(QualityError::Checks);
        }
        // A chosen file was neither taken by itself nor followed by a liveness step.
        if self.source == PhotoSource::File && (self.auto || self.liveness != Liveness::NotAsked) {
            return Err(QualityError::OutOfRange("source"));
        }
        Ok(())
    }

    /// The record as kept in the attachment.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"auto":true,"passed":["noFace","manyFaces","tooDark","tooBright","comeCloser","moveBack","faceScreen","holdStill"],"failed":[],"size":0.412,"yaw":1.2,"pitch":-7.3,"roll":2.8,"brightness":142.2,"sharpness":0.603,"liveness":"blink"}"#;

    #[test]
    fn a_record_from_the_window_reads_and_writes_back_the_same() {
        let q = PhotoQuality::parse(GOOD).expect("good");
        assert!(q.auto);
        assert_eq!(q.liveness, Liveness::Blink);
        assert_eq!(PhotoQuality::parse(&q.to_json()).expect("again"), q);
    }

    #[test]
    fn taken_by_hand_it_keeps_what_failed() {
        let json = GOOD
            .replace(r#""auto":true"#, r#""auto":false"#)
            .replace(r#""comeCloser","#, "")
            .replace(r#""failed":[]"#, r#""failed":["comeCloser"]"#)
            .replace(r#""yaw":1.2"#, r#""yaw":null"#);
        let q = PhotoQuality::parse(&json).expect("by hand");
        assert_eq!(q.failed, vec![PhotoCheck::ComeCloser]);
        assert_eq!(q.yaw, None);
    }

    #[test]
    fn a_chosen_file_is_judged_but_neither_automatic_nor_live() {
        let file = GOOD
            .replacen('{', r#"{"source":"file","#, 1)
            .replace(r#""auto":true"#, r#""auto":false"#)
            .replace(r#""liveness":"blink""#, r#""liveness":"not_asked""#);
        let q = PhotoQuality::parse(&file).expect("a judged file");
        assert_eq!(q.source, PhotoSource::File);
        assert_eq!(
            PhotoQuality::parse(GOOD).expect("camera").source,
            PhotoSource::Camera
        );
        for bad in [
            file.replace(r#""auto":false"#, r#""auto":true"#),
            file.replace(r#""liveness":"not_asked""#, r#""liveness":"blink""#),
        ] {
            assert_eq!(
                PhotoQuality::parse(&bad),
                Err(QualityError::OutOfRange("source")),
                "{bad}"
            );
        }
    }

    #[test]
    fn kept_in_an_application_it_reads_back_and_an_altered_one_is_not_trusted() {
        use crate::application::{self, Attachment};
        use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
        let mut doc = AutoCommit::new();
        application::write_new(&mut doc, "r1", "pension_certification", "1", ("a", "v"), 1)
            .expect("new");
        let photo = |sha: &str, quality: Option<PhotoQuality>| Attachment {
            sha256: sha.into(),
            slot: "face_photo".into(),
            name: "face_photo.jpg".into(),
            mime: "image/jpeg".into(),
            size: 10,
            added_at: 2,
            quality,
            quality_unreadable: false,
            stamp: None,
        };
        let q = PhotoQuality::parse(GOOD).expect("good");
        application::write_attachment(&mut doc, &photo("aa", Some(q.clone()))).expect("kept");
        application::write_attachment(&mut doc, &photo("bb", None)).expect("chosen file");
        application::write_attachment(&mut doc, &photo("cc", Some(q.clone()))).expect("kept");
        // Another device (or an attacker) rewrites one record as something else.
        let Some((automerge::Value::Object(ObjType::Map), attachments)) =
            doc.get(ROOT, "attachments").expect("get")
        else {
            panic!("attachments")
        };
        let Some((_, entry)) = doc.get(&attachments, "cc").expect("get") else {
            panic!("entry")
        };
        doc.put(&entry, "quality", r#"{"auto":true,"passed":[]}"#)
            .expect("put");
        let app = application::read(&doc).expect("read");
        let by = |sha: &str| app.attachments.iter().find(|a| a.sha256 == sha).expect(sha);
        assert_eq!(by("aa").quality.as_ref(), Some(&q));
        assert!(!by("aa").quality_unreadable);
        assert_eq!(by("bb").quality, None);
        assert!(!by("bb").quality_unreadable);
        assert_eq!(by("cc").quality, None);
        assert!(by("cc").quality_unreadable);
    }

    #[test]
    fn every_bad_record_is_refused_with_its_reason() {
        let cases: &[(String, QualityError)] = &[
            (
                " ".repeat(MAX_JSON + 1),
                QualityError::TooLong(MAX_JSON + 1),
            ),
            (
                GOOD.replace(r#""size":0.412"#, r#""size":-1"#),
                QualityError::OutOfRange("size"),
            ),
            (
                GOOD.replace(r#""roll":2.8"#, r#""roll":400"#),
                QualityError::OutOfRange("roll"),
            ),
            (
                GOOD.replace(r#""brightness":142.2"#, r#""brightness":300"#),
                QualityError::OutOfRange("brightness"),
            ),
            (
                GOOD.replace(r#""sharpness":0.603"#, r#""sharpness":1e9"#),
                QualityError::OutOfRange("sharpness"),
            ),
            // a check left out, a check twice, one both passed and failed
            (
                GOOD.replace(r#""holdStill""#, r#""moveBack""#),
                QualityError::Checks,
            ),
            (GOOD.replace(r#","holdStill""#, ""), QualityError::Checks),
            (
                GOOD.replace(r#""failed":[]"#, r#""failed":["noFace"]"#),
                QualityError::Checks,
            ),
            // taken by itself with a check failed
            (
                GOOD.replace(r#""comeCloser","#, "")
                    .replace(r#""failed":[]"#, r#""failed":["comeCloser"]"#),
                QualityError::Checks,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(PhotoQuality::parse(json).as_ref(), Err(want), "{json}");
        }
        for malformed in [
            "",
            "[]",
            r#"{"auto":true}"#,
            &GOOD.replace(r#""liveness":"blink""#, r#""liveness":"wink""#),
            &GOOD.replace(r#""noFace""#, r#""smile""#),
            &GOOD.replace('}', r#","takenAt":1}"#),
        ] {
            assert!(
                matches!(
                    PhotoQuality::parse(malformed),
                    Err(QualityError::Malformed(_))
                ),
                "{malformed}"
            );
        }
    }
}
