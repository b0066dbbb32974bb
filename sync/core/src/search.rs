//! Search keys for residents, so that a volunteer finds 张三 by typing `张`, `zs`,
//! `zhangsan`, the last digits of the ID number, or the last digits of the phone.
//!
//! Names are indexed by their pinyin initials and full pinyin without tones (every
//! reading of the surname is indexed too, since surnames such as 单 or 曾 are read
//! differently from the common word). Numbers are indexed reversed, so that a suffix
//! search is a prefix search an index can answer.

use pinyin::{ToPinyin, ToPinyinMulti};

/// The pinyin keys of a name: (initials, full), each possibly several readings joined by
/// a space. Characters without pinyin (Latin letters, digits) are kept lower-cased.
pub fn name_keys(name: &str) -> (String, String) {
    let mut first_readings: Vec<(String, String)> = Vec::new();
    let mut rest_initials = String::new();
    let mut rest_full = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            match c.to_pinyin_multi() {
                Some(multi) => {
                    for p in multi {
                        let pair = (p.first_letter().to_owned(), p.plain().to_owned());
                        if !first_readings.contains(&pair) {
                            first_readings.push(pair);
                        }
                    }
                }
                None => first_readings.push(plain_char(c)),
            }
            continue;
        }
        let (initial, full) = match c.to_pinyin() {
            Some(p) => (p.first_letter().to_owned(), p.plain().to_owned()),
            None => plain_char(c),
        };
        rest_initials.push_str(&initial);
        rest_full.push_str(&full);
    }
    let initials: Vec<String> = first_readings
        .iter()
        .map(|(i, _)| format!("{i}{rest_initials}"))
        .collect();
    let full: Vec<String> = first_readings
        .iter()
        .map(|(_, f)| format!("{f}{rest_full}"))
        .collect();
    (dedup_join(initials), dedup_join(full))
}

fn plain_char(c: char) -> (String, String) {
    if c.is_alphanumeric() {
        let s: String = c.to_lowercase().collect();
        (s.clone(), s)
    } else {
        (String::new(), String::new())
    }
}

fn dedup_join(mut keys: Vec<String>) -> String {
    let mut seen = Vec::new();
    keys.retain(|k| {
        let new = !seen.contains(k);
        seen.push(k.clone());
        new
    });
    keys.join(" ")
}

/// A number reversed, for suffix search (`13800138000` → `00083100831`).
pub fn reversed(number: &str) -> String {
    number.chars().rev().collect()
}

/// What a search query is looking for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Digits (and a trailing X): the end of an ID number or phone number.
    NumberSuffix(String),
    /// Latin letters: pinyin initials or the start of the full pinyin.
    Pinyin(String),
    /// Anything else: part of the name as written.
    Name(String),
    Empty,
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() {
            Query::Empty
        } else if t
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X')
            && t.chars().any(|c| c.is_ascii_digit())
        {
            Query::NumberSuffix(t.to_ascii_uppercase())
        } else if t.chars().all(|c| c.is_ascii_alphabetic()) {
            Query::Pinyin(t.to_ascii_lowercase())
        } else {
            Query::Name(text.trim().to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_common_name() {
        let (initials, full) = name_keys("张三");
        assert_eq!(initials, "zs");
        assert_eq!(full, "zhangsan");
    }

    #[test]
    fn every_reading_of_the_surname_is_indexed() {
        let (initials, full) = name_keys("曾小明");
        assert!(initials.split(' ').any(|k| k == "zxm"), "{initials}");
        assert!(full.split(' ').any(|k| k == "zengxiaoming"), "{full}");
    }

    #[test]
    fn latin_letters_and_digits_are_kept() {
        assert_eq!(name_keys("Anna李").1, "annali");
    }

    #[test]
    fn classifies_queries() {
        assert_eq!(Query::parse(" 002x "), Query::NumberSuffix("002X".into()));
        assert_eq!(Query::parse("ZS"), Query::Pinyin("zs".into()));
        assert_eq!(Query::parse("张"), Query::Name("张".into()));
        assert_eq!(Query::parse("x"), Query::Pinyin("x".into()));
        assert_eq!(Query::parse("  "), Query::Empty);
    }

    #[test]
    fn reverses_numbers() {
        assert_eq!(reversed("13800138000"), "00083100831");
    }
}
