//! Entry point of the import fuzz target. It must never panic.

use crate::import::{Kind, Record, Rows};

/// Read arbitrary bytes as a citizens file and as a call-records file. Every good row must
/// hold what the store expects: normalised identifiers, a known CDR type.
pub fn import_rows(data: &[u8]) {
    for kind in [Kind::Citizens, Kind::Cdrs] {
        let Ok(rows) = Rows::new(kind, data) else { continue };
        for row in rows.take(10_000) {
            match row {
                Ok(Record::Citizen(c)) => {
                    assert_eq!(crate::normalize_nid(&c.nid).as_deref(), Some(c.nid.as_str()));
                    for m in &c.msisdns {
                        assert_eq!(crate::normalize_msisdn(m).as_deref(), Some(m.as_str()));
                    }
                }
                Ok(Record::Cdr(c)) => {
                    assert_eq!(crate::normalize_msisdn(&c.caller).as_deref(), Some(c.caller.as_str()));
                    assert!(matches!(c.kind.as_str(), "voice" | "sms" | "data"), "{}", c.kind);
                }
                Err(bad) => assert!(!bad.why.is_empty()),
            }
        }
    }
}
