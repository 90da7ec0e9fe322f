//! Traceable copies: what the gateway hands out carries marks that say to whom it was handed,
//! without altering any identifier, time or other evidence field in the store.
//!
//! - **Formatting marks** on identity records: each bit, derived from a keyed hash of
//!   (officer, record), picks one of two renderings of a display field — the Latin name, the
//!   father's and mother's names in title or upper case; the free-text address with or without a
//!   final full stop, with `, ` or `,` between its parts. Five bits per record.
//! - **Row order** of name-search results is a keyed permutation per (officer, query), where
//!   order carries no meaning.
//! - **Decoy rows**: every name search answer carries one synthetic record (a fictitious person
//!   with an NID no citizen has), derived from (officer, query) and registered; it is never
//!   in the store of citizens. A decoy NID showing up in a leak names the account it was handed
//!   to, even when the seller posts nothing but identifiers.
//!
//! What survives copy-and-paste: decoy identifiers always (they are what sellers sell); letter
//! case and punctuation when whole records are pasted as text; nothing survives retyping the
//! record or posting only the real identifiers (then attribution rests on the access log).
//! Screenshots keep case and punctuation but need OCR first. Row order survives only when a
//! whole result list is posted. Colluders who compare their copies can see differing case and
//! punctuation and normalise them; the decoding therefore scores agreement per bit (Tardos-style
//! with symmetric bits: +1 per agreeing bit, −1 per disagreeing one) and treats an all-normalised
//! copy as carrying no marks.

use custos_store::{Citizen, Vault};
use serde_json::{Map, Value};

/// Number of formatting bits per record.
pub const BITS: usize = 5;

/// The field group (as named in audit entries) that carries each bit.
pub const BIT_GROUPS: [&str; BITS] = ["basic", "family", "family", "address", "address"];

/// The formatting bits for (officer, record).
pub fn bits(vault: &Vault, officer: &str, record: &str) -> [bool; BITS] {
    let c = vault.commit(&format!("mark:{officer}:{record}"));
    let b = c.as_bytes();
    let mut out = [false; BITS];
    for (i, o) in out.iter_mut().enumerate() {
        *o = b.get(2 + i).is_some_and(|x| x % 2 == 1);
    }
    out
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_name(s: &str, upper: bool) -> String {
    if upper {
        s.to_uppercase()
    } else {
        title(s)
    }
}

fn render_address(s: &str, stop: bool, tight: bool) -> String {
    let base = s.trim_end_matches('.').replace(", ", ",").replace(',', if tight { "," } else { ", " });
    if stop && !base.is_empty() {
        format!("{base}.")
    } else {
        base
    }
}

/// Apply the formatting marks of (officer, record) to a minimised record.
pub fn apply(vault: &Vault, officer: &str, record: &str, rec: &mut Map<String, Value>) {
    let b = bits(vault, officer, record);
    for (i, key) in ["name_en", "father", "mother"].iter().enumerate() {
        if let Some(Value::String(s)) = rec.get(*key) {
            let v = render_name(s, b[i]);
            rec.insert((*key).to_string(), Value::String(v));
        }
    }
    if let Some(Value::String(s)) = rec.get("address") {
        let v = render_address(s, b[3], b[4]);
        rec.insert("address".into(), Value::String(v));
    }
}

/// Observed bits in a leaked text for a citizen: `Some(bit)` where the rendering can be told.
pub fn observe(text: &str, c: &Citizen) -> [Option<bool>; BITS] {
    let mut out = [None; BITS];
    // Longest fields first, each match blanked out, so a name inside a longer field (the
    // father's name often contains the family name) is not read twice.
    let mut work = text.to_string();
    let mut fields: Vec<(usize, &String)> = vec![(0, &c.name_en), (1, &c.father), (2, &c.mother)];
    fields.sort_by_key(|(_, f)| std::cmp::Reverse(f.len()));
    for (i, field) in fields {
        if field.chars().filter(|ch| ch.is_alphabetic()).count() < 3 {
            continue;
        }
        let (up, ti) = (render_name(field, true), render_name(field, false));
        if up == ti {
            continue;
        }
        for (bit, r) in [(true, &up), (false, &ti)] {
            if let Some(at) = work.find(r.as_str()) {
                out[i] = Some(bit);
                work.replace_range(at..at + r.len(), &" ".repeat(r.len()));
                break;
            }
        }
    }
    if !c.address.trim().is_empty() {
        for (stop, tight) in [(true, true), (true, false), (false, true), (false, false)] {
            let r = render_address(&c.address, stop, tight);
            // The stop only tells when the address is followed by a boundary.
            let found = text.match_indices(&r).any(|(i, m)| {
                let after = text[i + m.len()..].chars().next();
                stop || after != Some('.')
            });
            if found {
                if c.address.contains(',') {
                    out[4] = Some(tight);
                }
                out[3] = Some(stop);
                break;
            }
        }
    }
    out
}

/// Tardos-style score with symmetric bits: agreements minus disagreements.
pub fn score(observed: &[Option<bool>; BITS], expected: &[bool; BITS]) -> (i64, i64) {
    let (mut agree, mut disagree) = (0, 0);
    for (o, e) in observed.iter().zip(expected) {
        match o {
            Some(x) if x == e => agree += 1,
            Some(_) => disagree += 1,
            None => {}
        }
    }
    (agree, disagree)
}

/// A decoy NID for (officer, query): 10 digits, derived from a keyed hash.
pub fn decoy_nid(vault: &Vault, officer: &str, query: &str, salt: u32) -> String {
    let c = vault.commit(&format!("decoy:{officer}:{query}:{salt}"));
    let n: u64 = c.bytes().fold(0u64, |a, b| a.wrapping_mul(131).wrapping_add(u64::from(b)));
    format!("{}", 1_000_000_000 + n % 9_000_000_000)
}

/// A fictitious person to go with a decoy NID.
pub fn decoy_citizen(vault: &Vault, nid: &str) -> Citizen {
    const FIRST: [&str; 8] = ["Rafiq", "Nasima", "Jamal", "Shirin", "Kamal", "Farida", "Habib", "Rokeya"];
    const LAST: [&str; 6] = ["Hossain", "Akter", "Uddin", "Khatun", "Islam", "Begum"];
    const DIST: [&str; 5] = ["Dhaka", "Khulna", "Sylhet", "Rajshahi", "Barishal"];
    let h = vault.commit(&format!("decoy-person:{nid}"));
    let b = h.as_bytes();
    let pick = |i: usize, n: usize| usize::from(b.get(i).copied().unwrap_or(0)) % n;
    let first = FIRST[pick(2, FIRST.len())];
    let last = LAST[pick(3, LAST.len())];
    Citizen {
        nid: nid.to_string(),
        name_en: format!("{first} {last}"),
        name_bn: String::new(),
        father: format!("{} {last}", FIRST[pick(4, FIRST.len())]),
        mother: format!("{} {}", FIRST[pick(5, FIRST.len())], LAST[pick(6, LAST.len())]),
        dob: format!("19{}-0{}-1{}", 60 + pick(7, 40), 1 + pick(8, 9), pick(9, 9)),
        gender: if pick(10, 2) == 0 { "male" } else { "female" }.into(),
        division: DIST[pick(11, DIST.len())].into(),
        district: DIST[pick(11, DIST.len())].into(),
        upazila: "Sadar".into(),
        address: format!("House {}, Road {}", 1 + pick(12, 90), 1 + pick(13, 20)),
        msisdns: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::generate(&custos_store::LocalKek::from_bytes([5; 32])).unwrap().0
    }

    #[test]
    fn marks_are_read_back_from_pasted_text() {
        let v = vault();
        let c = Citizen {
            nid: "1234567890".into(),
            name_en: "Karim Rahman".into(),
            father: "Abdul Rahman".into(),
            mother: "Salma Begum".into(),
            address: "House 12, Road 3, Mirpur".into(),
            ..Citizen::default()
        };
        let mut hits = 0;
        for officer in ["a", "b", "c", "d", "e", "f"] {
            let mut m = Map::new();
            for (k, val) in [
                ("name_en", &c.name_en),
                ("father", &c.father),
                ("mother", &c.mother),
                ("address", &c.address),
            ] {
                m.insert(k.into(), Value::String(val.clone()));
            }
            apply(&v, officer, "citizen:1", &mut m);
            let pasted = format!(
                "NID {} Name: {} Father: {} Mother: {} Address: {}",
                c.nid,
                m["name_en"].as_str().unwrap_or(""),
                m["father"].as_str().unwrap_or(""),
                m["mother"].as_str().unwrap_or(""),
                m["address"].as_str().unwrap_or("")
            );
            let obs = observe(&pasted, &c);
            let own = score(&obs, &bits(&v, officer, "citizen:1"));
            assert_eq!(own, (5, 0), "{officer}: {pasted}");
            if score(&obs, &bits(&v, "zz", "citizen:1")).1 > 0 {
                hits += 1;
            }
        }
        // Another officer's bits disagree somewhere for most copies.
        assert!(hits >= 2, "{hits}");
        // Decoys are stable and ten digits.
        assert_eq!(decoy_nid(&v, "a", "karim", 0), decoy_nid(&v, "a", "karim", 0));
        assert_ne!(decoy_nid(&v, "a", "karim", 0), decoy_nid(&v, "b", "karim", 0));
        assert_eq!(decoy_nid(&v, "a", "karim", 0).len(), 10);
    }
}
