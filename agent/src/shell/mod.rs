//! The Android shell the agent drives: a trait with two implementations — the phone's own
//! `sh` ([`LocalShell`], the agent running on the phone) and ADB to a phone ([`AdbShell`],
//! `--adb 127.0.0.1:PORT`, for tests and for a phone on a cable) — and the async facade
//! ([`PhoneShell`]) that runs them off the runtime with a deadline.
//!
//! **Output contract:** both implementations return the script's stdout and stderr
//! *merged* in write order plus its exit status. ADB's `shell:` v1 service (the only one
//! on adb_client's direct path) merges the streams anyway and loses the exit status, so the
//! script is wrapped as `( SCRIPT\n) 2>&1` and followed by an exit marker (see [`marker`]).
//! The local shell gets the same wrapping so parsers see the same text either way, and an
//! Android tool that reports an error on stderr with exit 0 (`content`, `am start-user`)
//! shows up in the text the checks read.
//!
//! Must never: retry a script (callers decide; a retried `content insert` may duplicate),
//! or interpret what a command printed.

mod adb;
mod local;
pub mod marker;

use std::time::Duration;

pub use adb::AdbShell;
pub use local::LocalShell;

/// What one script produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellOutput {
    /// stdout and stderr merged, as written.
    pub output: String,
    /// The script's exit status (`$?` of its last command).
    pub exit: u8,
}

/// Why a script could not be run to completion. The phone's state is unknown after any of
/// these except [`ShellError::Unreachable`]: observe again before acting.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// No connection to the phone (ADB connect or handshake failed). Nothing ran.
    #[error("cannot reach the phone at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    /// The connection broke while the script ran.
    #[error("the shell connection to {target} broke: {reason}")]
    Broken { target: String, reason: String },
    /// The output ended without the exit marker: the script was cut short.
    #[error("the shell output has no exit status (the script was cut short)")]
    NoExitStatus,
    /// `sh` could not be started.
    #[error("cannot start sh: {0}")]
    Spawn(std::io::Error),
    /// The script did not finish in time.
    #[error("the script did not finish within {0:?}")]
    Timeout(Duration),
}

/// An Android shell: runs a script with `sh` and returns its merged output and exit
/// status. Blocking; [`PhoneShell`] runs it on the blocking pool.
pub trait AndroidShell: Send {
    /// Runs `script` to completion.
    fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError>;

    /// What this shell talks to, for logs (`local sh`, `adb 127.0.0.1:5555`).
    fn target(&self) -> String;
}

/// Makes a fresh shell, e.g. after one was abandoned mid-script.
pub type ShellMaker = std::sync::Arc<dyn Fn() -> Box<dyn AndroidShell> + Send + Sync>;

/// The async face of a shell: one script at a time, on the blocking pool, with a deadline.
/// A shell that misses its deadline is abandoned (its thread finishes or dies with the
/// connection) and the next script gets a fresh one.
pub struct PhoneShell {
    shell: Option<Box<dyn AndroidShell>>,
    make: ShellMaker,
    timeout: Duration,
    round_trips: u64,
}

impl std::fmt::Debug for PhoneShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneShell")
            .field("timeout", &self.timeout)
            .field("round_trips", &self.round_trips)
            .finish_non_exhaustive()
    }
}

/// How long one script may run by default: 25 contacts take 100 `content` runs of ~350 ms
/// on a phone, and `am start-user -w` waits for the user to unlock.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

impl PhoneShell {
    /// A facade over shells made by `make`.
    pub fn new(make: ShellMaker, timeout: Duration) -> Self {
        PhoneShell {
            shell: None,
            make,
            timeout,
            round_trips: 0,
        }
    }

    /// Forgets the current connection: the next script connects afresh (after a reboot
    /// request the old connection is about to be dropped by the phone).
    pub fn reset(&mut self) {
        self.shell = None;
    }

    /// How many scripts were run (successfully or not).
    pub fn round_trips(&self) -> u64 {
        self.round_trips
    }

    /// Runs one script.
    pub async fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError> {
        self.round_trips += 1;
        let mut shell = match self.shell.take() {
            Some(s) => s,
            None => (self.make)(),
        };
        let script = script.to_owned();
        let task = tokio::task::spawn_blocking(move || {
            let result = shell.run(&script);
            (shell, result)
        });
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok((shell, result))) => {
                self.shell = Some(shell);
                result
            }
            Ok(Err(join)) => Err(ShellError::Broken {
                target: "shell thread".into(),
                reason: join.to_string(),
            }),
            Err(_) => Err(ShellError::Timeout(self.timeout)),
        }
    }
}
