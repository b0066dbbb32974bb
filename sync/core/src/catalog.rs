//! The service catalog: what can be applied for, as versioned data files (TOML), not code.
//!
//! Each service file gives its plain-language names in zh-CN and en, eligibility rules,
//! the form fields with their types and validation, the required attachments, and the
//! guided steps shown to the resident. [`Catalog::parse`] checks everything and names the
//! file, the line and the field of the first problem; a catalog that does not pass stops
//! the app from starting rather than letting a volunteer fill in a broken form.
//!
//! ```
//! use doorstep_core::catalog::Catalog;
//!
//! let err = Catalog::parse("2026.1", &[("bad.toml", "code = 1")]).expect_err("malformed");
//! assert!(err.to_string().starts_with("bad.toml line 1"));
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::date::{Ymd, age_on};
use crate::file_kind::Accepts;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A text in both languages of the UI.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

impl Text {
    /// The text in `lang` (`en`, or Chinese for anything else).
    pub fn get(&self, lang: &str) -> &str {
        if lang.starts_with("en") {
            &self.en
        } else {
            &self.zh_cn
        }
    }
}

/// Kinds of form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Choice,
    Bool,
    Phone,
    IdNumber,
}

/// One choice of a `choice` field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: Text,
}

/// A form field of a service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    #[ts(as = "String")]
    pub key: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub label: Text,
    #[serde(default)]
    pub help: Option<Text>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub max_length: Option<u32>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    /// A personal number (a bank or social-security account): shown masked but for its
    /// last four characters, like phones and ID numbers, unless revealed with the PIN.
    #[serde(default)]
    pub masked: bool,
    /// A date that cannot lie in the future (a date something already happened).
    #[serde(default)]
    pub past: bool,
}

impl FieldDef {
    /// Whether the field holds a personal number that screens and files mask.
    pub fn is_masked(&self) -> bool {
        self.masked || matches!(self.kind, FieldKind::Phone | FieldKind::IdNumber)
    }
}

/// Personal data of a special kind (PIPL), for which the resident consents separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Sensitive {
    Face,
    Health,
    Disability,
    Finances,
}

impl Sensitive {
    pub const ALL: [Sensitive; 4] = [
        Sensitive::Face,
        Sensitive::Health,
        Sensitive::Disability,
        Sensitive::Finances,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sensitive::Face => "face",
            Sensitive::Health => "health",
            Sensitive::Disability => "disability",
            Sensitive::Finances => "finances",
        }
    }

    pub fn parse(text: &str) -> Option<Sensitive> {
        Sensitive::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A document or photo to attach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AttachmentDef {
    #[ts(as = "String")]
    pub key: Spanned<String>,
    pub label: Text,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub sensitive: Option<Sensitive>,
    /// Which files it takes: a photo (the default), or a photo or a PDF.
    #[serde(default)]
    pub accepts: Accepts,
    /// How long it is kept and what happens to it then, as the consent screen tells the
    /// resident: the committee's retention rule, required for a sensitive attachment.
    #[serde(default)]
    pub kept: Option<Text>,
    /// A photo taken in a particular way: `id_card`, the resident half body holding her
    /// ID card, of which the device keeps a copy stamped with the day and the
    /// volunteer's name beside the original.
    #[serde(default)]
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<Capture>,
}

/// Ways a photo slot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// Half body, holding the ID card, with a dated copy stamped.
    IdCard,
}

/// Kinds of eligibility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The resident is at least `years` old.
    MinAge,
    /// The resident is younger than `years`.
    MaxAge,
    /// A fact the volunteer confirms with the resident (such as holding a certificate).
    Confirm,
}

/// One eligibility rule, with the reason shown when it is not met.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[ts(as = "RuleKind")]
    pub rule: Spanned<RuleKind>,
    #[serde(default)]
    pub years: Option<u32>,
    /// What is confirmed (for `confirm`), or why the rule exists.
    pub reason: Text,
}

/// One screen of resident mode: plain words, and the fields it shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: Text,
    pub body: Text,
    #[serde(default)]
    #[ts(as = "Vec<String>")]
    pub fields: Vec<Spanned<String>>,
}

/// One service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[ts(as = "String")]
    pub code: Spanned<String>,
    pub version: u32,
    pub name: Text,
    pub summary: Text,
    #[serde(default)]
    pub eligibility: Vec<Rule>,
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub attachments: Vec<AttachmentDef>,
    pub steps: Vec<Step>,
}

impl Service {
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key.get_ref() == key)
    }

    pub fn attachment(&self, key: &str) -> Option<&AttachmentDef> {
        self.attachments.iter().find(|a| a.key.get_ref() == key)
    }
}

/// The whole catalog: its version and its services by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub version: String,
    pub services: BTreeMap<String, Service>,
}

/// Why a catalog file was refused: the file, the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

/// Deserializes one service file; on failure the byte offset and a message that starts
/// with the path of the offending field (`fields[2].type: unknown variant ...`).
fn parse_service(text: &str) -> Result<Service, (usize, String)> {
    let located = |e: &toml::de::Error| e.span().map(|s| s.start).unwrap_or(0);
    let de = toml::Deserializer::parse(text)
        .map_err(|e| (located(&e), e.message().trim().to_owned()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let message = inner.message().trim();
        let message = if path.is_empty() || path == "." {
            message.to_owned()
        } else {
            format!("{path}: {message}")
        };
        (located(inner), message)
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Catalog {
    /// Parses and checks the catalog's service files, given as (file name, contents).
    pub fn parse(version: &str, files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        let mut services = BTreeMap::new();
        let mut codes_seen: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in files {
            let err_at = |offset: usize, message: String| CatalogError {
                file: (*file).to_owned(),
                line: line_of(text, offset),
                message,
            };
            let service = parse_service(text).map_err(|(offset, m)| err_at(offset, m))?;
            check_service(&service).map_err(|(offset, message)| err_at(offset, message))?;
            let code = service.code.get_ref().clone();
            if let Some(other) = codes_seen.insert(code.clone(), (*file).to_owned()) {
                return Err(err_at(
                    service.code.span().start,
                    format!("code: {code:?} is already used by {other}"),
                ));
            }
            services.insert(code, service);
        }
        Ok(Catalog {
            version: version.to_owned(),
            services,
        })
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.get(code)
    }
}

/// The catalog's `index.toml`: its version and its service files in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogIndex {
    pub version: String,
    pub services: Vec<String>,
}

impl CatalogIndex {
    /// The name of the index file in a catalog folder.
    pub const FILE: &'static str = "index.toml";

    pub fn parse(text: &str) -> Result<CatalogIndex, CatalogError> {
        let index: CatalogIndex = toml::from_str(text).map_err(|e| CatalogError {
            file: CatalogIndex::FILE.to_owned(),
            line: line_of(text, e.span().map(|s| s.start).unwrap_or(0)),
            message: e.message().trim().to_owned(),
        })?;
        let bad = index.services.iter().find(|f| {
            !f.ends_with(".toml") || f.contains('/') || f.contains('\\') || f.starts_with('.')
        });
        if let Some(bad) = bad {
            return Err(CatalogError {
                file: CatalogIndex::FILE.to_owned(),
                line: text
                    .lines()
                    .position(|l| l.contains(bad.as_str()))
                    .unwrap_or(0)
                    + 1,
                message: format!("services: {bad:?} is not a .toml file name in this folder"),
            });
        }
        Ok(index)
    }
}

fn is_key(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks what the types alone cannot: keys, references, rule parameters, texts.
fn check_service(s: &Service) -> Result<(), (usize, String)> {
    let at = |span: std::ops::Range<usize>, message: String| (span.start, message);
    if !is_key(s.code.get_ref()) {
        return Err(at(
            s.code.span(),
            "code: use lower-case letters, digits and _".into(),
        ));
    }
    let mut keys = HashSet::new();
    for (i, f) in s.fields.iter().enumerate() {
        let key = f.key.get_ref();
        if !is_key(key) {
            return Err(at(
                f.key.span(),
                format!("fields[{i}].key: {key:?} is not a valid key"),
            ));
        }
        if !keys.insert(key.clone()) {
            return Err(at(
                f.key.span(),
                format!("fields[{i}].key: {key:?} is used twice"),
            ));
        }
        check_text(&f.label).map_err(|m| at(f.key.span(), format!("fields[{i}].label: {m}")))?;
        match f.kind {
            FieldKind::Choice if f.options.len() < 2 => {
                return Err(at(
                    f.key.span(),
                    format!("fields[{i}].options: a choice needs at least two options"),
                ));
            }
            FieldKind::Choice => {}
            _ if !f.options.is_empty() => {
                return Err(at(
                    f.key.span(),
                    format!("fields[{i}].options: only choice fields have options"),
                ));
            }
            _ => {}
        }
        if let (Some(min), Some(max)) = (f.min, f.max)
            && min > max
        {
            return Err(at(
                f.key.span(),
                format!("fields[{i}].min: greater than max"),
            ));
        }
    }
    let mut attachment_keys = HashSet::new();
    for (i, a) in s.attachments.iter().enumerate() {
        let key = a.key.get_ref();
        if !is_key(key) || !attachment_keys.insert(key.clone()) || keys.contains(key) {
            return Err(at(
                a.key.span(),
                format!("attachments[{i}].key: {key:?} is invalid or used twice"),
            ));
        }
        check_text(&a.label)
            .map_err(|m| at(a.key.span(), format!("attachments[{i}].label: {m}")))?;
        match (&a.sensitive, &a.kept) {
            (Some(_), None) => {
                return Err(at(
                    a.key.span(),
                    format!(
                        "attachments[{i}].kept: a sensitive attachment must say how long it is kept"
                    ),
                ));
            }
            (_, Some(kept)) => check_text(kept)
                .map_err(|m| at(a.key.span(), format!("attachments[{i}].kept: {m}")))?,
            (None, None) => {}
        }
        if a.capture.is_some() && a.accepts != Accepts::Photo {
            return Err(at(
                a.key.span(),
                format!("attachments[{i}].capture: only a photo slot is taken with the camera"),
            ));
        }
    }
    for (i, r) in s.eligibility.iter().enumerate() {
        let needs_years = matches!(r.rule.get_ref(), RuleKind::MinAge | RuleKind::MaxAge);
        match (needs_years, r.years) {
            (true, None) => {
                return Err(at(
                    r.rule.span(),
                    format!("eligibility[{i}].years: required for an age rule"),
                ));
            }
            (true, Some(y)) if !(1..=130).contains(&y) => {
                return Err(at(
                    r.rule.span(),
                    format!("eligibility[{i}].years: {y} is not an age"),
                ));
            }
            (false, Some(_)) => {
                return Err(at(
                    r.rule.span(),
                    format!("eligibility[{i}].years: only age rules have years"),
                ));
            }
            _ => {}
        }
    }
    if s.steps.is_empty() {
        return Err(at(
            s.code.span(),
            "steps: a service needs at least one guided step".into(),
        ));
    }
    // Every field and attachment is shown on exactly one step: the resident sees all
    // that goes in on her behalf, once.
    let mut shown: HashMap<&str, usize> = HashMap::new();
    for (i, step) in s.steps.iter().enumerate() {
        for (j, f) in step.fields.iter().enumerate() {
            let key = f.get_ref().as_str();
            if !keys.contains(key) && !attachment_keys.contains(key) {
                return Err(at(
                    f.span(),
                    format!("steps[{i}].fields[{j}]: {key:?} is not a field of this service"),
                ));
            }
            if let Some(first) = shown.insert(key, i) {
                return Err(at(
                    f.span(),
                    format!("steps[{i}].fields[{j}]: {key:?} is already shown on steps[{first}]"),
                ));
            }
        }
    }
    let unshown = s
        .fields
        .iter()
        .map(|f| (&f.key, "fields"))
        .chain(s.attachments.iter().map(|a| (&a.key, "attachments")))
        .find(|(key, _)| !shown.contains_key(key.get_ref().as_str()));
    if let Some((key, list)) = unshown {
        return Err(at(
            key.span(),
            format!(
                "{list}: {:?} is shown on no step; name it in one step's fields",
                key.get_ref()
            ),
        ));
    }
    Ok(())
}

fn check_text(t: &Text) -> Result<(), String> {
    if t.zh_cn.trim().is_empty() || t.en.trim().is_empty() {
        Err("both zh-CN and en are needed".into())
    } else {
        Ok(())
    }
}

/// Why a resident cannot apply, or what must be confirmed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Eligibility {
    pub eligible: bool,
    /// Rules not met, with their reasons (the resident cannot apply).
    pub unmet: Vec<Text>,
    /// Facts the volunteer must confirm with the resident before applying.
    pub to_confirm: Vec<Text>,
}

impl Service {
    /// Checks the age rules against a birth date; lists the facts to confirm.
    pub fn eligibility(&self, birth: Ymd, today: Ymd) -> Eligibility {
        let age = age_on(birth, today);
        let mut unmet = Vec::new();
        let mut to_confirm = Vec::new();
        for r in &self.eligibility {
            let years = r.years.unwrap_or(0);
            match r.rule.get_ref() {
                RuleKind::MinAge if age < years => unmet.push(r.reason.clone()),
                RuleKind::MaxAge if age >= years => unmet.push(r.reason.clone()),
                RuleKind::Confirm => to_confirm.push(r.reason.clone()),
                _ => {}
            }
        }
        Eligibility {
            eligible: unmet.is_empty(),
            unmet,
            to_confirm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
code = "demo"
version = 1
name = { zh-CN = "示例", en = "Demo" }
summary = { zh-CN = "示例", en = "Demo" }

[[eligibility]]
rule = "min_age"
years = 80
reason = { zh-CN = "年满80周岁", en = "Aged 80 or over" }

[[fields]]
key = "bank"
type = "text"
label = { zh-CN = "银行", en = "Bank" }

[[steps]]
title = { zh-CN = "开始", en = "Start" }
body = { zh-CN = "说明", en = "About" }
fields = ["bank"]
"#;

    fn parse_one(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse("test", &[("demo.toml", text)])
    }

    #[test]
    fn parses_a_minimal_service() {
        let c = parse_one(MINIMAL).expect("valid");
        let s = c.service("demo").expect("service");
        assert_eq!(s.name.zh_cn, "示例");
        assert!(s.field("bank").is_some());
    }

    #[test]
    fn names_file_line_and_field_of_a_type_error() {
        let bad = MINIMAL.replace("type = \"text\"", "type = \"txt\"");
        let err = parse_one(&bad).expect_err("bad type");
        assert_eq!(err.file, "demo.toml");
        assert_eq!(err.line, 14);
        assert!(err.message.starts_with("fields[0].type: "), "{err}");
        assert!(err.message.contains("txt"), "{err}");
    }

    #[test]
    fn names_the_line_of_a_step_referring_to_an_unknown_field() {
        let bad = MINIMAL.replace("fields = [\"bank\"]", "fields = [\"bnak\"]");
        let err = parse_one(&bad).expect_err("unknown field");
        assert_eq!(err.line, 20);
        assert!(err.message.starts_with("steps[0].fields[0]"), "{err}");
    }

    #[test]
    fn every_field_and_attachment_is_shown_on_exactly_one_step() {
        let unshown = MINIMAL.replace("fields = [\"bank\"]", "fields = []");
        let err = parse_one(&unshown).expect_err("unshown");
        assert!(
            err.message
                .starts_with("fields: \"bank\" is shown on no step"),
            "{err}"
        );
        let twice = MINIMAL.replace("fields = [\"bank\"]", "fields = [\"bank\", \"bank\"]");
        let err = parse_one(&twice).expect_err("twice");
        assert!(err.message.contains("already shown on steps[0]"), "{err}");
        let photo =
            "\n[[attachments]]\nkey = \"card\"\nlabel = { zh-CN = \"卡\", en = \"Card\" }\n";
        let err = parse_one(&format!("{MINIMAL}{photo}")).expect_err("unshown slot");
        assert!(err.message.starts_with("attachments: \"card\""), "{err}");
    }

    #[test]
    fn refuses_missing_languages_unknown_keys_and_bad_rules() {
        let no_en = MINIMAL.replace(
            "label = { zh-CN = \"银行\", en = \"Bank\" }",
            "label = { zh-CN = \"银行\" }",
        );
        assert!(parse_one(&no_en).expect_err("no en").message.contains("en"));
        let extra = MINIMAL.replace("version = 1", "version = 1\ncolour = \"red\"");
        assert!(
            parse_one(&extra)
                .expect_err("unknown")
                .message
                .contains("colour")
        );
        let no_years = MINIMAL.replace("years = 80\n", "");
        let err = parse_one(&no_years).expect_err("no years");
        assert!(err.message.contains("eligibility[0].years"), "{err}");
        assert_eq!(err.line, 8);
    }

    #[test]
    fn a_sensitive_attachment_says_how_long_it_is_kept() {
        let photo = "\n[[attachments]]\nkey = \"face\"\nsensitive = \"face\"\nlabel = { zh-CN = \"照片\", en = \"Photo\" }\n";
        let minimal = MINIMAL.replace("fields = [\"bank\"]", "fields = [\"bank\", \"face\"]");
        let err = parse_one(&format!("{minimal}{photo}")).expect_err("no kept");
        assert!(err.message.starts_with("attachments[0].kept"), "{err}");
        let kept = format!(
            "{minimal}{photo}kept = {{ zh-CN = \"办结后保存两年\", en = \"Two years after\" }}\n"
        );
        let c = parse_one(&kept).expect("valid");
        let a = c
            .service("demo")
            .expect("service")
            .attachment("face")
            .expect("slot");
        assert_eq!(
            a.kept.as_ref().map(|k| k.get("en")),
            Some("Two years after")
        );
    }

    #[test]
    fn refuses_two_files_with_one_code() {
        let err =
            Catalog::parse("t", &[("a.toml", MINIMAL), ("b.toml", MINIMAL)]).expect_err("dup");
        assert_eq!(err.file, "b.toml");
        assert!(err.message.contains("a.toml"));
    }

    #[test]
    fn age_rules_use_whole_years() {
        let c = parse_one(MINIMAL).expect("valid");
        let s = c.service("demo").expect("service");
        assert!(!s.eligibility((1946, 12, 1), (2026, 11, 28)).eligible);
        assert!(s.eligibility((1946, 11, 28), (2026, 11, 28)).eligible);
        assert_eq!(age_on((1946, 11, 29), (2026, 11, 28)), 79);
    }
}
