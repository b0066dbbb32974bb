//! Phone numbers as volunteers type them: mainland mobiles (11 digits starting 13–19) or
//! landlines with an area code (`0` + 2–3 digits, then 7–8 digits). Spaces and hyphens are
//! dropped; an empty phone is allowed (many residents have none).

use crate::ErrorCode;

/// Normalizes and checks a phone number. `Ok("")` for an empty input.
pub fn normalize(text: &str) -> Result<String, ErrorCode> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() {
        return Ok(digits);
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ErrorCode::PhoneInvalid);
    }
    let b = digits.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline =
        b[0] == b'0' && b.get(1).is_some_and(|d| *d != b'0') && (10..=12).contains(&b.len());
    if mobile || landline {
        Ok(digits)
    } else {
        Err(ErrorCode::PhoneInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use crate::ErrorCode;

    #[test]
    fn accepts_mobiles_landlines_and_empty() {
        assert_eq!(normalize("138 0013 8000"), Ok("13800138000".into()));
        assert_eq!(normalize("010-12345678"), Ok("01012345678".into()));
        assert_eq!(normalize("0851-1234567"), Ok("08511234567".into()));
        assert_eq!(normalize("  "), Ok(String::new()));
    }

    #[test]
    fn refuses_other_numbers() {
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "abc",
            "0012345678",
            "+8613800138000",
        ] {
            assert_eq!(normalize(bad), Err(ErrorCode::PhoneInvalid), "{bad}");
        }
    }
}
