//! An external key service (a KMS or an HSM) as the key-encryption key, through a command.
//!
//! Agencies keep their master keys in a KMS or an HSM and reach it through their own tool (a
//! cloud CLI, a Vault transit call, a PKCS#11 script). [`CommandKek`] runs such a command, so
//! the key-encryption key never sits in the data directory:
//! - `COMMAND wrap NAME`: standard input is the data key `NAME` (32 bytes) in base64 and a
//!   newline; standard output is the wrapped key in base64.
//! - `COMMAND unwrap NAME`: standard input is the wrapped key in base64; standard output is the
//!   data key in base64.
//!
//! A non-zero exit, output that is not base64 (or an unwrapped key that is not 32 bytes), or no
//! answer within the timeout is an error naming the command, the operation and the key, with the
//! first line the command wrote to standard error. The command is run once per data key when
//! the store is opened (four times), never on the request path.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::crypto::KeyWrapper;
use crate::StoreError;

/// The key-encryption key held by an external service, reached through a command.
#[derive(Debug, Clone)]
pub struct CommandKek {
    program: PathBuf,
    timeout: Duration,
}

impl CommandKek {
    /// Run `program` (an executable path) to wrap and unwrap, waiting at most 30 s for each.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), timeout: Duration::from_secs(30) }
    }

    /// The same, waiting at most `timeout` for each answer.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command.
    pub fn program(&self) -> &Path {
        &self.program
    }

    fn run(&self, op: &str, name: &str, input: &[u8]) -> Result<Vec<u8>, StoreError> {
        let what = format!("key command `{}` {op} {name}", self.program.display());
        let fail = |why: String| StoreError::Crypto(format!("{what}: {why}"));
        let mut child = Command::new(&self.program)
            .args([op, name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot start it: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input is judged by its exit status.
            let _ = stdin.write_all(format!("{}\n", B64.encode(input)).as_bytes());
        }
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < self.timeout => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!("no answer within {} s", self.timeout.as_secs_f64())));
                }
                Err(e) => return Err(fail(e.to_string())),
            }
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut o) = child.stdout.take() {
            o.read_to_string(&mut out).map_err(|e| fail(format!("unreadable output: {e}")))?;
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        if !status.success() {
            let said = err.lines().next().unwrap_or("").chars().take(200).collect::<String>();
            return Err(fail(format!("{status}: {said}")));
        }
        B64.decode(out.trim()).map_err(|e| fail(format!("its output is not base64: {e}")))
    }
}

impl KeyWrapper for CommandKek {
    fn wrap(&self, name: &str, key: &[u8; 32]) -> Result<Vec<u8>, StoreError> {
        let wrapped = self.run("wrap", name, key)?;
        if wrapped.is_empty() {
            return Err(StoreError::Crypto(format!(
                "key command `{}` wrap {name}: it answered nothing",
                self.program.display()
            )));
        }
        Ok(wrapped)
    }

    fn unwrap_key(&self, name: &str, wrapped: &[u8]) -> Result<[u8; 32], StoreError> {
        self.run("unwrap", name, wrapped)?.try_into().map_err(|_| {
            StoreError::Crypto(format!(
                "key command `{}` unwrap {name}: the key it gave back is not 32 bytes",
                self.program.display()
            ))
        })
    }
}
