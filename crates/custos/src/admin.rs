//! `custos admin …` and `custos import …`: administration and bulk import from the command
//! line. Both go through the gateway's code and are audited like requests over HTTP.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use custos_gateway::service::Ctx;
use custos_store::{normalize_msisdn, normalize_nid, Cdr, Citizen, Officer};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create or update an officer.
    Officer {
        /// Officer ID (the account name in the log), 1 to 64 characters.
        #[arg(long)]
        id: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Unit (cases belong to units; a warrant's issuer must be of another).
        #[arg(long)]
        unit: String,
        /// Rank, free text.
        #[arg(long, default_value = "")]
        rank: String,
        /// Comma-separated: investigator, analyst, desk, supervisor, reviewer, auditor, admin.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// `active` or `suspended`.
        #[arg(long, default_value = "active")]
        status: String,
    },
    /// Issue an API token for an officer (printed once).
    Token {
        /// The officer's ID.
        #[arg(long)]
        officer: String,
        /// Days until it expires (1 to 3650).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// Revoke a token by its ID.
    RevokeToken {
        /// The token's ID (as `custos admin token` printed it, not the token).
        id: String,
    },
    /// Create or update a case.
    Case {
        /// Case ID.
        #[arg(long)]
        id: String,
        /// The unit that owns it.
        #[arg(long)]
        unit: String,
        /// Comma-separated IDs of the officers assigned to it.
        #[arg(long, value_delimiter = ',')]
        officers: Vec<String>,
        /// Linked subjects: NIDs or mobile numbers (stored as blind indexes only).
        #[arg(long, value_delimiter = ',')]
        subjects: Vec<String>,
        /// Covert: citizens see its accesses only once it closes or a reviewer releases them.
        #[arg(long)]
        covert: bool,
    },
    /// Close a case.
    CloseCase {
        /// Case ID.
        id: String,
    },
    /// Issue a warrant, as the reviewer named by --issuer.
    Warrant {
        /// Warrant ID.
        #[arg(long)]
        id: String,
        /// The case it authorises.
        #[arg(long)]
        case: String,
        /// The issuing reviewer's officer ID (a reviewer, not of the case's unit).
        #[arg(long)]
        issuer: String,
        /// Comma-separated NIDs or mobile numbers it covers.
        #[arg(long, value_delimiter = ',')]
        subjects: Vec<String>,
        /// Comma-separated data categories: identity, cdr, location.
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Start of the period whose data it covers (RFC 3339 or Unix seconds).
        #[arg(long)]
        data_from: String,
        /// End of the period whose data it covers (RFC 3339 or Unix seconds).
        #[arg(long)]
        data_to: String,
        /// When it takes effect (RFC 3339 or Unix seconds).
        #[arg(long)]
        valid_from: String,
        /// When it lapses (RFC 3339 or Unix seconds).
        #[arg(long)]
        valid_to: String,
    },
    /// Revoke a warrant.
    RevokeWarrant {
        /// Warrant ID.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Citizens CSV: nid,name_bn,name_en,father,mother,dob,gender,division,district,upazila,address,msisdns (msisdns `;`-separated).
    Citizens { file: PathBuf },
    /// CDR CSV: caller,callee,start,duration,type,cell_id,imei.
    Cdrs { file: PathBuf },
}

pub fn admin(dir: &Path, cmd: AdminCmd) -> anyhow::Result<()> {
    let gw = crate::stack::open_gateway(dir)?;
    let mut p = crate::stack::cli_admin();
    let (what, id, body) = match cmd {
        AdminCmd::Officer { id, name, unit, rank, roles, status } => {
            ("officer", None, serde_json::to_value(Officer { id, name, unit, rank, roles, status })?)
        }
        AdminCmd::Token { officer, days } => {
            ("token", None, json!({ "officer": officer, "expires_in_days": days }))
        }
        AdminCmd::RevokeToken { id } => ("revoke_token", Some(id), json!({})),
        AdminCmd::Case { id, unit, officers, subjects, covert } => (
            "case",
            None,
            json!({ "id": id, "unit": unit, "officers": officers, "subjects": subjects, "open": true, "covert": covert }),
        ),
        AdminCmd::CloseCase { id } => ("close_case", Some(id), json!({})),
        AdminCmd::Warrant {
            id,
            case,
            issuer,
            subjects,
            categories,
            data_from,
            data_to,
            valid_from,
            valid_to,
        } => {
            let o = gw
                .registry()
                .store()
                .officers()?
                .into_iter()
                .find(|o| o.id == issuer)
                .with_context(|| format!("no officer `{issuer}`"))?;
            p = custos_server::auth::Principal {
                cred_id: "cli".into(),
                subject: o.id,
                admin: false,
                roles: o.roles,
                unit: o.unit,
            };
            (
                "warrant",
                None,
                json!({ "id": id, "case": case, "subjects": subjects, "categories": categories,
                        "data_from": data_from, "data_to": data_to, "valid_from": valid_from, "valid_to": valid_to }),
            )
        }
        AdminCmd::RevokeWarrant { id } => ("revoke_warrant", Some(id), json!({})),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut ctx = Ctx { req: custos_gateway::service::new_id("r-"), ..Ctx::default() };
    let res = rt.block_on(gw.admin(&p, &mut ctx, what, id.as_deref(), &body));
    match res {
        Ok(a) => {
            println!("{}", serde_json::to_string_pretty(&a.body)?);
            Ok(())
        }
        Err(e) => {
            let e = rt.block_on(gw.fail(&p, &ctx, e));
            bail!("{e} ({})", e.code())
        }
    }
}

fn progress(len: u64) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "importing {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

pub fn import(dir: &Path, cmd: ImportCmd) -> anyhow::Result<()> {
    let gw = crate::stack::open_gateway(dir)?;
    let (file, kind) = match &cmd {
        ImportCmd::Citizens { file } => (file.clone(), "citizens"),
        ImportCmd::Cdrs { file } => (file.clone(), "cdrs"),
    };
    let f = std::fs::File::open(&file).with_context(|| format!("cannot open `{}`", file.display()))?;
    let bar = progress(f.metadata()?.len());
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bar.wrap_read(f));
    let cols: Vec<String> = rdr
        .headers()
        .map_err(|e| anyhow::anyhow!("{}:1: bad CSV header: {e}", file.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let want: &[&str] = if kind == "citizens" {
        &[
            "nid", "name_bn", "name_en", "father", "mother", "dob", "gender", "division", "district",
            "upazila", "address", "msisdns",
        ]
    } else {
        &["caller", "callee", "start", "duration", "type", "cell_id", "imei"]
    };
    let idx: Vec<usize> = want
        .iter()
        .map(|w| {
            cols.iter()
                .position(|c| c == w)
                .ok_or_else(|| anyhow::anyhow!("{}:1: the header lacks `{w}`", file.display()))
        })
        .collect::<Result<_, _>>()?;
    let (mut ok, mut bad) = (0u64, 0u64);
    let mut citizens = Vec::new();
    let mut cdrs = Vec::new();
    let flush = |citizens: &mut Vec<Citizen>, cdrs: &mut Vec<Cdr>, bad: &mut u64| -> anyhow::Result<u64> {
        let n = (citizens.len() + cdrs.len()) as u64;
        if !citizens.is_empty() {
            match gw.registry().add_citizens(citizens) {
                Ok(_) => {}
                // A duplicate NID in the batch: fall back to one by one, reporting each.
                Err(custos_store::StoreError::Conflict(_)) => {
                    let mut n_ok = 0;
                    for c in citizens.iter() {
                        match gw.registry().add_citizens(std::slice::from_ref(c)) {
                            Ok(_) => n_ok += 1,
                            Err(e) => {
                                *bad += 1;
                                eprintln!("{}: skipped a citizen: {e}", file.display());
                            }
                        }
                    }
                    citizens.clear();
                    return Ok(n_ok);
                }
                Err(e) => return Err(e.into()),
            }
            citizens.clear();
        }
        if !cdrs.is_empty() {
            gw.registry().add_cdrs(cdrs)?;
            cdrs.clear();
        }
        Ok(n)
    };
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                bad += 1;
                eprintln!(
                    "{}:{}: skipped: bad CSV row: {e}",
                    file.display(),
                    e.position().map_or(0, |p| p.line())
                );
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let f = |i: usize| rec.get(idx[i]).unwrap_or_default().to_string();
        let row: Result<(), String> = if kind == "citizens" {
            (|| {
                let nid = normalize_nid(&f(0)).ok_or_else(|| format!("bad nid `{}`", f(0)))?;
                let dob = f(5);
                if !dob.is_empty() && !is_date(&dob) {
                    return Err(format!("bad date of birth `{dob}` (YYYY-MM-DD)"));
                }
                let gender = gender(&f(6)).ok_or_else(|| {
                    format!("bad gender `{}` (male, female, third_gender or other; m, f, hijra)", f(6))
                })?;
                if f(1).is_empty() && f(2).is_empty() {
                    return Err("no name: both `name_bn` and `name_en` are empty".to_string());
                }
                let msisdns = f(11)
                    .split([';', ' '])
                    .filter(|m| !m.is_empty())
                    .map(|m| normalize_msisdn(m).ok_or_else(|| format!("bad mobile number `{m}`")))
                    .collect::<Result<Vec<_>, _>>()?;
                citizens.push(Citizen {
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
                });
                Ok(())
            })()
        } else {
            (|| {
                let caller = normalize_msisdn(&f(0)).ok_or_else(|| format!("bad caller `{}`", f(0)))?;
                let callee = normalize_msisdn(&f(1)).ok_or_else(|| format!("bad callee `{}`", f(1)))?;
                let start = custos_gateway::service::parse_when(&f(2))
                    .ok_or_else(|| format!("bad start `{}`", f(2)))?;
                let duration = f(3).parse().map_err(|_| format!("bad duration `{}`", f(3)))?;
                let kind = f(4).to_ascii_lowercase();
                if !matches!(kind.as_str(), "voice" | "sms" | "data") {
                    return Err(format!("type must be voice, sms or data, not `{kind}`"));
                }
                cdrs.push(Cdr { caller, callee, start, duration, kind, cell_id: f(5), imei: f(6) });
                Ok(())
            })()
        };
        if let Err(why) = row {
            bad += 1;
            if bad <= 50 {
                bar.suspend(|| eprintln!("{}:{line}: skipped: {why}", file.display()));
            }
        }
        if citizens.len() + cdrs.len() >= 5000 {
            ok += flush(&mut citizens, &mut cdrs, &mut bad)?;
        }
    }
    ok += flush(&mut citizens, &mut cdrs, &mut bad)?;
    bar.finish_and_clear();
    let p = crate::stack::cli_admin();
    let ctx = Ctx {
        req: custos_gateway::service::new_id("r-"),
        action: format!("import_{kind}"),
        ..Ctx::default()
    };
    let entry =
        gw.entry(&p, &ctx, "allow", vec![format!("imported:{ok}"), format!("skipped:{bad}")], vec![], 200);
    gw.log().append(entry.to_bytes())?;
    println!("imported {ok} {kind} from {} ({bad} bad rows skipped)", file.display());
    Ok(())
}

/// Whether `s` is a calendar date written `YYYY-MM-DD` (from 1800 on).
fn is_date(s: &str) -> bool {
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
fn gender(s: &str) -> Option<&'static str> {
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
}
