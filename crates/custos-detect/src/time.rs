//! RFC 3339 timestamps and Unix seconds, without a calendar dependency.

/// A point in time: Unix seconds and the UTC offset it was written with (for local hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Seconds since the Unix epoch (UTC).
    pub unix: i64,
    /// Offset east of UTC in seconds, as written (0 for `Z` or Unix seconds).
    pub offset: i32,
}

impl Stamp {
    /// Local hour of day (0..24) in the offset the time was written with.
    pub fn local_hour(&self) -> u8 {
        ((self.unix + i64::from(self.offset)).rem_euclid(86_400) / 3600) as u8
    }

    /// Local day number (days since the epoch, in the written offset).
    pub fn local_day(&self) -> i64 {
        (self.unix + i64::from(self.offset)).div_euclid(86_400)
    }

    /// Local day of week, 0 = Monday.
    pub fn local_weekday(&self) -> u8 {
        // 1970-01-01 was a Thursday (3 when Monday = 0).
        ((self.local_day() + 3).rem_euclid(7)) as u8
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse RFC 3339 (`2026-03-01T22:15:00+06:00`, `…Z`, fractional seconds allowed; a space
/// instead of `T` is accepted) or decimal Unix seconds (optionally fractional).
pub fn parse_time(s: &str) -> Option<Stamp> {
    parse(s, None).map(|(t, _)| t)
}

/// A time in an access log, read more leniently than [`parse_time`], as other agencies write
/// them: also a date and time without an offset (`2026-03-01 22:15:00`), read in
/// `naive_offset` (seconds east of UTC); an offset without a colon (`+0600`, `+06`); and Unix
/// time in milliseconds or microseconds (told apart by size: seconds reach 10^11 only in the
/// year 5138). Returns the time and whether it was written without an offset.
pub fn parse_log_time(s: &str, naive_offset: i32) -> Option<(Stamp, bool)> {
    parse(s, Some(naive_offset)).or_else(|| parse(&spreadsheet_form(s)?, Some(naive_offset)))
}

/// A year-first date and time as spreadsheets and databases also write them, in the form
/// [`parse`] reads: `/` or `.` between the parts of the date (`2026/03/01`), and a time
/// without seconds (`22:15`). Day- or month-first dates are not read: `03/01/2026` is the
/// third of January in one country and the first of March in another.
fn spreadsheet_form(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 16 || !b[..16].is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 3);
    if matches!(b[4], b'/' | b'.') && b[7] == b[4] {
        out.push_str(&s[..4]);
        out.push('-');
        out.push_str(&s[5..7]);
        out.push('-');
        out.push_str(&s[8..]);
    } else {
        out.push_str(s);
    }
    if out.as_bytes()[13] == b':' && out.as_bytes().get(16) != Some(&b':') {
        out.insert_str(16, ":00");
    }
    (out != s).then_some(out)
}

/// [`parse_time`], or with `lenient` the offset for times written without one
/// ([`parse_log_time`]).
fn parse(s: &str, lenient: Option<i32>) -> Option<(Stamp, bool)> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') && !s.contains("--") {
        if let Ok(v) = s.parse::<f64>() {
            let v = match lenient {
                Some(_) if v.abs() >= 1e14 => v / 1e6,
                Some(_) if v.abs() >= 1e11 => v / 1e3,
                _ => v,
            };
            if v.is_finite() && v.abs() < 1e13 {
                return Some((Stamp { unix: v.floor() as i64, offset: 0 }, false));
            }
        }
    }
    if s.len() < 19 || !s.is_char_boundary(10) || !s.is_char_boundary(19) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let sep = rest.as_bytes().first()?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let mut dp = date.split('-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    let time = &rest[1..9];
    let mut tp = time.split(':');
    let (h, mi, sec) = (num(tp.next()?)?, num(tp.next()?)?, num(tp.next()?)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut tail = &rest[9..];
    if let Some(f) = tail.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = &f[n..];
    }
    let signed = |t: &str| t.starts_with('+') || t.starts_with('-');
    let (offset, naive): (i32, bool) = match tail {
        "Z" | "z" => (0, false),
        "" => (lenient?, true),
        t if signed(t)
            && (t.len() == 6 && t.as_bytes()[3] == b':' || lenient.is_some() && matches!(t.len(), 3 | 5)) =>
        {
            let oh = num(t.get(1..3)?)? as i32;
            let om = match t.len() {
                6 => num(t.get(4..6)?)? as i32,
                5 => num(t.get(3..5)?)? as i32,
                _ => 0,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            (if t.starts_with('-') { -o } else { o }, false)
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let local = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec);
    Some((Stamp { unix: local - i64::from(offset), offset }, naive))
}

/// Format Unix seconds as RFC 3339 in UTC (`…Z`).
pub fn format_utc(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, (s % 3600) / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_or_month_first_dates_and_broken_times_are_not_guessed() {
        for bad in [
            "01/03/2026 22:15:00",
            "03-01-2026 22:15",
            "2026/03-01 22:15:00",
            "2026/03/01 22:1",
            "2026/03/01 2215",
            "2026/০৩/01 22:15",
        ] {
            assert!(parse_log_time(bad, 0).is_none(), "{bad}");
        }
        // Strictly (the API's times), no spreadsheet forms.
        assert!(parse_time("2026/03/01 22:15:00Z").is_none());
    }

    #[test]
    fn parses_and_formats() {
        let t = parse_time("2026-03-01T22:15:00+06:00").unwrap();
        assert_eq!(format_utc(t.unix), "2026-03-01T16:15:00Z");
        assert_eq!(t.local_hour(), 22);
        assert_eq!(parse_time("1700000000").unwrap().unix, 1_700_000_000);
        assert_eq!(parse_time("2026-03-01 16:15:00.123Z").unwrap().unix, t.unix);
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap().unix, 0);
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-03-01T24:00:00Z",
            "2026-03-01T00:00:00",
            "yesterday",
            "2026-03-01T00:00:00+6:00",
            "2026-03-01T00:00:00+0é:0",
            "2026-03-01T00:00:00+é:00",
            "১২৩",
        ] {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
        for d in [-1000i64, 0, 19_000, 20_500] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        // Leniently, as other agencies write times: without an offset (read in the one
        // given), with one without a colon, in milliseconds or microseconds.
        let six = 6 * 3600;
        for (s, naive) in [
            ("2026-03-01 22:15:00", true),
            ("2026-03-01T22:15:00.5", true),
            ("2026-03-01T22:15:00+0600", false),
            ("2026-03-01T22:15:00+06", false),
            ("2026-03-01T22:15:00+06:00", false),
            ("2026/03/01 22:15:00", true),
            ("2026.03.01 22:15", true),
            ("2026-03-01 22:15", true),
            ("2026/03/01T22:15+06:00", false),
        ] {
            assert_eq!(parse_log_time(s, six), Some((t, naive)), "{s}");
        }
        assert_eq!(parse_log_time("2026-03-01 16:15:00", 0).map(|(x, _)| x.unix), Some(t.unix));
        for s in ["1772381700", "1772381700000", "1772381700000000", "1772381700.25"] {
            assert_eq!(parse_log_time(s, six).map(|(x, _)| x.unix), Some(t.unix), "{s}");
        }
        for bad in
            ["2026-03-01T22:15:00+6", "2026-03-01T22:15:00+06:0", "2026-03-01T22:15:00 UTC", "2026-03-01"]
        {
            assert!(parse_log_time(bad, six).is_none(), "{bad}");
        }
        // 2026-11-28 is a Saturday (5 when Monday = 0).
        assert_eq!(parse_time("2026-11-28T12:00:00Z").unwrap().local_weekday(), 5);
    }
}
