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
/// year 5138), whose hours of day are read in `naive_offset` too (the instant is the same), as
/// are those of a time written in UTC (`Z`, `UTC`, `GMT`: systems that log in UTC state the
/// instant, not the agency's hours; an explicit `+00:00` is taken as the zone worked in).
/// Returns the time and whether the log left its local hours unstated (no offset, `Z` or
/// Unix time).
pub fn parse_log_time(s: &str, naive_offset: i32) -> Option<(Stamp, bool)> {
    match parse_log_time_in(s, naive_offset, &mut DateOrder::Unknown) {
        LogTime::At(t, naive) => Some((t, naive)),
        LogTime::Ambiguous | LogTime::Bad => None,
    }
}

/// Which of the first two numbers of a date written with numbers only, before a four-digit
/// year (`03/01/2026`), is the day: the third of January in one country, the first of March in
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Not known yet: a date whose first two numbers are both 12 or less cannot be read.
    #[default]
    Unknown,
    /// `30/03/2026`.
    DayFirst,
    /// `03/30/2026`.
    MonthFirst,
}

/// A time read by [`parse_log_time_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTime {
    /// The time, and whether the log left its local hours unstated.
    At(Stamp, bool),
    /// A date written with numbers only whose order no row has shown yet (`03/01/2026`).
    Ambiguous,
    /// Not a time, or a date against the order the log has shown.
    Bad,
}

/// [`parse_log_time`], and a date written with numbers only, day or month first before a
/// four-digit year (`30/03/2026 22:15`, `3.30.2026 10:15:00 PM`, `30-03-2026T22:15:00+06:00`).
/// A date whose day is above 12 shows the order, which `order` keeps once it is known (given,
/// or shown by an earlier row); a later date against it is [`LogTime::Bad`]. While the order
/// is unknown, a date whose first two numbers are both 12 or less is [`LogTime::Ambiguous`]:
/// nothing is guessed here.
pub fn parse_log_time_in(s: &str, naive_offset: i32, order: &mut DateOrder) -> LogTime {
    let lenient = Some(naive_offset);
    let found = parse(s, lenient)
        .or_else(|| parse(&spreadsheet_form(s)?, lenient))
        .or_else(|| parse(&basic_form(s)?, lenient))
        .or_else(|| parse(&named_month_form(s)?, lenient));
    if let Some((t, naive)) = found {
        return LogTime::At(t, naive);
    }
    let Some(date) = numeric_date(s) else {
        return LogTime::Bad;
    };
    let shown = match (date.first > 12, date.second > 12) {
        (true, false) => Some(DateOrder::DayFirst),
        (false, true) => Some(DateOrder::MonthFirst),
        (true, true) => return LogTime::Bad,
        (false, false) => None,
    };
    let known = match (shown, *order) {
        (Some(o), DateOrder::Unknown) => o,
        (Some(o), k) if o != k => return LogTime::Bad,
        (Some(o), _) => o,
        (None, DateOrder::Unknown) => return LogTime::Ambiguous,
        (None, k) => k,
    };
    let (day, month) = match known {
        DateOrder::MonthFirst => (date.second, date.first),
        _ => (date.first, date.second),
    };
    const MON: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Some(name) = month.checked_sub(1).and_then(|m| MON.get(m as usize)) else {
        return LogTime::Bad;
    };
    let named = format!("{day} {name} {} {}", date.year, date.rest);
    match named_month_form(&named).and_then(|f| parse(&f, lenient)) {
        Some((t, naive)) => {
            *order = known;
            LogTime::At(t, naive)
        }
        None => LogTime::Bad,
    }
}

/// The parts of a date written with numbers only before a four-digit year.
struct NumericDate<'a> {
    first: u32,
    second: u32,
    year: u32,
    /// What follows the date (the time, and perhaps `AM`/`PM` and a zone).
    rest: &'a str,
}

/// `30/03/2026 …`, `3.30.2026 …`, `30-03-2026T…`: one or two digits, the same separator
/// (`/`, `.` or `-`) twice, four digits, then the time after a space, `T` or `:`.
fn numeric_date(s: &str) -> Option<NumericDate<'_>> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits =
        |from: usize| b.get(from..).map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count());
    let i = digits(0);
    let sep = *b.get(i)?;
    if !(1..=2).contains(&i) || !matches!(sep, b'/' | b'.' | b'-') {
        return None;
    }
    let j = digits(i + 1);
    if !(1..=2).contains(&j) || b.get(i + 1 + j) != Some(&sep) || digits(i + 2 + j) != 4 {
        return None;
    }
    let y = i + 2 + j;
    let rest = match b.get(y + 4) {
        Some(b' ' | b'T' | b't' | b':') => &s[y + 5..],
        _ => return None, // a date alone says no hour
    };
    Some(NumericDate {
        first: num(&s[..i])?,
        second: num(&s[i + 1..i + 1 + j])?,
        year: num(&s[y..y + 4])?,
        rest: rest.trim_start(),
    })
}

/// ISO 8601's basic form (`20260301T221500Z`, `20260301T221500+0600`) in the extended form
/// [`parse`] reads.
fn basic_form(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 15 || !matches!(b[8], b'T' | b't') || !b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
    {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}{}",
        &s[..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15],
        &s[15..]
    ))
}

/// A date with the month's name, as databases and servers also write them, in the form
/// [`parse`] reads: `01-MAR-26 10.15.00.000000 PM` (a two-digit year is this century's),
/// `1 Mar 2026 22:15`, `Mar 1, 2026 10:15:00 PM`, `01/Mar/2026:22:15:00 +0600`, then an
/// optional `AM`/`PM`, and a zone (`Z`, `UTC`, `GMT`, or an offset) or none. The month's name
/// says which part is the day, so nothing is guessed.
fn named_month_form(s: &str) -> Option<String> {
    // The name or its first three letters (`Mar`, `March`, `Sept`; not `Marx`).
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let month = |t: &str| -> Option<u32> {
        let t = t.to_ascii_lowercase();
        let i = MONTHS
            .iter()
            .position(|m| *m == t || t.len() == 3 && m.starts_with(&t) || t == "sept" && *m == "september")?;
        Some(i as u32 + 1)
    };
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    if !s.is_ascii() {
        return None;
    }
    // The date's three parts, and what follows them; a weekday before them (`Tue, 01 Dec 2026
    // …` in mail and HTTP dates, `Tue Dec 01 …` from C's `ctime` and Java's `Date`) says
    // nothing more.
    let mut tokens = s.split([' ', ',']).filter(|t| !t.is_empty()).peekable();
    if tokens.peek().is_some_and(|t| weekday(t)) {
        tokens.next();
    }
    let first = tokens.next()?;
    let (d, mo, y, mut rest): (&str, u32, &str, Vec<&str>) = if let Some(mo) = month(first) {
        let d = tokens.next()?;
        let next = tokens.next()?;
        if next.contains(':') {
            // `Dec 1 22:15:00 BDT 2026`: the time before the year, which is last.
            let mut rest: Vec<&str> = std::iter::once(next).chain(tokens).collect();
            let y = rest.pop()?;
            (d, mo, y, rest)
        } else {
            // `Mar 1, 2026 …`
            (d, mo, next, tokens.collect())
        }
    } else if first.contains(['-', '/']) {
        // `01-Mar-2026 …`, `01/Mar/2026:22:15:00 …`
        let mut parts = first.splitn(3, ['-', '/']);
        let (d, mo, y) = (parts.next()?, month(parts.next()?)?, parts.next()?);
        let mut rest: Vec<&str> = tokens.collect();
        match y.split_once(':') {
            Some((y, time)) => {
                rest.insert(0, time);
                (d, mo, y, rest)
            }
            None => (d, mo, y, rest),
        }
    } else {
        // `1 Mar 2026 …`
        let (mo, y) = (month(tokens.next()?)?, tokens.next()?);
        (first, mo, y, tokens.collect())
    };
    let (d, y) = (num(d)?, num(y)?);
    let y = match y {
        0..=99 => 2000 + y,
        1000..=9999 => y,
        _ => return None,
    };
    if rest.is_empty() {
        return None; // a date alone says no hour
    }
    // The time: `22:15`, `22:15:00`, `22:15:00.123`, or with dots (`10.15.00.000000`), and a
    // zone written onto it (`22:15:00Z`, `22:15:00+06:00`).
    let mut time = rest.remove(0);
    let mut zone = String::new();
    if let Some(t) = time.strip_suffix(['Z', 'z']) {
        time = t;
        zone.push('Z');
    } else if let Some(i) = time.find(['+', '-']) {
        zone.push_str(&time[i..]);
        time = &time[..i];
    }
    let mut tp = time.splitn(4, [':', '.']);
    let (mut h, mi) = (num(tp.next()?)?, num(tp.next()?)?);
    let sec = tp.next().map_or(Some(0), num)?;
    let frac = tp.next().filter(|f| !f.is_empty());
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    for t in rest {
        match (t.to_ascii_uppercase().as_str(), zone_letters(t)) {
            ("AM" | "PM", _) if (1..=12).contains(&h) => {
                h = h % 12 + if t.eq_ignore_ascii_case("PM") { 12 } else { 0 }
            }
            (_, Some(offset)) if zone.is_empty() => zone.push_str(offset),
            (z, None) if zone.is_empty() && (z.starts_with('+') || z.starts_with('-')) => zone.push_str(z),
            _ => return None,
        }
    }
    let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
    Some(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{frac}{zone}"))
}

/// The zones read by their letters, as an offset [`parse`] reads: UTC (`Z`) and GMT, and
/// Bangladesh Time as Java writes Asia/Dhaka's (no daylight saving since 2009). Other zones'
/// letters are not read: `BST` and `IST` each name several.
fn zone_letters(z: &str) -> Option<&'static str> {
    match z.to_ascii_uppercase().as_str() {
        "Z" | "UTC" | "GMT" => Some("Z"),
        "BDT" => Some("+06:00"),
        _ => None,
    }
}

/// A weekday's name or its first three letters (`Tue`, `Tuesday`; also `Tues`, `Thur`, `Thurs`).
fn weekday(t: &str) -> bool {
    const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let t = t.to_ascii_lowercase();
    DAYS.iter().any(|d| *d == t || t.len() == 3 && d.starts_with(&t))
        || matches!(t.as_str(), "tues" | "thur" | "thurs")
}

/// A year-first date and time as spreadsheets and databases also write them, in the form
/// [`parse`] reads: `/` or `.` between the parts of the date (`2026/03/01`), and a time
/// without seconds (`22:15`). Day- or month-first dates are [`parse_log_time_in`]'s.
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
                // Unix time is an instant without a zone: leniently, its hours of day are
                // those of the offset assumed for times written without one.
                let offset = lenient.unwrap_or(0);
                return Some((Stamp { unix: v.floor() as i64, offset }, lenient.is_some()));
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
    // Leniently, also a space before the zone, and the zone's name for UTC.
    if lenient.is_some() {
        tail = tail.trim_start();
        tail = zone_letters(tail).unwrap_or(tail);
    }
    // A time in UTC (`Z`) states its instant but not the agency's hours: leniently, like Unix
    // time, its hours of day are those of the offset assumed for the log.
    let mut hours_in = None;
    let (offset, naive): (i32, bool) = match tail {
        "Z" | "z" => {
            hours_in = lenient;
            (0, lenient.is_some())
        }
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
    Some((Stamp { unix: local - i64::from(offset), offset: hours_in.unwrap_or(offset) }, naive))
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
    fn numeric_dates_are_read_in_the_order_the_log_shows_and_never_guessed() {
        let utc = |s: &str, order: &mut DateOrder| match parse_log_time_in(s, 0, order) {
            LogTime::At(t, _) => Some(format_utc(t.unix)),
            _ => None,
        };
        // Unknown order: a day above 12 shows it, and it is kept.
        let mut order = DateOrder::Unknown;
        assert_eq!(parse_log_time_in("01/03/2026 22:15:00", 0, &mut order), LogTime::Ambiguous);
        assert_eq!(order, DateOrder::Unknown);
        assert_eq!(utc("30/03/2026 22:15", &mut order).as_deref(), Some("2026-03-30T22:15:00Z"));
        assert_eq!(order, DateOrder::DayFirst);
        assert_eq!(utc("01/03/2026 22:15:00", &mut order).as_deref(), Some("2026-03-01T22:15:00Z"));
        assert_eq!(utc("1.3.2026 10:15:30 PM", &mut order).as_deref(), Some("2026-03-01T22:15:30Z"));
        assert_eq!(utc("01-03-2026T22:15:00+06:00", &mut order).as_deref(), Some("2026-03-01T16:15:00Z"));
        // A later date against the order is bad, not read the other way.
        assert_eq!(parse_log_time_in("03/30/2026 22:15", 0, &mut order), LogTime::Bad);
        // Month first, shown or given.
        let mut order = DateOrder::Unknown;
        assert_eq!(utc("03/30/2026 10:15:00 PM", &mut order).as_deref(), Some("2026-03-30T22:15:00Z"));
        assert_eq!(order, DateOrder::MonthFirst);
        let mut given = DateOrder::MonthFirst;
        assert_eq!(utc("09/06/2026 08:02:30 AM", &mut given).as_deref(), Some("2026-09-06T08:02:30Z"));
        for bad in [
            "31/13/2026 10:00",
            "00/03/2026 10:00",
            "1/3/26 10:00",
            "01/03/2026",
            "01/03-2026 10:00",
            "001/03/2026 10:00",
        ] {
            let mut order = DateOrder::DayFirst;
            assert_eq!(parse_log_time_in(bad, 0, &mut order), LogTime::Bad, "{bad}");
        }
    }

    #[test]
    fn dates_with_the_months_name_and_other_forms_are_read() {
        let utc = |s: &str| parse_log_time(s, 0).map(|(t, _)| format_utc(t.unix));
        let at = Some("2026-03-01T22:15:00Z".to_string());
        for form in [
            "01-MAR-26 10.15.00.000000 PM",
            "1 Mar 2026 22:15",
            "Mar 1, 2026 10:15:00 PM",
            "March 1 2026 22:15:00Z",
            "01/Mar/2026:22:15:00 +0000",
            "[01/Mar/2026:04:15:00 -1800]",
            "2026-03-01 22:15:00 UTC",
            "2026-03-01 22:15:00 GMT",
            "2026-03-02 04:15:00 +06:00",
            "20260301T221500Z",
            "20260302T041500+0600",
            // With the weekday: mail and HTTP dates, C's `ctime` and Java's `Date` (Asia/Dhaka
            // written `BDT`).
            "Sun, 01 Mar 2026 22:15:00 +0000",
            "Mon, 02 Mar 2026 04:15:00 +0600",
            "Sun Mar  1 22:15:00 2026",
            "Mon Mar 02 04:15:00 BDT 2026",
            "2026-03-02 04:15:00 BDT",
            "Sunday, March 1, 2026 10:15 PM",
        ] {
            assert_eq!(utc(form), at, "{form}");
        }
        // A weekday alone is no date; a time where the year should be is no year.
        for bad in ["Sun 22:15:00", "Mon Mar 02 04:15:00 BDT", "Mon Mar 02 04:15:00 BST 2026"] {
            assert!(parse_log_time(bad, 0).is_none(), "{bad}");
        }
        // 12 AM is midnight, 12 PM noon; a zone may be written onto the time; a date alone says
        // no hour.
        assert_eq!(utc("1-Mar-2026 12:05 AM").as_deref(), Some("2026-03-01T00:05:00Z"));
        assert_eq!(utc("1-Mar-2026 12:05 PM").as_deref(), Some("2026-03-01T12:05:00Z"));
        assert_eq!(utc("1 March 2026 09:00+06:00").as_deref(), Some("2026-03-01T03:00:00Z"));
        for bad in [
            "1 March 2026",
            "Marx 1, 2026 10:00",
            "1 Mar 2026 13:00 PM",
            "32 Mar 2026 10:00",
            "1 Mar 2026 10:00 BST",
            "1 Mar 2026 10:00 UTC UTC",
            "Mar 2026",
            "2026-03-01 22:15:00 EST",
        ] {
            assert!(parse_log_time(bad, 0).is_none(), "{bad}");
        }
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
            // The same instant, its hours of day in the zone assumed.
            assert_eq!(parse_log_time(s, six), Some((t, true)), "{s}");
            assert_eq!(parse_log_time(s, 0).map(|(x, _)| (x.unix, x.offset)), Some((t.unix, 0)), "{s}");
        }
        // A time in UTC states the instant, not the agency's hours: they are the zone
        // assumed, as for Unix time; an explicit offset, even `+00:00`, is the zone worked in.
        for s in ["2026-03-01T16:15:00Z", "2026-03-01 16:15:00 UTC", "1 Mar 2026 16:15 GMT"] {
            assert_eq!(parse_log_time(s, six), Some((t, true)), "{s}");
            assert_eq!(parse_log_time(s, six).map(|(x, _)| x.local_hour()), Some(22), "{s}");
        }
        let zero = parse_log_time("2026-03-01T16:15:00+00:00", six);
        assert_eq!(zero.map(|(x, naive)| (x.unix, x.local_hour(), naive)), Some((t.unix, 16, false)));
        assert_eq!(parse_time("2026-03-01T16:15:00Z").map(|x| x.local_hour()), Some(16));
        for bad in
            ["2026-03-01T22:15:00+6", "2026-03-01T22:15:00+06:0", "2026-03-01T22:15:00 EST", "2026-03-01"]
        {
            assert!(parse_log_time(bad, six).is_none(), "{bad}");
        }
        // 2026-11-28 is a Saturday (5 when Monday = 0).
        assert_eq!(parse_time("2026-11-28T12:00:00Z").unwrap().local_weekday(), 5);
    }
}
