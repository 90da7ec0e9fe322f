//! How the store reaches PostgreSQL: in clear, or over TLS that verifies the server.
//!
//! The connection string takes libpq's TLS options, which the `postgres` client does not know
//! (except `sslmode`), so they are read and taken out here before it parses the rest:
//! - `sslrootcert=FILE`: the certificate authorities (PEM) that signed the server's certificate.
//!   Given it, the connection is TLS or nothing, and the server must present a certificate that
//!   chains to one of them *and* names the host connected to (libpq's `verify-full`).
//! - `sslmode`: `disable`, `allow` and `prefer` (the default) connect in clear unless
//!   `sslrootcert` is given; `require`, `verify-ca` and `verify-full` need `sslrootcert` and
//!   always verify chain and host name. Encryption to a server nobody checked is no protection
//!   against the machine in the middle, so there is no `require` without verification, and
//!   `verify-ca` checks the name as well (stricter than libpq).
//! - `sslcert=FILE` and `sslkey=FILE`: a client certificate (PEM chain, leaf first) and its key,
//!   for servers that authenticate clients by certificate (`hostssl … cert`).
//!
//! All of this is pure string work and file reads; the connection itself is made by the caller.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::StoreError;

/// Where and how to connect: the client's configuration and, for TLS, the connector.
pub(crate) struct Target {
    /// The connection settings without the TLS options read here.
    pub config: postgres::Config,
    /// The TLS connector, when the connection must be TLS.
    pub tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// The TLS options taken out of a connection string.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    pub mode: Option<String>,
    pub root_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::Config(msg.into())
}

/// Read a connection string (`postgres://…` or key-value form) into the client's settings and
/// the TLS connector its options ask for.
pub(crate) fn target(conn: &str) -> Result<Target, StoreError> {
    let (rest, opts) = split_tls_options(conn)?;
    let mut config: postgres::Config =
        rest.parse().map_err(|e| bad(format!("the PostgreSQL connection string does not parse: {e}")))?;
    let tls = match opts.mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") if opts.root_cert.is_none() => {
            if opts.mode.as_deref() == Some("disable") && (opts.cert.is_some() || opts.key.is_some()) {
                return Err(bad("sslmode=disable with sslcert or sslkey: a client certificate needs TLS"));
            }
            if opts.cert.is_some() || opts.key.is_some() {
                return Err(bad(
                    "sslcert or sslkey without sslrootcert: give the certificate authority that signed the server's certificate (sslrootcert=FILE)",
                ));
            }
            config.ssl_mode(if opts.mode.as_deref() == Some("disable") {
                SslMode::Disable
            } else {
                SslMode::Prefer
            });
            None
        }
        Some("disable") => {
            return Err(bad("sslmode=disable with sslrootcert: say which one is meant"));
        }
        None | Some("allow" | "prefer" | "require" | "verify-ca" | "verify-full") => {
            let Some(roots) = &opts.root_cert else {
                return Err(bad(format!(
                    "sslmode={} needs sslrootcert=FILE, the certificate authority that signed the server's certificate: Custos does not send records over TLS to a server it cannot verify",
                    opts.mode.as_deref().unwrap_or_default()
                )));
            };
            let client = client_auth(&opts)?;
            config.ssl_mode(SslMode::Require);
            Some(tokio_postgres_rustls::MakeRustlsConnect::new(client_config(roots, client)?))
        }
        Some(other) => {
            return Err(bad(format!(
                "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )))
        }
    };
    Ok(Target { config, tls })
}

type ClientAuth = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_auth(opts: &TlsOptions) -> Result<Option<ClientAuth>, StoreError> {
    match (&opts.cert, &opts.key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let private = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| bad(format!("sslkey `{}`: no private key: {e}", key.display())))?;
            Ok(Some((chain, private)))
        }
        (Some(_), None) => Err(bad("sslcert without sslkey: give both or neither")),
        (None, Some(_)) => Err(bad("sslkey without sslcert: give both or neither")),
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    let file_err = |e: String| bad(format!("`{}`: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(file_err("holds no PEM certificate".into()));
    }
    Ok(certs)
}

fn client_config(roots_file: &Path, client: Option<ClientAuth>) -> Result<rustls::ClientConfig, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certs(roots_file)? {
        roots.add(cert).map_err(|e| {
            bad(format!("sslrootcert `{}`: not a usable certificate authority: {e}", roots_file.display()))
        })?;
    }
    let builder =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?
            .with_root_certificates(roots);
    match client {
        None => Ok(builder.with_no_client_auth()),
        Some((chain, key)) => {
            builder.with_client_auth_cert(chain, key).map_err(|e| bad(format!("sslcert and sslkey: {e}")))
        }
    }
}

/// Take libpq's TLS options out of a connection string; the rest, and the options.
pub(crate) fn split_tls_options(conn: &str) -> Result<(String, TlsOptions), StoreError> {
    let conn = conn.trim();
    let mut opts = TlsOptions::default();
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let Some((base, query)) = conn.split_once('?') else { return Ok((conn.to_string(), opts)) };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(k)?;
            if !take(&mut opts, &key, percent_decode(v)?)? {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        return Ok((rest, opts));
    }
    // Key-value form: `key = value` pairs separated by whitespace; a value is bare (backslash
    // escapes) or in single quotes (backslash escapes inside).
    let b = conn.as_bytes();
    let mut i = 0;
    let mut rest = String::new();
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &conn[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() || b[i] != b'=' {
            return Err(bad(format!(
                "the PostgreSQL connection string has `{key}` without `=value` at byte {start}"
            )));
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = Vec::new();
        if i < b.len() && b[i] == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(bad(format!(
                            "the PostgreSQL connection string has an unterminated quote in `{key}` at byte {start}"
                        )))
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        value.push(b[i + 1]);
                        i += 2;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                value.push(b[i]);
                i += 1;
            }
        }
        let value =
            String::from_utf8(value).map_err(|_| bad(format!("the value of `{key}` is not UTF-8")))?;
        if !take(&mut opts, key, value)? {
            if !rest.is_empty() {
                rest.push(' ');
            }
            rest.push_str(&conn[start..i]);
        }
    }
    Ok((rest, opts))
}

/// Record `key` if it is one of the TLS options read here; whether it was.
fn take(opts: &mut TlsOptions, key: &str, value: String) -> Result<bool, StoreError> {
    let slot = match key {
        "sslmode" => {
            // The client knows disable, prefer and require; the rest are read here.
            opts.mode = Some(value);
            return Ok(true);
        }
        "sslrootcert" if value == "system" => {
            return Err(bad(
                "sslrootcert=system (the operating system's trust store) is not supported: give the file of the certificate authority that signed the server's certificate",
            ));
        }
        "sslrootcert" => &mut opts.root_cert,
        "sslcert" => &mut opts.cert,
        "sslkey" => &mut opts.key,
        _ => return Ok(false),
    };
    if value.is_empty() {
        return Err(bad(format!("{key} is empty: give a file")));
    }
    *slot = Some(PathBuf::from(value));
    Ok(true)
}

fn percent_decode(s: &str) -> Result<String, StoreError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(v) = hex else {
                return Err(bad(format!("bad percent-escape in `{s}` at byte {i}")));
            };
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(format!("`{s}` does not decode to UTF-8")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn split(s: &str) -> (String, TlsOptions) {
        split_tls_options(s).unwrap()
    }

    #[test]
    fn url_form_options_are_taken_out_and_the_rest_kept() {
        let (rest, o) =
            split("postgres://u@db.example:5432/test?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(rest, "postgres://u@db.example:5432/test?application_name=x");
        assert_eq!(o.mode.as_deref(), Some("verify-full"));
        assert_eq!(o.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        let (rest, o) = split("postgresql://u@h/db?sslrootcert=/ca.pem");
        assert_eq!(rest, "postgresql://u@h/db");
        assert_eq!(o.root_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(split("postgres://u@h/db").0, "postgres://u@h/db");
    }

    #[test]
    fn key_value_form_handles_quotes_escapes_and_spaces_around_equals() {
        let (rest, o) = split(
            "host=127.0.0.1 sslrootcert = '/my certs/ca.pem' port=5432 sslcert=/c\\ d.pem sslkey='it\\'s.key' dbname=test",
        );
        assert_eq!(rest, "host=127.0.0.1 port=5432 dbname=test");
        assert_eq!(o.root_cert, Some(PathBuf::from("/my certs/ca.pem")));
        assert_eq!(o.cert, Some(PathBuf::from("/c d.pem")));
        assert_eq!(o.key, Some(PathBuf::from("it's.key")));
        let (rest, _) = split("host=h password='a b' user=u");
        assert_eq!(rest, "host=h password='a b' user=u");
    }

    #[test]
    fn malformed_strings_are_refused_with_where() {
        for (s, want) in [
            ("host=h sslrootcert='/ca.pem", "unterminated quote"),
            ("host=h dbname", "without `=value`"),
            ("postgres://h/db?sslrootcert=%zz", "percent-escape"),
            ("host=h sslrootcert=", "empty"),
            ("host=h sslrootcert=system", "trust store"),
        ] {
            let e = split_tls_options(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    proptest::proptest! {
        /// Any string: an answer, never a panic; and a key-value string without TLS options
        /// comes back as it was, up to spacing.
        #[test]
        fn any_connection_string_splits_without_panicking(s in "\\PC{0,80}") {
            let _ = split_tls_options(&s);
        }

        #[test]
        fn other_options_pass_through(pairs in proptest::collection::vec(("[a-z_]{1,12}", "[a-zA-Z0-9./:@-]{0,16}"), 0..6)) {
            let pairs: Vec<_> = pairs.into_iter().filter(|(k, _)| !k.starts_with("ssl")).collect();
            let text = pairs.iter().map(|(k, v)| format!("{k}='{v}'")).collect::<Vec<_>>().join(" ");
            let (rest, opts) = split_tls_options(&format!("{text} sslrootcert=/ca.pem")).unwrap();
            proptest::prop_assert_eq!(rest, text);
            proptest::prop_assert_eq!(opts.root_cert, Some(PathBuf::from("/ca.pem")));
        }
    }

    #[test]
    fn no_unverified_tls_and_no_contradictions() {
        let e = |s: &str| target(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e("host=h sslmode=require").contains("needs sslrootcert"));
        assert!(e("host=h sslmode=verify-full").contains("needs sslrootcert"));
        assert!(e("host=h sslmode=disable sslrootcert=/x").contains("say which"));
        assert!(e("host=h sslmode=bogus").contains("not one of"));
        assert!(e("host=h sslcert=/c").contains("without sslrootcert"));
        assert!(e("host=h sslmode=require sslrootcert=/nonexistent/ca.pem").contains("/nonexistent/ca.pem"));
        // Plain stays plain; the default is unchanged.
        let t = target("host=h dbname=test").unwrap();
        assert!(t.tls.is_none());
        assert!(target("host=h sslmode=disable").unwrap().tls.is_none());
    }
}
