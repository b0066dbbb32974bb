//! Resident identity card numbers per GB 11643-1999: 6-digit region code, 8-digit birth
//! date, 3-digit sequence, and an ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).

use std::fmt;

use crate::ErrorCode;

/// Weights of the first 17 digits: 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by the weighted sum mod 11.
const CHECK: &[u8; 11] = b"10X98765432";
/// First two digits of a region code: provinces, autonomous regions, municipalities,
/// and 71/81/82/83 (Taiwan, Hong Kong, Macao, and residence permits).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Why an ID number was refused; `code()` is what the UI translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("empty")]
    Empty,
    #[error("not 18 characters")]
    Length,
    #[error("only digits, with X allowed last")]
    Characters,
    #[error("unknown region code")]
    Region,
    #[error("birth date is not a real date")]
    BirthDate,
    #[error("check character does not match")]
    Checksum,
}

impl IdNumberError {
    pub fn code(self) -> ErrorCode {
        match self {
            IdNumberError::Empty => ErrorCode::IdEmpty,
            IdNumberError::Length => ErrorCode::IdLength,
            IdNumberError::Characters => ErrorCode::IdChars,
            IdNumberError::Region => ErrorCode::IdRegion,
            IdNumberError::BirthDate => ErrorCode::IdBirthDate,
            IdNumberError::Checksum => ErrorCode::IdChecksum,
        }
    }
}

/// A checked 18-character ID number, upper-case `X`.
///
/// `Debug` is redacted so that an ID number cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdNumber(<redacted>)")
    }
}

impl IdNumber {
    /// Checks `text` (surrounding spaces ignored, lower-case `x` accepted).
    pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let upper = text.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if upper.chars().count() != 18 || bytes.len() != 18 {
            return Err(IdNumberError::Length);
        }
        let (body, last) = bytes.split_at(17);
        if !body.iter().all(u8::is_ascii_digit) || !(last[0].is_ascii_digit() || last[0] == b'X') {
            return Err(IdNumberError::Characters);
        }
        let province = (body[0] - b'0') * 10 + (body[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let digits = |r: std::ops::Range<usize>| {
            body[r]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        };
        let (year, month, day) = (digits(6..10), digits(10..12), digits(12..14));
        if !(1870..=2199).contains(&year) || !crate::date::is_real_date(year, month, day) {
            return Err(IdNumberError::BirthDate);
        }
        if check_char(body) != last[0] {
            return Err(IdNumberError::Checksum);
        }
        Ok(IdNumber(upper))
    }

    /// Completes 17 digits with their check character. Used to make synthetic test data
    /// and by tools that generate rosters; does not validate the digits.
    pub fn complete(first17: &str) -> Option<String> {
        let body = first17.as_bytes();
        (body.len() == 17 && body.iter().all(u8::is_ascii_digit))
            .then(|| format!("{first17}{}", char::from(check_char(body))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Birth date as (year, month, day).
    pub fn birth_date(&self) -> (u32, u32, u32) {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().unwrap_or_default();
        (n(6..10), n(10..12), n(12..14))
    }

    /// `male` when the 17th digit is odd, `female` when even (GB 11643).
    pub fn gender(&self) -> &'static str {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            "male"
        } else {
            "female"
        }
    }

    /// Masked for display: everything but the last four characters hidden.
    pub fn masked(&self) -> String {
        mask_tail(&self.0, 4)
    }
}

/// Replaces every character but the last `keep` with `*`.
pub fn mask_tail(text: &str, keep: usize) -> String {
    let n = text.chars().count();
    text.chars()
        .enumerate()
        .map(|(i, c)| if i + keep < n { '*' } else { c })
        .collect()
}

fn check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_the_standards_example_and_lower_case_x() {
        let id = IdNumber::parse(" 11010519491231002x ").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), (1949, 12, 31));
    }

    #[test]
    fn refuses_each_kind_of_bad_number_with_its_code() {
        let cases = [
            ("", ErrorCode::IdEmpty),
            ("1101051949123100", ErrorCode::IdLength),
            ("11010519491231002XX", ErrorCode::IdLength),
            ("1101051949123100２X", ErrorCode::IdLength),
            ("1101051949A231002X", ErrorCode::IdChars),
            ("X10105194912310021", ErrorCode::IdChars),
            ("99010519491231002X", ErrorCode::IdRegion),
            ("110105194902300021", ErrorCode::IdBirthDate),
            ("110105190002290021", ErrorCode::IdBirthDate),
            ("110105194913010021", ErrorCode::IdBirthDate),
            ("110105194912310021", ErrorCode::IdChecksum),
        ];
        for (text, code) in cases {
            let err = IdNumber::parse(text).expect_err(text);
            assert_eq!(err.code(), code, "for {text}");
        }
    }

    #[test]
    fn leap_day_is_a_real_birth_date() {
        let id = IdNumber::complete("32010620000229456").expect("17 digits");
        assert!(IdNumber::parse(&id).is_ok());
    }

    #[test]
    fn debug_does_not_show_the_number() {
        let id = IdNumber::parse("11010519491231002X").expect("valid");
        assert!(!format!("{id:?}").contains("1949"));
    }

    #[test]
    fn masks_all_but_last_four() {
        assert_eq!(mask_tail("13800138000", 4), "*******8000");
        assert_eq!(mask_tail("12", 4), "12");
    }

    proptest! {
        /// Any single-digit change of a valid number is caught by the check character.
        #[test]
        fn every_single_digit_change_is_detected(
            seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10,
        ) {
            let valid = IdNumber::complete(&format!("110105194912{:02}{seq:03}", 1 + seq % 28))
                .expect("17 digits");
            prop_assert!(IdNumber::parse(&valid).is_ok());
            let mut bytes = valid.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(IdNumber::parse(&changed).is_err());
        }
    }
}
