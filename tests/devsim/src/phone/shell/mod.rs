//! The phone's shell: a small mksh, as far as adb users and the agent use it.
//!
//! - [`lexer`], [`dollar`]: quoting, escapes and expansions into tokens;
//! - [`parse`], [`compound`]: lists, `&&`/`||`, pipelines, subshells, simple commands,
//!   `if`/`for`/`while`/`until`/`case`/`{ }`;
//! - [`expand`], [`param`], [`arith`], [`glob`]: words into fields (variables, `${…}`
//!   operators, `$(…)`, `$((…))`, globbing) and redirections;
//! - [`run`], [`simple`], [`control`], [`builtins`]: execution, simple commands (faults
//!   and latency), compound commands and the loop budget, builtins;
//! - [`exec`]: `sh`, scripts and pushed programs (foreground and background).
//!
//! Output is kept as ordered chunks tagged with their descriptor, so redirections such
//! as `2>&1` and `>/dev/null` route exactly, and the transport can rebuild the merged
//! stream a `shell:` (v1) session shows.

pub mod arith;
pub mod builtins;
pub mod compound;
pub mod control;
pub mod dollar;
pub mod exec;
pub mod expand;
pub mod glob;
pub mod lexer;
pub mod param;
pub mod parse;
pub mod run;
pub mod simple;

use std::io::Read;

use super::{Phone, ShellOutcome};

/// What a command wrote, in order: `(fd, bytes)` with fd 1 (stdout) or 2 (stderr).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub chunks: Vec<(u32, Vec<u8>)>,
}

impl Output {
    /// Appends to stdout.
    pub fn out(&mut self, text: impl AsRef<[u8]>) {
        self.push(1, text.as_ref());
    }

    /// Appends to stderr.
    pub fn err(&mut self, text: impl AsRef<[u8]>) {
        self.push(2, text.as_ref());
    }

    /// Appends to a descriptor, merging with the previous chunk of the same one.
    pub fn push(&mut self, fd: u32, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.chunks.last_mut() {
            Some((last, buf)) if *last == fd => buf.extend_from_slice(bytes),
            _ => self.chunks.push((fd, bytes.to_vec())),
        }
    }

    /// Appends all chunks of another output.
    pub fn extend(&mut self, other: Output) {
        for (fd, bytes) in other.chunks {
            self.push(fd, &bytes);
        }
    }

    /// Everything written to `fd`.
    pub fn bytes_of(&self, fd: u32) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(f, _)| *f == fd)
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// Both streams in the order they were written.
    pub fn merged(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }
}

/// Runs one command line as the `shell` user.
pub fn run_line(phone: &Phone, line: &str, stdin: &mut dyn Read) -> ShellOutcome {
    let boots = phone.shell_reboots();
    let mut shell = run::Shell::new(phone);
    let out = shell.run_text(line, stdin);
    let rebooted = phone.shell_reboots() != boots;
    ShellOutcome {
        stdout: out.bytes_of(1),
        stderr: out.bytes_of(2),
        merged: out.merged(),
        exit: shell.status(),
        disconnect: shell.disconnected() || rebooted,
        rebooted,
    }
}
