//! Finding national ID numbers and Bangladeshi mobile numbers in free text.
//!
//! Digits may be ASCII or Bangla (০–৯). A number may be written in groups separated by single
//! spaces, dashes, dots or parentheses (`+880 1712-345678`, `০১৭১২ ৩৪৫৬৭৮`). Runs of digit groups
//! are split into the longest valid identifiers they contain, so two numbers written side by
//! side are both found and a price, a date or a card number is not read as one.
//!
//! Mobile numbers: `+8801XXXXXXXXX`, `8801…`, `008801…`, `01XXXXXXXXX` with an operator digit 3–9,
//! normalised to `8801XXXXXXXXX`. NIDs: 10 digits (smart card, not starting with 0), 13 digits
//! (old form), or 17 digits (old form starting with the birth year 19xx/20xx).

/// Kind of identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// National ID.
    Nid,
    /// Mobile number.
    Msisdn,
}

/// An identifier found in text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hit {
    /// What it is.
    pub kind: Kind,
    /// Normalised value.
    pub value: String,
}

fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{09E6}'..='\u{09EF}' => Some((c as u32 - 0x09E6) as u8),
        _ => None,
    }
}

/// Classify a digit string as an identifier (`plus`: written with a leading `+`).
pub fn classify(d: &str, plus: bool) -> Option<Hit> {
    let b = d.as_bytes();
    let op = |i: usize| b.get(i).is_some_and(|c| (b'3'..=b'9').contains(c));
    let msisdn = |rest: &str| Some(Hit { kind: Kind::Msisdn, value: format!("880{rest}") });
    match b.len() {
        11 if d.starts_with("01") && op(2) && !plus => msisdn(&d[1..]),
        13 if d.starts_with("8801") && op(4) => msisdn(&d[3..]),
        15 if d.starts_with("008801") && op(6) && !plus => msisdn(&d[5..]),
        10 if b[0] != b'0' && !plus => Some(Hit { kind: Kind::Nid, value: d.to_string() }),
        13 if b[0] != b'0' && !plus => Some(Hit { kind: Kind::Nid, value: d.to_string() }),
        17 if (d.starts_with("19") || d.starts_with("20")) && !plus => {
            Some(Hit { kind: Kind::Nid, value: d.to_string() })
        }
        _ => None,
    }
}

/// A run of digit groups: each group's digits, whether a `+` preceded the run.
fn runs(text: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        // Preceded by a letter or another digit-ish token (e.g. `ID12345…` is fine, `x1.5` is not)?
        let plus = i > 0 && chars[i - 1] == '+';
        let mut groups: Vec<String> = vec![String::new()];
        while i < chars.len() {
            if let Some(d) = digit(chars[i]) {
                if let Some(g) = groups.last_mut() {
                    g.push(char::from(b'0' + d));
                }
                i += 1;
            } else if matches!(chars[i], ' ' | '-' | '.' | '(' | ')' | '\u{00A0}')
                && chars.get(i + 1).is_some_and(|c| digit(*c).is_some() || (chars[i] == ' ' && *c == '('))
            {
                // A single separator between digit groups; `(` after a space too: `+880 (17)…`.
                if !groups.last().is_some_and(String::is_empty) {
                    groups.push(String::new());
                }
                i += 1;
            } else {
                break;
            }
        }
        groups.retain(|g| !g.is_empty());
        // Glued to letters on either side (`abc1234567890def`) still counts; glued to a
        // decimal point or a comma continuing a number does not matter: commas end runs.
        out.push((plus, groups));
    }
    out
}

/// Every identifier in `text`, in order of appearance (duplicates kept).
pub fn extract(text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    for (plus, groups) in runs(text) {
        // A whole-run digit string longer than any identifier that is one long digit block is a
        // different kind of number (an account, a card, a hash): skip blocks over 17 digits.
        let mut start = 0;
        while start < groups.len() {
            if groups[start].len() > 17 {
                start += 1;
                continue;
            }
            // Longest span of groups from `start` that is an identifier.
            let mut best: Option<(usize, Hit)> = None;
            let mut acc = String::new();
            for (end, g) in groups.iter().enumerate().skip(start) {
                acc.push_str(g);
                if acc.len() > 17 {
                    break;
                }
                if let Some(h) = classify(&acc, plus && start == 0) {
                    best = Some((end, h));
                }
            }
            match best {
                Some((end, h)) => {
                    out.push(h);
                    start = end + 1;
                }
                // A number written with a leading `+` that is not a Bangladeshi mobile number is a
                // foreign number: none of its groups is an identifier.
                None if plus && start == 0 => break,
                None => start += 1,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &str) -> Vec<(Kind, String)> {
        extract(t).into_iter().map(|h| (h.kind, h.value)).collect()
    }

    #[test]
    fn phones_in_every_written_form() {
        for t in [
            "call +8801712345678 now",
            "8801712345678",
            "008801712345678",
            "01712345678",
            "01712-345678",
            "+880 1712 345678",
            "017.1234.5678",
            "০১৭১২৩৪৫৬৭৮",
            "+৮৮০ ১৭১২-৩৪৫৬৭৮",
        ] {
            assert_eq!(values(t), vec![(Kind::Msisdn, "8801712345678".to_string())], "{t}");
        }
    }

    #[test]
    fn nids_and_neighbours() {
        assert_eq!(
            values("NID: 1234567890, mobile 01812345678"),
            vec![(Kind::Nid, "1234567890".into()), (Kind::Msisdn, "8801812345678".into())]
        );
        assert_eq!(
            values("NID 1234567890 01812345678"),
            vec![(Kind::Nid, "1234567890".into()), (Kind::Msisdn, "8801812345678".into())]
        );
        assert_eq!(values("old nid 19901234567890123"), vec![(Kind::Nid, "19901234567890123".into())]);
        assert_eq!(values("১২৩৪৫৬৭৮৯০"), vec![(Kind::Nid, "1234567890".into())]);
    }

    #[test]
    fn known_non_matches() {
        for t in [
            "price 1,250,000 taka",
            "date 12.03.2024 at 10:30",
            "card 4111 1111 1111 1111",
            "tx 0123456789",
            "01212345678",
            "3.14159",
            "+1 415 555 0100",
            "12345678901234567890123",
            "2024-03-12",
        ] {
            assert!(values(t).is_empty(), "{t}: {:?}", values(t));
        }
    }
}
