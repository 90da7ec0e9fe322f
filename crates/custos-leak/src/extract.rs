//! Finding national ID numbers and Bangladeshi mobile numbers in free text.
//!
//! Digits may be ASCII or Bangla (০–৯). A number may be written in groups separated by single
//! spaces, dashes, dots or parentheses (`+880 1712-345678`, `০১৭১২ ৩৪৫৬৭৮`). Runs of digit groups
//! are split into the longest valid identifiers they contain, so two numbers written side by
//! side are both found and a price, a date or a card number is not read as one.
//!
//! Mobile numbers: `+8801XXXXXXXXX`, `8801…`, `008801…`, `01XXXXXXXXX` with an operator digit 3–9,
//! normalised to `8801XXXXXXXXX`. NIDs: 10 digits (smart card, not starting with 0), 13 digits
//! (old form), or 17 digits (old form starting with the birth year 19xx/20xx, reported as its 13
//! digits, the form the access logs' identifiers are matched in).

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

/// The digit at byte `i` (ASCII or Bangla ০–৯, U+09E6–U+09EF = E0 A7 A6–AF) and its width.
fn digit_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    match b.get(i)? {
        c @ b'0'..=b'9' => Some((c - b'0', 1)),
        0xE0 if b.get(i + 1) == Some(&0xA7) => match b.get(i + 2) {
            Some(c @ 0xA6..=0xAF) => Some((c - 0xA6, 3)),
            _ => None,
        },
        _ => None,
    }
}

/// A separator that may sit between digit groups at byte `i`: its first char and width.
fn separator_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    match b.get(i)? {
        c @ (b' ' | b'-' | b'.' | b'(' | b')') => Some((*c, 1)),
        // U+00A0, no-break space.
        0xC2 if b.get(i + 1) == Some(&0xA0) => Some((0xC2, 2)),
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
        // The old 17-digit form: the birth year and the 13-digit number, matched as the 13.
        17 if (d.starts_with("19") || d.starts_with("20")) && !plus => {
            Some(Hit { kind: Kind::Nid, value: custos_detect::input::canonical_nid(d).to_string() })
        }
        _ => None,
    }
}

/// Every identifier in `text`, in order of appearance (duplicates kept).
///
/// One pass over the bytes: a run of digit groups (digits, single separators between them) is
/// gathered into one buffer of ASCII digits with the groups' bounds, then split.
pub fn extract(text: &str) -> Vec<Hit> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut digits, mut groups) = (Vec::<u8>::new(), Vec::<(usize, usize)>::new());
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_digit() || b[i] == 0xE0) || digit_at(b, i).is_none() {
            i += 1;
            continue;
        }
        let plus = i > 0 && b[i - 1] == b'+';
        digits.clear();
        groups.clear();
        let mut from = 0;
        loop {
            if let Some((d, w)) = digit_at(b, i) {
                digits.push(b'0' + d);
                i += w;
            } else if let Some((_, w)) = separator_at(b, i).filter(|&(sep, w)| {
                // A single separator between digit groups; `(` after a space too: `+880 (17)…`.
                digit_at(b, i + w).is_some() || (sep == b' ' && b.get(i + w) == Some(&b'('))
            }) {
                if digits.len() > from {
                    groups.push((from, digits.len()));
                    from = digits.len();
                }
                i += w;
            } else {
                break;
            }
        }
        if digits.len() > from {
            groups.push((from, digits.len()));
        }
        split_run(plus, &digits, &groups, &mut out);
    }
    out
}

/// Split one run of digit groups into the longest identifiers it contains.
fn split_run(plus: bool, digits: &[u8], groups: &[(usize, usize)], out: &mut Vec<Hit>) {
    // A whole-run digit string longer than any identifier that is one long digit block is a
    // different kind of number (an account, a card, a hash): skip blocks over 17 digits.
    let mut start = 0;
    while start < groups.len() {
        let (s0, e0) = groups[start];
        if e0 - s0 > 17 {
            start += 1;
            continue;
        }
        // Longest span of groups from `start` that is an identifier.
        let mut best: Option<(usize, Hit)> = None;
        for (end, &(_, e)) in groups.iter().enumerate().skip(start) {
            if e - s0 > 17 {
                break;
            }
            let acc = std::str::from_utf8(&digits[s0..e]).unwrap_or_default();
            if let Some(h) = classify(acc, plus && start == 0) {
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
        assert_eq!(values("old nid 19901234567890123"), vec![(Kind::Nid, "1234567890123".into())]);
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
