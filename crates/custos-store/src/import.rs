//! Reading an agency's existing records for `custos import`: citizens and call-detail records
//! as CSV with a header, one row at a time.
//!
//! Pure: [`Rows`] reads from any [`Read`] and yields each row as a typed record or the reason
//! it is bad, with its line; the caller seals and stores the records. A bad row never stops
//! the reading; only a header that cannot be read or lacks a column does.

use std::io::Read;

use crate::{normalize_msisdn, normalize_nid, Cdr, Citizen};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Identity records.
    Citizens,
    /// Call-detail records.
    Cdrs,
}

impl Kind {
    /// The columns the header must name (in any order; others are ignored).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Citizens => &[
                "nid", "name_bn", "name_en", "father", "mother", "dob", "gender", "division", "district",
                "upazila", "address", "msisdns",
            ],
            Kind::Cdrs => &["caller", "callee", "start", "duration", "type", "cell_id", "imei"],
        }
    }

    /// `citizens` or `cdrs`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Citizens => "citizens",
            Kind::Cdrs => "cdrs",
        }
    }
}

/// A file that cannot be imported at all (its header, line 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The header line could not be read.
    #[error("bad CSV header: {0}")]
    Header(String),
    /// The header does not name a column the kind needs.
    #[error("the header lacks `{0}`")]
    MissingColumn(&'static str),
}

/// A row that was skipped: its line (1 is the header) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct BadRow {
    /// Line of the row in the file.
    pub line: u64,
    /// What was wrong, naming the value.
    pub why: String,
}

/// One good row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// From a citizens file.
    Citizen(Citizen),
    /// From a call-detail records file.
    Cdr(Cdr),
}

/// The rows of an import file, in order.
pub struct Rows<R> {
    kind: Kind,
    idx: Vec<usize>,
    rdr: csv::Reader<R>,
    rec: csv::StringRecord,
}

impl<R> std::fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl<R: Read> Rows<R> {
    /// Read the header of a `kind` file from `reader`. Column names are matched without case,
    /// and a byte-order mark before the first is ignored.
    pub fn new(kind: Kind, reader: R) -> Result<Self, ImportError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
        let cols: Vec<String> = rdr
            .headers()
            .map_err(|e| ImportError::Header(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let idx = kind
            .columns()
            .iter()
            .map(|w| cols.iter().position(|c| c == w).ok_or(ImportError::MissingColumn(w)))
            .collect::<Result<_, _>>()?;
        Ok(Self { kind, idx, rdr, rec: csv::StringRecord::new() })
    }

    /// The line of the row read last (its first line, for a row with quoted line breaks).
    pub fn line(&self) -> u64 {
        self.rec.position().map_or(0, |p| p.line())
    }

    fn field(&self, i: usize) -> &str {
        self.idx.get(i).and_then(|&c| self.rec.get(c)).unwrap_or_default()
    }

    fn citizen(&self) -> Result<Citizen, String> {
        let f = |i| self.field(i).to_string();
        let nid = normalize_nid(self.field(0)).ok_or_else(|| format!("bad nid `{}`", self.field(0)))?;
        let dob = f(5);
        if !dob.is_empty() && !is_date(&dob) {
            return Err(format!("bad date of birth `{dob}` (YYYY-MM-DD)"));
        }
        let gender = gender(self.field(6)).ok_or_else(|| {
            format!("bad gender `{}` (male, female, third_gender or other; m, f, hijra)", self.field(6))
        })?;
        if self.field(1).is_empty() && self.field(2).is_empty() {
            return Err("no name: both `name_bn` and `name_en` are empty".to_string());
        }
        let mut msisdns = Vec::new();
        for m in self.field(11).split([';', ' ']).filter(|m| !m.is_empty()) {
            let n = normalize_msisdn(m).ok_or_else(|| format!("bad mobile number `{m}`"))?;
            if !msisdns.contains(&n) {
                msisdns.push(n);
            }
        }
        Ok(Citizen {
            nid,
            name_bn: f(1),
            name_en: f(2),
            father: f(3),
            mother: f(4),
            dob,
            gender: gender.to_string(),
            division: f(7),
            district: f(8),
            upazila: f(9),
            address: f(10),
            msisdns,
        })
    }

    fn cdr(&self) -> Result<Cdr, String> {
        let f = |i| self.field(i);
        let caller = normalize_msisdn(f(0)).ok_or_else(|| format!("bad caller `{}`", f(0)))?;
        let callee = normalize_msisdn(f(1)).ok_or_else(|| format!("bad callee `{}`", f(1)))?;
        let start = custos_detect::time::parse_time(f(2))
            .map(|t| t.unix)
            .ok_or_else(|| format!("bad start `{}` (RFC 3339 or Unix seconds)", f(2)))?;
        let duration =
            f(3).parse().map_err(|_| format!("bad duration `{}` (whole seconds, 0 or more)", f(3)))?;
        let kind = f(4).to_ascii_lowercase();
        if !matches!(kind.as_str(), "voice" | "sms" | "data") {
            return Err(format!("type must be voice, sms or data, not `{}`", f(4)));
        }
        Ok(Cdr { caller, callee, start, duration, kind, cell_id: f(5).to_string(), imei: f(6).to_string() })
    }
}

impl<R: Read> Iterator for Rows<R> {
    type Item = Result<Record, BadRow>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rdr.read_record(&mut self.rec) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.line();
                let row = match self.kind {
                    Kind::Citizens => self.citizen().map(Record::Citizen),
                    Kind::Cdrs => self.cdr().map(Record::Cdr),
                };
                Some(row.map_err(|why| BadRow { line, why }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Some(Err(BadRow { line, why: format!("bad CSV row: {e}") }))
            }
        }
    }
}

/// Whether `s` is a calendar date written `YYYY-MM-DD` (from 1800 on).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1800 && (1..=days).contains(&d)
}

/// The stored form of a gender as agencies write it (empty where the record has none), or
/// `None` for a value that is not one.
pub fn gender(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "" => "",
        "male" | "m" => "male",
        "female" | "f" => "female",
        "third_gender" | "third gender" | "hijra" => "third_gender",
        "other" => "other",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(kind: Kind, text: &str) -> Vec<Result<Record, BadRow>> {
        Rows::new(kind, text.as_bytes()).unwrap().collect()
    }

    #[test]
    fn dates_of_birth_are_calendar_dates() {
        for ok in ["1990-01-31", "2000-02-29", "1954-12-01"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "1990-13-01",
            "1990-02-30",
            "1900-02-29",
            "1990-1-01",
            "90-01-01",
            "1990/01/01",
            "1990-01-3x",
            "1700-01-01",
            "１９９０-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn genders_are_read_as_agencies_write_them() {
        assert_eq!(
            ["M", "female", " Hijra ", "", "other"].map(gender),
            [Some("male"), Some("female"), Some("third_gender"), Some(""), Some("other")]
        );
        assert_eq!(gender("x"), None);
    }

    #[test]
    fn citizens_are_read_by_column_name_and_bad_rows_named_by_line() {
        // Columns in another order, an extra column, a byte-order mark and upper-case names.
        let rows = read(
            Kind::Citizens,
            "\u{feff}NID,extra,name_en,name_bn,father,mother,dob,gender,division,district,upazila,address,msisdns\n\
             ১২৩৪৫৬৭৮৯০,z,Karim Rahman,করিম,F,M,1990-01-01,M,Dhaka,Dhaka,Mirpur,\"Road 1, Block C\",01711111111;+8801711111111 01822222222\n\
             12345,z,Bad Nid,x,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,\n\
             2345678901,z,Short\n",
        );
        assert_eq!(rows.len(), 3);
        let Ok(Record::Citizen(c)) = &rows[0] else { panic!("{:?}", rows[0]) };
        assert_eq!(c.nid, "1234567890");
        assert_eq!((c.name_en.as_str(), c.name_bn.as_str()), ("Karim Rahman", "করিম"));
        assert_eq!(c.gender, "male");
        assert_eq!(c.address, "Road 1, Block C");
        assert_eq!(c.msisdns, ["8801711111111", "8801822222222"]);
        assert_eq!(rows[1], Err(BadRow { line: 3, why: "bad nid `12345`".into() }));
        // A short row lacks its later fields: read as empty, so this one is a good record.
        let Ok(Record::Citizen(s)) = &rows[2] else { panic!("{:?}", rows[2]) };
        assert_eq!((s.name_en.as_str(), s.dob.as_str(), s.msisdns.len()), ("Short", "", 0));
    }

    #[test]
    fn call_records_are_checked_field_by_field() {
        let rows = read(
            Kind::Cdrs,
            "caller,callee,start,duration,type,cell_id,imei\n\
             01711111111,01822222222,2026-02-01T10:00:00+06:00,65,Voice,470-01-1234,356938035643809\n\
             01711111111,01822222222,1769925600,0,sms,,\n\
             0171,01822222222,1769925600,0,sms,,\n\
             01711111111,01822222222,yesterday,0,sms,,\n\
             01711111111,01822222222,1769925600,-5,sms,,\n\
             01711111111,01822222222,1769925600,5,fax,,\n",
        );
        let Ok(Record::Cdr(c)) = &rows[0] else { panic!("{:?}", rows[0]) };
        assert_eq!(
            (c.caller.as_str(), c.start, c.duration, c.kind.as_str()),
            ("8801711111111", 1_769_918_400, 65, "voice")
        );
        let Ok(Record::Cdr(c)) = &rows[1] else { panic!("{:?}", rows[1]) };
        assert_eq!((c.start, c.kind.as_str()), (1_769_925_600, "sms"));
        let bad: Vec<(u64, String)> =
            rows[2..].iter().map(|r| r.clone().err().map(|b| (b.line, b.why)).unwrap()).collect();
        assert_eq!(bad[0], (4, "bad caller `0171`".into()));
        assert!(bad[1].1.starts_with("bad start `yesterday`"), "{:?}", bad[1]);
        assert!(bad[2].1.starts_with("bad duration `-5`"), "{:?}", bad[2]);
        assert_eq!(bad[3], (7, "type must be voice, sms or data, not `fax`".into()));
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused() {
        let e = Rows::new(Kind::Cdrs, "caller,callee,start,duration,type,cell_id\n".as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "the header lacks `imei`");
        let e = Rows::new(Kind::Citizens, &b"nid,name\xff\n"[..]).unwrap_err();
        assert!(matches!(e, ImportError::Header(_)), "{e}");
    }

    #[test]
    fn rows_that_are_not_utf8_are_skipped_not_fatal() {
        let mut text = b"caller,callee,start,duration,type,cell_id,imei\n".to_vec();
        text.extend_from_slice(b"01711111111,01822222222,1769925600,0,sms,\xff,\n");
        text.extend_from_slice(b"01711111111,01822222222,1769925600,0,sms,,\n");
        let rows: Vec<_> = Rows::new(Kind::Cdrs, &text[..]).unwrap().collect();
        assert_eq!(rows.len(), 2);
        let bad = rows[0].clone().unwrap_err();
        assert_eq!(bad.line, 2);
        assert!(bad.why.starts_with("bad CSV row"), "{bad}");
        assert!(rows[1].is_ok());
    }
}
