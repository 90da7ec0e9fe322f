//! Helpers shared by the binary's tests: run `custos`, insist on success, start a server,
//! reach PostgreSQL.

#![allow(dead_code, reason = "each test file uses a subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Run `custos --dir DIR ARGS…`.
pub fn custos(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("CUSTOS_DIR")
        .output()
        .unwrap()
}

/// Standard output of a command that must have succeeded.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A running `custos serve`, killed when dropped: a test that fails before it stops its
/// servers leaves none behind holding ports and database connections.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Start `custos serve` for DIR on a free port (standard error into `log` if given) and wait
/// until it answers; returns the process and its base URL.
pub fn serve(dir: &Path, log: Option<&Path>) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stderr = match log {
        Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
        None => Stdio::null(),
    };
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CUSTOS_LOG", "warn,custos::otp=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let up = (0..400).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        ureq::get(&format!("{base}/healthz")).call().is_ok()
    });
    assert!(up, "server did not start");
    (server, base)
}

/// The PostgreSQL the tests use.
pub fn pg_url() -> String {
    std::env::var("CUSTOS_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

/// A connection to it, or `None` with a notice when it is unreachable — a failure instead when
/// `CUSTOS_REQUIRE_POSTGRES=1` (CI).
pub fn pg() -> Option<postgres::Client> {
    match postgres::Client::connect(&pg_url(), postgres::NoTls) {
        Ok(c) => Some(c),
        Err(e) => {
            assert!(
                std::env::var("CUSTOS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL unreachable: {e}"
            );
            eprintln!("notice: PostgreSQL unreachable ({e}); skipped");
            None
        }
    }
}

/// Arguments of `custos admin warrant` for an identity warrant on one subject, covering data
/// from 2020 to 2030 and valid from 2020 to 2099.
pub fn identity_warrant<'a>(id: &'a str, case: &'a str, issuer: &'a str, subject: &'a str) -> Vec<&'a str> {
    vec![
        "admin",
        "warrant",
        "--id",
        id,
        "--case",
        case,
        "--issuer",
        issuer,
        "--subjects",
        subject,
        "--categories",
        "identity",
        "--data-from",
        "2020-01-01T00:00:00Z",
        "--data-to",
        "2030-01-01T00:00:00Z",
        "--valid-from",
        "2020-01-01T00:00:00Z",
        "--valid-to",
        "2099-01-01T00:00:00Z",
    ]
}

/// A schema name no other test run uses: `PREFIX_PID_NANOS`.
pub fn unique_schema(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// The test TLS material of `custos-server` (a throwaway CA and a `localhost` certificate).
pub fn test_tls_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../custos-server/tests/tls")
}

/// An HTTP agent that trusts the test CA (and nothing else).
pub fn test_tls_agent() -> ureq::Agent {
    let pem = std::fs::read_to_string(test_tls_dir().join("ca.pem")).unwrap();
    ureq::AgentBuilder::new().tls_config(custos_server::tls::client_trusting(&pem).unwrap()).build()
}
