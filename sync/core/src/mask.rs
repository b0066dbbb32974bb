//! One rule for personal numbers, on every screen and in every file: ID numbers, phones,
//! and the accounts the catalog marks `masked` show only their last four characters
//! (a phone also its first three) unless the volunteer revealed them with the PIN.
//!
//! ```
//! use doorstep_core::mask::mask_phone;
//!
//! assert_eq!(mask_phone("13800138000"), "138****8000");
//! assert_eq!(mask_phone("07901234321"), "0790-***4321");
//! assert_eq!(mask_phone("01012345678"), "010-****5678");
//! ```

use crate::catalog::{FieldDef, FieldKind, Service};
use crate::id_number::mask_tail;
use crate::value::FieldValue;

/// `13800138000` → `138****8000`; a landline keeps its area code and last four digits,
/// `07901234321` → `0790-***4321` (area codes beginning 01 or 02 have three digits, the
/// others four, as China's numbering plan has them).
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n < 8 {
        return mask_tail(phone, 4);
    }
    if phone.starts_with('0') && phone.is_ascii() {
        let area = if phone.starts_with("01") || phone.starts_with("02") {
            3
        } else {
            4
        };
        return format!(
            "{}-{}{}",
            &phone[..area],
            "*".repeat(n - area - 4),
            &phone[n - 4..]
        );
    }
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i >= 3 && i + 4 < n { '*' } else { c })
        .collect()
}

/// A text of a field of `def`'s kind as screens and files show it.
pub fn mask_text(def: &FieldDef, text: &str) -> String {
    match def.kind {
        FieldKind::Phone => mask_phone(text),
        _ if def.is_masked() => mask_tail(text, 4),
        _ => text.to_owned(),
    }
}

/// A value of a field of `def`'s kind as screens and files show it.
pub fn mask_value(def: &FieldDef, v: &FieldValue) -> FieldValue {
    match v {
        FieldValue::Text(t) if def.is_masked() => FieldValue::Text(mask_text(def, t)),
        other => other.clone(),
    }
}

/// The text of form field `key` of `service` as screens and files show it (unknown
/// fields are masked whole but for the last four: nothing unknown leaks).
pub fn mask_form_text(service: Option<&Service>, key: &str, text: &str) -> String {
    match service.and_then(|s| s.field(key)) {
        Some(def) => mask_text(def, text),
        None => mask_tail(text, 4),
    }
}

/// A text of `field` of a record of `kind` (`resident`, `application`...) as screens
/// and files show it, or `None` when the field is not a personal number. Application
/// fields are `fields.<key>` (or the kept typed text, `typed.<key>`) of `service`.
pub fn mask_record_text(
    kind: &str,
    service: Option<&Service>,
    field: &str,
    text: &str,
) -> Option<String> {
    match kind {
        crate::resident::KIND => match field {
            "id_number" => Some(mask_tail(text, 4)),
            "phone" | "emergency.phone" => Some(mask_phone(text)),
            _ => None,
        },
        crate::application::KIND => {
            let key = field
                .strip_prefix("fields.")
                .or_else(|| field.strip_prefix("typed."))?;
            let shown = mask_form_text(service, key, text);
            (shown != text).then_some(shown)
        }
        _ => None,
    }
}

/// [`mask_record_text`] on a value in place (only texts hold personal numbers).
pub fn mask_record_value(
    kind: &str,
    service: Option<&Service>,
    field: &str,
    value: &mut FieldValue,
) {
    if let FieldValue::Text(t) = value
        && let Some(shown) = mask_record_text(kind, service, field, t)
    {
        *t = shown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: &str, masked: bool) -> FieldDef {
        toml::from_str(&format!(
            "key = 'f'\ntype = '{kind}'\nmasked = {masked}\nlabel = {{ zh-CN = '字段', en = 'Field' }}"
        ))
        .expect("field definition")
    }

    #[test]
    fn personal_numbers_keep_only_their_last_four() {
        let account = def("text", true);
        assert_eq!(
            mask_value(&account, &FieldValue::Text("6222000033334444".into())),
            FieldValue::Text("************4444".into())
        );
        assert_eq!(
            mask_text(&def("phone", false), "13800138000"),
            "138****8000"
        );
        assert_eq!(mask_text(&def("phone", false), "8123"), "8123");
        assert_eq!(
            mask_text(&def("id_number", false), "11010519491231002X"),
            "**************002X"
        );
        // Ordinary text and other values pass.
        assert_eq!(mask_text(&def("text", false), "住在三楼"), "住在三楼");
        assert_eq!(
            mask_value(&account, &FieldValue::Int(7)),
            FieldValue::Int(7)
        );
        assert_eq!(
            mask_form_text(None, "gone", "6222000033334444"),
            "************4444"
        );
    }
}
