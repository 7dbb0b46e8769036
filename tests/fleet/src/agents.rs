//! The agents: one `corral-agent` per phone, next to it (`--adb 127.0.0.1:PORT`), each
//! with its own state directory — enrolled once with `corral-agent enroll`, then run with
//! `corral-agent run` as a process that can be stopped with SIGTERM or killed with
//! SIGKILL and started again on the same state.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::binaries::Binary;
use crate::process::Process;

/// One phone's agent.
#[derive(Debug)]
pub struct Agent {
    pub serial: String,
    pub state_dir: PathBuf,
    pub device_id: String,
    adb_key: PathBuf,
    log: PathBuf,
    process: Option<Process>,
    starts: usize,
}

impl Agent {
    /// `corral-agent enroll --controller ADDR --ca-fingerprint FP --token TOKEN --adb SERIAL`
    /// into `state_dir`; the device id is read from what it prints.
    pub fn enroll(
        serial: &str,
        state_dir: &Path,
        adb_key: &Path,
        enrollment: std::net::SocketAddr,
        ca_fingerprint: &str,
        token: &str,
    ) -> Agent {
        let log = state_dir.with_extension("log");
        let out = Command::new(Binary::Agent.path())
            .args(["enroll", "--controller", &enrollment.to_string()])
            .args(["--ca-fingerprint", ca_fingerprint, "--token", token])
            .args(["--adb", serial, "--adb-key"])
            .arg(adb_key)
            .arg("--state-dir")
            .arg(state_dir)
            .output()
            .unwrap_or_else(|e| panic!("corral-agent enroll: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "corral-agent enroll for {serial} failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let device_id = stdout
            .strip_prefix("enrolled as device ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("unexpected enroll output {stdout:?}"))
            .to_owned();
        Agent {
            serial: serial.to_owned(),
            state_dir: state_dir.to_owned(),
            device_id,
            adb_key: adb_key.to_owned(),
            log,
            process: None,
            starts: 0,
        }
    }

    /// `corral-agent run --adb SERIAL --state-dir DIR`, logging to `<state dir>.log`.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "agent {} already runs", self.serial);
        let mut cmd = Command::new(Binary::Agent.path());
        cmd.args(["run", "--adb", &self.serial, "--adb-key"])
            .arg(&self.adb_key)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env("RUST_LOG", "info,corral_agent=debug");
        self.starts += 1;
        let name = format!("corral-agent {} (start {})", self.serial, self.starts);
        self.process = Some(Process::start(&name, cmd, &self.log));
    }

    /// SIGKILL: the agent dies between any two instructions.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// SIGTERM, and the agent must exit by itself, successfully.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            let status = p.terminate(Duration::from_secs(30));
            assert!(status.success(), "{} exited with {status}", p.name());
        }
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The agent's `applied.json` (applied version, last push acted on, pending result).
    pub fn applied(&self) -> serde_json::Value {
        std::fs::read_to_string(self.state_dir.join("applied.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// What the agent's outbox holds: reports written and not yet acknowledged.
    pub fn outbox(&self) -> corral_agent::outbox::Peek {
        corral_agent::outbox::Outbox::peek(&self.state_dir.join("outbox"))
            .unwrap_or_else(|e| panic!("agent {}: {e}", self.serial))
    }
}
