//! Sorting an access log that is not in time order, in memory bounded by a run's rows whatever
//! the log's size: runs of rows are sorted in memory and written to a temporary directory in a
//! compact binary form, then merged (in several passes when there are many runs). The merge
//! is stable: rows at the same second keep the order the log gives them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use custos_detect::input::Action;
use custos_detect::Event;

/// Runs merged at once (each an open file and a 64 KiB buffer).
const FAN_IN: usize = 128;
/// The longest string a run file may hold (a bound on what a damaged file makes us allocate).
const MAX_FIELD: usize = 1 << 20;

/// Collects events, writing each full run to disk sorted by time.
pub struct RunSorter {
    run_rows: usize,
    buf: Vec<Event>,
    dir: Option<tempfile::TempDir>,
    runs: Vec<PathBuf>,
    written: usize,
}

impl RunSorter {
    /// A sorter holding at most `run_rows` events in memory (at least one).
    pub fn new(run_rows: usize) -> Self {
        Self { run_rows: run_rows.max(1), buf: Vec::new(), dir: None, runs: Vec::new(), written: 0 }
    }

    /// Whether any run went to disk.
    pub fn spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    pub fn push(&mut self, ev: Event) -> anyhow::Result<()> {
        self.buf.push(ev);
        if self.buf.len() >= self.run_rows {
            self.spill()?;
        }
        Ok(())
    }

    /// A new run file's path in the temporary directory (made on first use).
    fn next_path(&mut self) -> anyhow::Result<PathBuf> {
        let dir = match &self.dir {
            Some(d) => d,
            None => self.dir.insert(
                tempfile::Builder::new()
                    .prefix("custos-sort-")
                    .tempdir()
                    .context("cannot make a temporary directory to sort the log in")?,
            ),
        };
        self.written += 1;
        Ok(dir.path().join(format!("run-{}.bin", self.written)))
    }

    fn spill(&mut self) -> anyhow::Result<()> {
        // Stable: equal times keep the log's order.
        self.buf.sort_by_key(|e| e.time);
        let path = self.next_path()?;
        let mut w = create(&path)?;
        for ev in &self.buf {
            write_event(&mut w, ev).with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        w.flush().with_context(|| format!("cannot write `{}`", path.display()))?;
        self.buf.clear();
        self.runs.push(path);
        Ok(())
    }

    /// Hand every event to `sink` in time order; returns how many.
    pub fn finish(mut self, mut sink: impl FnMut(&Event)) -> anyhow::Result<u64> {
        if self.runs.is_empty() {
            self.buf.sort_by_key(|e| e.time);
            self.buf.iter().for_each(&mut sink);
            return Ok(self.buf.len() as u64);
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        self.buf = Vec::new();
        // Consecutive runs merged into one keep the log's order between them.
        while self.runs.len() > FAN_IN {
            let runs = std::mem::take(&mut self.runs);
            for group in runs.chunks(FAN_IN) {
                let path = self.next_path()?;
                let mut w = create(&path)?;
                let mut failed = None;
                merge(group, |ev| {
                    if failed.is_none() {
                        failed = write_event(&mut w, ev).err();
                    }
                })?;
                if let Some(e) = failed {
                    return Err(e).with_context(|| format!("cannot write `{}`", path.display()));
                }
                w.flush().with_context(|| format!("cannot write `{}`", path.display()))?;
                for p in group {
                    let _ = std::fs::remove_file(p);
                }
                self.runs.push(path);
            }
        }
        merge(&self.runs, sink)
    }
}

fn create(path: &std::path::Path) -> anyhow::Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

/// Merge sorted run files into `sink` in time order, ties in the order of `runs`.
fn merge(runs: &[PathBuf], mut sink: impl FnMut(&Event)) -> anyhow::Result<u64> {
    let mut readers = Vec::with_capacity(runs.len());
    let mut heads: Vec<Event> = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (i, p) in runs.iter().enumerate() {
        let f = File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        let mut ev = Event::default();
        if read_event(&mut r, &mut ev).with_context(|| format!("cannot read `{}`", p.display()))? {
            heap.push(Reverse((ev.time, i)));
        }
        readers.push(r);
        heads.push(ev);
    }
    let mut n = 0u64;
    while let Some(Reverse((_, i))) = heap.pop() {
        sink(&heads[i]);
        n += 1;
        let (r, ev) = (&mut readers[i], &mut heads[i]);
        if read_event(r, ev).with_context(|| format!("cannot read `{}`", runs[i].display()))? {
            heap.push(Reverse((ev.time, i)));
        }
    }
    Ok(n)
}

fn action_tag(a: &Action) -> (u8, &str) {
    match a {
        Action::IdentityLookup => (0, ""),
        Action::CdrQuery => (1, ""),
        Action::SubscriberLookup => (2, ""),
        Action::LocationQuery => (3, ""),
        Action::NameSearch => (4, ""),
        Action::Other(s) => (5, s),
    }
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    let n = u32::try_from(s.len()).unwrap_or(u32::MAX).min(MAX_FIELD as u32);
    w.write_all(&n.to_le_bytes())?;
    w.write_all(&s.as_bytes()[..n as usize])
}

/// One event: time, offset, outcome, records, action, then officer, unit, subject and case as
/// length-prefixed UTF-8.
fn write_event(w: &mut impl Write, ev: &Event) -> std::io::Result<()> {
    let (tag, other) = action_tag(&ev.action);
    w.write_all(&ev.time.to_le_bytes())?;
    w.write_all(&ev.offset.to_le_bytes())?;
    w.write_all(&[u8::from(ev.allowed), tag])?;
    w.write_all(&ev.records.to_le_bytes())?;
    if tag == 5 {
        write_str(w, other)?;
    }
    for s in [&ev.officer, &ev.unit, &ev.subject, &ev.case] {
        write_str(w, s)?;
    }
    Ok(())
}

fn read_str(r: &mut impl Read, out: &mut String) -> anyhow::Result<()> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_FIELD {
        bail!("a field of {n} bytes (damaged run file)");
    }
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.clear();
    bytes.resize(n, 0);
    r.read_exact(&mut bytes)?;
    *out = String::from_utf8(bytes).context("a field that is not UTF-8 (damaged run file)")?;
    Ok(())
}

/// Read the next event into `ev` (its strings reused); false at the end of the file.
fn read_event(r: &mut impl Read, ev: &mut Event) -> anyhow::Result<bool> {
    let mut head = [0u8; 22];
    match r.read(&mut head[..1])? {
        0 => return Ok(false),
        _ => r.read_exact(&mut head[1..])?,
    }
    let field = |a: usize, b: usize| &head[a..b];
    ev.time = i64::from_le_bytes(field(0, 8).try_into()?);
    ev.offset = i32::from_le_bytes(field(8, 12).try_into()?);
    ev.allowed = head[12] != 0;
    let tag = head[13];
    ev.records = u64::from_le_bytes(field(14, 22).try_into()?);
    ev.action = match tag {
        0 => Action::IdentityLookup,
        1 => Action::CdrQuery,
        2 => Action::SubscriberLookup,
        3 => Action::LocationQuery,
        4 => Action::NameSearch,
        5 => {
            let mut s = String::new();
            read_str(r, &mut s)?;
            Action::Other(s)
        }
        t => bail!("unknown action tag {t} (damaged run file)"),
    };
    read_str(r, &mut ev.officer)?;
    read_str(r, &mut ev.unit)?;
    read_str(r, &mut ev.subject)?;
    read_str(r, &mut ev.case)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn ev(time: i64, officer: &str, action: Action) -> Event {
        Event {
            time,
            offset: 21_600,
            officer: officer.into(),
            unit: "U".into(),
            action,
            subject: format!("{time}"),
            case: if time % 2 == 0 { "C-1".into() } else { String::new() },
            allowed: time % 3 != 0,
            records: time as u64 % 7,
        }
    }

    fn key(e: &Event) -> (i64, String, String, String, bool, u64, i32) {
        (e.time, e.officer.clone(), format!("{:?}", e.action), e.case.clone(), e.allowed, e.records, e.offset)
    }

    #[test]
    fn runs_on_disk_merge_into_the_stable_time_order_of_the_whole() {
        // Rows of three officers, each officer's rows in a block (a log sorted by officer),
        // with times that repeat across officers: sorted in runs of one row (300 runs: two
        // passes of merging), of seven, or all in memory, they come out as a stable sort of the
        // whole.
        let actions = [Action::IdentityLookup, Action::CdrQuery, Action::Other("nid verify".into())];
        let mut all = Vec::new();
        for (o, a) in ["a", "b", "c"].iter().zip(actions) {
            for t in (0..100).map(|k| (k * 37) % 50) {
                all.push(ev(t, o, a.clone()));
            }
        }
        let mut want = all.clone();
        want.sort_by_key(|e| e.time);
        for run in [1, 7, 1000] {
            let mut s = RunSorter::new(run);
            for e in all.iter().cloned() {
                s.push(e).unwrap();
            }
            assert_eq!(s.spilled(), run < all.len());
            let mut got = Vec::new();
            let n = s.finish(|e| got.push(key(e))).unwrap();
            assert_eq!(n as usize, all.len());
            assert_eq!(got, want.iter().map(key).collect::<Vec<_>>(), "runs of {run}");
        }
    }

    #[test]
    fn a_damaged_run_file_is_an_error_not_a_panic() {
        for bytes in [vec![1u8; 5], vec![0u8; 22], [vec![0u8; 13], vec![9u8], vec![0u8; 8]].concat()] {
            let mut ev = Event::default();
            let mut r = &bytes[..];
            let first = read_event(&mut r, &mut ev);
            // Either an error or one event followed by an error: never a panic.
            if let Ok(true) = first {
                assert!(read_event(&mut r, &mut ev).is_err());
            } else {
                assert!(first.is_err(), "{bytes:?}");
            }
        }
    }
}
