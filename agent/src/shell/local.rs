//! The phone's own shell: `sh -c` with `sh` found on `PATH` (on a phone `/system/bin`; in
//! the device simulator, a shim that routes into the simulated phone).
//!
//! The script is wrapped like the ADB one ([`super::marker`]) so both shells print the
//! same text, but the exit status comes from the process itself. A script that misses
//! [`super::PhoneShell`]'s deadline is abandoned, not killed: `sh` and what it started run
//! to their end (Android's tools do end; nothing the agent runs waits for input).

use std::io::Read;
use std::process::{Command, Stdio};

use super::{AndroidShell, ShellError, ShellOutput};

/// Runs scripts with the local `sh`.
#[derive(Debug, Default, Clone)]
pub struct LocalShell {
    program: Option<String>,
    env: Vec<(String, String)>,
}

impl LocalShell {
    /// `sh` from `PATH`.
    pub fn new() -> Self {
        LocalShell::default()
    }

    /// Another shell binary (tests).
    pub fn with_program(program: impl Into<String>) -> Self {
        LocalShell {
            program: Some(program.into()),
            env: Vec::new(),
        }
    }

    /// Extra environment for `sh` (e.g. a `PATH` whose `sh` is a simulated phone's).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.env = env;
        self
    }
}

impl AndroidShell for LocalShell {
    fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError> {
        let program = self.program.as_deref().unwrap_or("sh");
        // Same wrapping as over ADB (merged streams, subshell); the exit status comes from
        // the process, so no marker is needed.
        let wrapped = format!("( {script}\n) 2>&1");
        let mut child = Command::new(program)
            .arg("-c")
            .arg(&wrapped)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(ShellError::Spawn)?;
        let mut out = Vec::new();
        if let Some(mut stdout) = child.stdout.take() {
            stdout
                .read_to_end(&mut out)
                .map_err(|e| ShellError::Broken {
                    target: self.target(),
                    reason: e.to_string(),
                })?;
        }
        let status = child.wait().map_err(|e| ShellError::Broken {
            target: self.target(),
            reason: e.to_string(),
        })?;
        // A shell killed by a signal has no code: report the generic failure status.
        let exit = status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(255);
        Ok(ShellOutput {
            output: String::from_utf8_lossy(&out).into_owned(),
            exit,
        })
    }

    fn target(&self) -> String {
        format!("local {}", self.program.as_deref().unwrap_or("sh"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn merges_streams_and_keeps_the_status() {
        let out = LocalShell::new()
            .run("echo out; echo err >&2; exit 3")
            .unwrap();
        assert_eq!(out.output, "out\nerr\n");
        assert_eq!(out.exit, 3);
    }
}
