//! `custos admin …` and `custos import …`: administration and bulk import from the command
//! line. Both go through the gateway's code and are audited like requests over HTTP.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use custos_gateway::service::Ctx;
use custos_store::import::{Kind, Record, Rows};
use custos_store::{Cdr, Citizen, Officer};
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
                client: None,
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
        ImportCmd::Citizens { file } => (file, Kind::Citizens),
        ImportCmd::Cdrs { file } => (file, Kind::Cdrs),
    };
    let f = std::fs::File::open(file).with_context(|| format!("cannot open `{}`", file.display()))?;
    let bar = progress(f.metadata()?.len());
    let mut rows =
        Rows::new(kind, bar.wrap_read(f)).map_err(|e| anyhow::anyhow!("{}:1: {e}", file.display()))?;
    let (mut ok, mut bad) = (0u64, 0u64);
    let skip = |bad: &mut u64, line: u64, why: &str| {
        *bad += 1;
        if *bad <= 50 {
            bar.suspend(|| eprintln!("{}:{line}: skipped: {why}", file.display()));
        }
    };
    // Good rows wait in a batch, their lines beside them, so a row the store refuses is named.
    let (mut citizens, mut lines): (Vec<Citizen>, Vec<u64>) = (Vec::new(), Vec::new());
    let mut cdrs: Vec<Cdr> = Vec::new();
    let flush = |citizens: &mut Vec<Citizen>,
                 lines: &mut Vec<u64>,
                 cdrs: &mut Vec<Cdr>,
                 bad: &mut u64|
     -> anyhow::Result<u64> {
        let n = (citizens.len() + cdrs.len()) as u64;
        if !citizens.is_empty() {
            match gw.registry().add_citizens(citizens) {
                Ok(_) => {}
                // A duplicate NID (in the batch or already stored): one by one, naming each.
                Err(custos_store::StoreError::Conflict(_)) => {
                    let mut n_ok = 0;
                    for (line, c) in lines.iter().zip(citizens.iter()) {
                        match gw.registry().add_citizens(std::slice::from_ref(c)) {
                            Ok(_) => n_ok += 1,
                            Err(custos_store::StoreError::Conflict(_)) => skip(
                                bad,
                                *line,
                                &format!("a citizen with NID `{}` is already in the store", c.nid),
                            ),
                            Err(e) => return Err(e.into()),
                        }
                    }
                    citizens.clear();
                    lines.clear();
                    return Ok(n_ok);
                }
                Err(e) => return Err(e.into()),
            }
            citizens.clear();
            lines.clear();
        }
        if !cdrs.is_empty() {
            gw.registry().add_cdrs(cdrs)?;
            cdrs.clear();
        }
        Ok(n)
    };
    while let Some(row) = rows.next() {
        match row {
            Ok(Record::Citizen(c)) => {
                citizens.push(c);
                lines.push(rows.line());
            }
            Ok(Record::Cdr(c)) => cdrs.push(c),
            Err(row) => skip(&mut bad, row.line, &row.why),
        }
        if citizens.len() + cdrs.len() >= 5000 {
            ok += flush(&mut citizens, &mut lines, &mut cdrs, &mut bad)?;
        }
    }
    ok += flush(&mut citizens, &mut lines, &mut cdrs, &mut bad)?;
    bar.finish_and_clear();
    if bad > 50 {
        eprintln!("{}: {} more bad rows not shown", file.display(), bad - 50);
    }
    let p = crate::stack::cli_admin();
    let ctx = Ctx {
        req: custos_gateway::service::new_id("r-"),
        action: format!("import_{}", kind.name()),
        ..Ctx::default()
    };
    let entry =
        gw.entry(&p, &ctx, "allow", vec![format!("imported:{ok}"), format!("skipped:{bad}")], vec![], 200);
    gw.log().append(entry.to_bytes())?;
    println!("imported {ok} {} from {} ({bad} bad rows skipped)", kind.name(), file.display());
    Ok(())
}
