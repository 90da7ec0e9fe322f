//! `custos analyze`, `custos eval` and `custos sim`: offline abuse detection over any agency's
//! access log, its evaluation on simulated agencies, and the simulator's files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use custos_detect::input::{read_cases, read_watch, LogReader, SideFile};
use custos_detect::time::DateOrder;
use custos_detect::{Config, Engine, Event, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A ranked table with reasons.
    Text,
    /// JSON: `analyze` writes `{"officers": [...], "alerts": [...]}`, `leak trace` writes
    /// `{"scanned", "found", "matched_subjects", "suspects", "coalitions"}`.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Access log: `time,officer,unit,action,subject,case,outcome,records`.
    #[arg(long)]
    pub log: PathBuf,
    /// Case links: `case,role,value` (role `officer` or `subject`).
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// Watch list: `subject,label` (label `honeytoken` or `vip`).
    #[arg(long)]
    pub watch: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Show only the K riskiest officers.
    #[arg(long)]
    pub top: Option<usize>,
    /// Stop at the first bad row (of the log, the case links or the watch list) instead of
    /// skipping it.
    #[arg(long)]
    pub strict: bool,
    /// UTC offset of the zone the agency works in, for times the log writes without one
    /// (`2026-03-01 22:15:00`), in UTC (`…Z`) or as Unix time, e.g. `+06:00`; UTC if not given
    /// (a time without an offset keeps the hours written; a time in UTC or Unix time keeps its
    /// instant and takes this zone's hours of day).
    #[arg(long, value_parser = parse_offset, allow_hyphen_values = true)]
    pub assume_offset: Option<i32>,
    /// Which comes first in dates written with numbers only (`03/01/2026`); without it, the
    /// first row whose day is above 12 shows it (rows before it wait), and where none does,
    /// dates are read day-first and a note says so.
    #[arg(long, value_enum)]
    pub date_order: Option<DateOrderArg>,
    /// The header (or JSON key) that holds a column, where no rule finds it: `time=Zeit`,
    /// `officer=কর্মকর্তা`; repeat for each (columns: time, date, officer, unit, action,
    /// subject, case, outcome, records).
    #[arg(long = "column", value_name = "COLUMN=HEADER", value_parser = parse_column)]
    pub columns: Vec<(String, String)>,
    /// Only parse the log (a baseline for benchmarks).
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Rows sorted in memory at a time when the log is not in time order (the rest wait in
    /// sorted runs in the temporary directory).
    #[arg(long, hide = true, default_value_t = 1 << 19, value_parser = clap::value_parser!(u64).range(1..))]
    pub sort_run_rows: u64,
}

/// `COLUMN=HEADER` of `--column`.
fn parse_column(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, h)) if !c.trim().is_empty() && !h.trim().is_empty() => {
            Ok((c.trim().to_ascii_lowercase(), h.trim().to_string()))
        }
        _ => Err(format!("expected COLUMN=HEADER (as `time=Zeit`), got `{s}`")),
    }
}

/// Which comes first in a numeric date.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DateOrderArg {
    /// `30/03/2026`.
    DayFirst,
    /// `03/30/2026`.
    MonthFirst,
}

/// A UTC offset as `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH` or `Z`/`UTC`, in seconds east of UTC.
pub fn parse_offset(s: &str) -> Result<i32, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    custos_detect::time::parse_log_time(&format!("2000-01-01T00:00:00{t}"), 0)
        .filter(|(_, naive)| !naive)
        .map(|(stamp, _)| stamp.offset)
        .ok_or_else(|| format!("bad UTC offset `{s}`: expected e.g. +06:00, -05:30 or Z"))
}

fn open(p: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(p).with_context(|| format!("cannot open `{}`", p.display()))
}

/// A file's bytes as text: gzip and UTF-16 with a byte-order mark decoded as they stream
/// ([`custos_detect::input::decoded`]).
pub(crate) fn text(p: &Path, r: impl std::io::Read + Send + 'static) -> anyhow::Result<Input> {
    custos_detect::input::decoded(r).with_context(|| format!("cannot read `{}`", p.display()))
}

pub(crate) fn open_text(p: &Path) -> anyhow::Result<Input> {
    text(p, open(p)?)
}

/// How far a row may go back in time behind the latest one read before the log counts as not
/// in time order (the engine counts a late row in its officer's current day).
const OUT_OF_ORDER_S: i64 = 3600;

fn engine_with_lists(a: &AnalyzeArgs) -> anyhow::Result<Engine> {
    let mut engine = Engine::new(Config::default());
    if let Some(c) = &a.cases {
        let links = read_cases(open_text(c)?)
            .map_err(|e| anyhow::anyhow!("{}:{}: {}", c.display(), e.line, e.message))?;
        engine.load_cases(&side_file(a, c, links)?);
    }
    if let Some(w) = &a.watch {
        let list = read_watch(open_text(w)?)
            .map_err(|e| anyhow::anyhow!("{}:{}: {}", w.display(), e.line, e.message))?;
        engine.load_watch(&side_file(a, w, list)?);
    }
    Ok(engine)
}

/// What a case-link or watch-list file says, its skipped rows reported by line (as the log's
/// are), or with `--strict` the first of them as the error.
fn side_file<T>(a: &AnalyzeArgs, path: &Path, read: SideFile<T>) -> anyhow::Result<T> {
    if let Some(e) = read.skipped.first().filter(|_| a.strict) {
        bail!("{}:{}: {}", path.display(), e.line, e.message);
    }
    for e in read.skipped.iter().take(20) {
        eprintln!("{}:{}: skipped: {}", path.display(), e.line, e.message);
    }
    if read.skipped.len() > 20 {
        eprintln!("{}: {} more rows skipped", path.display(), read.skipped.len() - 20);
    }
    Ok(read.value)
}

/// The log as it is read. A file can be opened again from its start; a stream (a pipe, a
/// terminal) cannot, so the bytes of a stream are copied to a temporary file as they are read:
/// if the log turns out not to be in time order, it is read again from that copy and then the
/// rest of the stream.
type Input = Box<dyn std::io::Read + Send>;

/// Bytes read from a stream, also written to its copy.
struct Spool {
    stream: std::fs::File,
    copy: std::fs::File,
}

impl std::io::Read for Spool {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        std::io::Write::write_all(&mut self.copy, &buf[..n])?;
        Ok(n)
    }
}

/// A stream's copy so far and the stream itself (its unread rest), for a second reading.
struct Spooled {
    copy: std::fs::File,
    stream: std::fs::File,
}

fn first_input(a: &AnalyzeArgs) -> anyhow::Result<(Input, Option<Spooled>)> {
    let f = open(&a.log)?;
    if f.metadata().is_ok_and(|m| m.is_file()) {
        return Ok((text(&a.log, f)?, None));
    }
    let copy = tempfile::tempfile().context("cannot make a temporary file to hold the log's stream")?;
    let again = Spooled { copy: copy.try_clone()?, stream: f.try_clone()? };
    Ok((text(&a.log, Spool { stream: f, copy })?, Some(again)))
}

fn second_input(a: &AnalyzeArgs, spooled: Option<Spooled>) -> anyhow::Result<Input> {
    use std::io::{Read, Seek};
    Ok(match spooled {
        None => open_text(&a.log)?,
        Some(Spooled { mut copy, stream }) => {
            copy.rewind().context("cannot read back the copy of the log's stream")?;
            text(&a.log, copy.chain(stream))?
        }
    })
}

fn log_reader(a: &AnalyzeArgs, input: Input) -> anyhow::Result<LogReader<Input>> {
    let columns: Vec<(&str, &str)> = a.columns.iter().map(|(c, h)| (c.as_str(), h.as_str())).collect();
    Ok(LogReader::with_columns(input, &columns)
        .map_err(|e| match e.line {
            // Not a line of the file: the columns named on the command line.
            0 => anyhow::anyhow!("--column: {}", e.message),
            line => anyhow::anyhow!("{}:{line}: {}", a.log.display(), e.message),
        })?
        .assume_offset(a.assume_offset.unwrap_or(0))
        .date_order(match a.date_order {
            None => DateOrder::Unknown,
            Some(DateOrderArg::DayFirst) => DateOrder::DayFirst,
            Some(DateOrderArg::MonthFirst) => DateOrder::MonthFirst,
        }))
}

pub fn analyze(a: AnalyzeArgs) -> anyhow::Result<()> {
    let mut engine = engine_with_lists(&a)?;
    let (input, spooled) = first_input(&a)?;
    let mut reader = log_reader(&a, input)?;
    if !reader.guessed_columns().is_empty() {
        eprintln!(
            "{}: columns read by a word of their header: {}",
            a.log.display(),
            reader.guessed_columns().join(", ")
        );
    }
    // Parsing runs on its own thread, handing rows over in batches, so reading the CSV and the
    // detectors overlap; the bounded channel keeps memory independent of the file's size.
    // Batches come back to the parser once read and their events are refilled in place, so
    // rows cost no allocation on one thread and no free on the other.
    const BATCH: usize = 4096;
    type Batch = Vec<Result<Event, custos_detect::input::RowError>>;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Batch, usize)>(8);
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Batch>(16);
    let parser = std::thread::spawn(move || loop {
        let mut batch = back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let mut n = 0;
        let mut done = false;
        while n < BATCH {
            if n == batch.len() {
                batch.push(Ok(Event::default()));
            }
            // A slot that held a bad row starts afresh; a good one is refilled in place.
            let mut ev = std::mem::replace(&mut batch[n], Ok(Event::default())).unwrap_or_default();
            match reader.read_event(&mut ev) {
                None => {
                    batch[n] = Ok(ev);
                    done = true;
                    break;
                }
                Some(Ok(())) => batch[n] = Ok(ev),
                Some(Err(e)) => batch[n] = Err(e),
            }
            n += 1;
        }
        if (n > 0 && tx.send((batch, n)).is_err()) || done {
            return (reader.naive_rows(), reader.date_order_assumed());
        }
    });
    let (mut rows, mut bad) = (0u64, 0u64);
    let mut latest = i64::MIN;
    // The first row that went back in time beyond the tolerance, and the latest before it.
    let mut disorder: Option<(u64, i64, i64)> = None;
    let skip_bad = |e: &custos_detect::input::RowError, bad: &mut u64| -> anyhow::Result<()> {
        if a.strict {
            bail!("{}:{}: {}", a.log.display(), e.line, e.message);
        }
        *bad += 1;
        if *bad <= 20 {
            eprintln!("{}:{}: skipped: {}", a.log.display(), e.line, e.message);
        }
        Ok(())
    };
    'read: for (batch, n) in rx.iter() {
        for row in &batch[..n] {
            match row {
                Ok(r) if a.parse_only => {
                    rows += u64::from(!r.officer.is_empty());
                }
                Ok(ev) if ev.time < latest.saturating_sub(OUT_OF_ORDER_S) => {
                    disorder = Some((rows + bad + 1, ev.time, latest));
                    break 'read;
                }
                Ok(ev) => {
                    latest = latest.max(ev.time);
                    engine.push(ev);
                    rows += 1;
                }
                Err(e) => skip_bad(e, &mut bad)?,
            }
        }
        let _ = back_tx.try_send(batch);
    }
    // (On a break the parser finds the channel closed and stops.)
    drop(rx);
    let Ok((mut naive, mut assumed)) = parser.join() else {
        bail!("{}: the parser thread failed", a.log.display());
    };
    // A log that is not in time order (sorted by officer, say) would be read as every officer's
    // late rows in one day: it is read whole, sorted by time (in runs on disk where it is
    // larger than a run, so memory stays bounded), and analysed again.
    if let Some((row, t, before)) = disorder {
        eprintln!(
            "{}: not in time order (data row {row} is at {}, after one at {}): reading it whole and sorting it by time first",
            a.log.display(),
            custos_detect::time::format_utc(t),
            custos_detect::time::format_utc(before)
        );
        engine = engine_with_lists(&a)?;
        let mut reader = log_reader(&a, second_input(&a, spooled)?)?;
        let (mut sorter, mut again) =
            (crate::sort::RunSorter::new(usize::try_from(a.sort_run_rows).unwrap_or(usize::MAX)), 0u64);
        loop {
            let mut ev = Event::default();
            match reader.read_event(&mut ev) {
                None => break,
                Some(Ok(())) => sorter.push(ev)?,
                // Bad rows before the point of disorder were reported already.
                Some(Err(e)) => {
                    again += 1;
                    if again > bad {
                        skip_bad(&e, &mut bad)?;
                    }
                }
            }
        }
        if sorter.spilled() {
            eprintln!(
                "{}: sorting in runs of {} rows in the temporary directory ({})",
                a.log.display(),
                a.sort_run_rows,
                std::env::temp_dir().display()
            );
        }
        rows = sorter.finish(|ev| engine.push(ev))?;
        naive = reader.naive_rows();
        assumed = reader.date_order_assumed();
    }
    if naive > 0 && a.assume_offset.is_none() {
        eprintln!(
            "{}: {naive} rows give their time without a UTC offset, in UTC (`Z`) or as Unix time: their hours of day are read as UTC; give --assume-offset +HH:MM for the zone the agency works in",
            a.log.display()
        );
    }
    if assumed {
        eprintln!(
            "{}: dates such as 03/01/2026 were read day first, as no row's day was above 12 to show the order; give --date-order month-first if they are month first",
            a.log.display()
        );
    }
    if bad > 20 {
        eprintln!("{}: {bad} bad rows skipped in all", a.log.display());
    }
    if a.parse_only {
        println!("parsed {rows} rows ({bad} bad)");
        return Ok(());
    }
    let mut report = engine.report();
    // The engine holds millions of small allocations; the process is about to exit, so let
    // the operating system take them back at once instead of freeing them one by one.
    std::mem::forget(engine);
    let seen = report.officers.len();
    let accesses: u64 = report.officers.iter().map(|o| o.accesses).sum();
    let explained: f64 = report.officers.iter().map(|o| o.explained_share * o.accesses as f64).sum();
    if let Some(k) = a.top {
        report.officers.truncate(k);
    }
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Text => {
            // (A sum of no floats is -0.0: with no accesses there is no share to give.)
            let share = match accesses {
                0 => "none to explain".to_string(),
                n => format!("{:.1}% explained by a case", 100.0 * explained / n as f64),
            };
            writeln!(
                out,
                "{rows} accesses by {seen} officers ({bad} bad rows skipped); {share}; {} alerts",
                report.alerts.len()
            )?;
            print_text(&mut out, &report)?
        }
    }
    Ok(())
}

fn print_text(out: &mut impl std::io::Write, r: &Report) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n{:>4}  {:<14} {:<12} {:>8}  {:<20}  reasons",
        "rank", "officer", "unit", "score", "first flagged"
    )?;
    for (i, o) in r.officers.iter().enumerate() {
        if o.score <= 0.0 && i >= 10 {
            break;
        }
        writeln!(
            out,
            "{:>4}  {:<14} {:<12} {:>8.1}  {:<20}  {}",
            i + 1,
            o.officer,
            o.unit,
            o.score,
            o.first_flagged.as_deref().unwrap_or("-"),
            o.reasons.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(", ")
        )?;
        for x in o.reasons.iter().take(3) {
            writeln!(out, "{:>52}  · {}", "", x.detail)?;
        }
    }
    let high: Vec<_> = r.alerts.iter().filter(|a| a.severity >= custos_detect::Severity::High).collect();
    writeln!(out, "\nalerts of severity high or above: {}", high.len())?;
    for a in high.iter().take(30) {
        writeln!(
            out,
            "  {} {:<14} {:<9} {:<22} {}",
            a.time,
            a.officer,
            format!("{:?}", a.severity).to_lowercase(),
            a.detector,
            a.detail
        )?;
    }
    Ok(())
}

/// Size of a simulated agency (shared by `eval` and `sim`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct SimSize {
    /// Officers per agency (1 to 100,000).
    #[arg(long, default_value_t = 240, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub officers: usize,
    /// Days simulated (1 to 3,650).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3_650))]
    pub days: u32,
    /// Citizens (1 to 10,000,000).
    #[arg(long, default_value_t = 50_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub citizens: usize,
}

pub fn eval(seeds: u64, size: SimSize) -> anyhow::Result<()> {
    let SimSize { officers, days, citizens } = size;
    let mut qs = Vec::new();
    for seed in 1..=seeds {
        let q = custos_sim::eval::evaluate(custos_sim::Params { seed, citizens, officers, days });
        println!(
            "seed {seed}: AUC {:.3}  recall@2k {:.2}  precision@k {:.2}  false alerts/1000 officer-days {:.2} (high+ {:.2})  explained {:.1}%",
            q.auc,
            q.recall_at_budget,
            q.precision_at_k,
            q.false_alerts_per_1000,
            q.false_high_per_1000,
            100.0 * q.explained_share
        );
        for s in &q.scenarios {
            println!(
                "    {:<18} {:<10} rank {:>3}  first high alert {}",
                s.scenario,
                s.officer,
                s.rank,
                s.hours_to_flag.map_or("never".to_string(), |h| format!("{h:+.0} h after onset"))
            );
        }
        qs.push(q);
    }
    let n = qs.len().max(1) as f64;
    let mean = |f: &dyn Fn(&custos_sim::eval::Quality) -> f64| qs.iter().map(f).sum::<f64>() / n;
    println!(
        "\nmean over {} seeds: AUC {:.3}, recall@2k {:.2}, precision@k {:.2}, false alerts/1000 officer-days {:.2} (high+ {:.2}), explained {:.1}%",
        qs.len(),
        mean(&|q| q.auc),
        mean(&|q| q.recall_at_budget),
        mean(&|q| q.precision_at_k),
        mean(&|q| q.false_alerts_per_1000),
        mean(&|q| q.false_high_per_1000),
        100.0 * mean(&|q| q.explained_share)
    );
    let mut per: std::collections::BTreeMap<String, (usize, usize, Vec<f64>)> = Default::default();
    for q in &qs {
        for s in &q.scenarios {
            let e = per.entry(s.scenario.clone()).or_default();
            e.0 += 1;
            if s.rank <= 2 * q.insiders {
                e.1 += 1;
            }
            if let Some(h) = s.hours_to_flag {
                e.2.push(h);
            }
        }
    }
    println!("\n{:<20} {:>9} {:>12} {:>22}", "scenario", "insiders", "in top 2k", "median h to high alert");
    for (name, (n, top, mut hs)) in per {
        hs.sort_by(f64::total_cmp);
        let med = if hs.is_empty() { "never".into() } else { format!("{:.0}", hs[hs.len() / 2]) };
        println!("{name:<20} {n:>9} {top:>12} {med:>22}");
    }
    Ok(())
}

pub fn sim(out: &Path, seed: u64, size: SimSize) -> anyhow::Result<()> {
    let SimSize { officers, days, citizens } = size;
    std::fs::create_dir_all(out)?;
    let w = custos_sim::simulate(custos_sim::Params { seed, citizens, officers, days });
    std::fs::write(out.join("access_log.csv"), w.log_csv())?;
    std::fs::write(out.join("cases.csv"), w.cases_csv())?;
    std::fs::write(out.join("watch.csv"), w.watch_csv())?;
    let truth: String =
        std::iter::once("officer,scenario,onset\n".to_string())
            .chain(w.insiders.iter().map(|i| {
                format!("{},{},{}\n", i.officer, i.scenario, custos_detect::time::format_utc(i.onset))
            }))
            .collect();
    std::fs::write(out.join("truth.csv"), truth)?;
    // The sellers' channel: every record they pulled to sell, posted a day later.
    let mut posts: Vec<(String, i64)> = w.leaked.iter().map(|l| (l.subject.clone(), l.time)).collect();
    posts.sort();
    posts.dedup_by(|a, b| a.0 == b.0);
    std::fs::write(out.join("telegram.json"), custos_sim::telegram_export("Data Bazar", &posts, seed))?;
    println!(
        "wrote {} accesses by {} officers over {days} days to {} (access_log.csv, cases.csv, watch.csv, truth.csv, telegram.json)",
        w.events.len(),
        w.officers.len(),
        out.display()
    );
    Ok(())
}
