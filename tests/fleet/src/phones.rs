//! The phones: `corral-devsim` as a process serving N simulated phones, and a private
//! Debian `adb` server (own port, own `HOME`, so its own `~/.android/adbkey`) that looks at
//! them the way a technician would: `adb -s SERIAL shell …`.
//! Must never: change a phone — checks only read (`pm list users`, `content query`, …),
//! except [`Phones::shell`] calls a test makes on purpose (a contact added by hand).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use corral_devsim::host::AdbServer;

use crate::binaries::Binary;
use crate::process::Process;

/// `corral-devsim --latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// No delays: the fastest tests.
    None,
    /// A real phone on USB 2.0: applying a profile takes seconds, long enough to crash
    /// something in the middle of it.
    Real,
}

/// A running `corral-devsim` and the adb server that looks at its phones.
#[derive(Debug)]
pub struct Phones {
    process: Process,
    serials: Vec<String>,
    adb: AdbServer,
}

impl Phones {
    /// Starts `n` phones (state in `dir/devsim`) and an adb server connected to each.
    pub fn start(dir: &Path, n: usize, latency: Latency) -> Phones {
        let mut cmd = Command::new(Binary::Devsim.path());
        cmd.args(["--phones", &n.to_string(), "--base-port", "0", "--latency"])
            .arg(match latency {
                Latency::None => "none",
                Latency::Real => "real",
            })
            .arg("--state-dir")
            .arg(dir.join("devsim"));
        let mut process =
            Process::start_reading_stdout("corral-devsim", cmd, &dir.join("devsim.log"));
        let serials = (0..n)
            .map(|_| {
                let line = process.line(Duration::from_secs(60));
                line.strip_prefix("phone ")
                    .and_then(|rest| rest.split(' ').next())
                    .unwrap_or_else(|| panic!("unexpected corral-devsim line {line:?}"))
                    .to_owned()
            })
            .collect::<Vec<_>>();
        let adb = AdbServer::start_in(&dir.join("adb-home"));
        for serial in &serials {
            adb.connect(serial);
        }
        Phones {
            process,
            serials,
            adb,
        }
    }

    pub fn serials(&self) -> &[String] {
        &self.serials
    }

    /// The key the agents use for ADB (the adb server's own).
    pub fn adb_key(&self) -> PathBuf {
        self.adb.key_path()
    }

    /// `adb -s SERIAL shell SCRIPT` on phone `i`, which must succeed: its stdout.
    pub fn shell(&self, i: usize, script: &str) -> String {
        self.adb.adb_ok(&["-s", &self.serials[i], "shell", script])
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// The private adb server looking at the phones (a station's `--adb-server`).
    pub fn adb(&self) -> &AdbServer {
        &self.adb
    }
}

impl Drop for Phones {
    /// SIGTERM first: the simulator then stops the programs running on its phones (a
    /// provisioned `corral-agent`), which a SIGKILL would leave running on the host.
    fn drop(&mut self) {
        self.process.stop_gently(Duration::from_secs(10));
    }
}
