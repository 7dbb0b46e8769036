//! The phones: `corral-devsim` as a process serving N simulated phones, and a private
//! Debian `adb` server (own port, own `HOME`, so its own `~/.android/adbkey`) that looks at
//! them the way a technician would: `adb -s SERIAL shell …`.
//! Must never: change a phone — checks only read (`pm list users`, `content query`, …),
//! except [`Phones::shell`] calls a test makes on purpose (a contact added by hand).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

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
        let mut process = Process::start_reading_stdout("corral-devsim", cmd, &dir.join("devsim.log"));
        let serials = (0..n)
            .map(|_| {
                let line = process.line(Duration::from_secs(60));
                line.strip_prefix("phone ")
                    .and_then(|rest| rest.split(' ').next())
                    .unwrap_or_else(|| panic!("unexpected corral-devsim line {line:?}"))
                    .to_owned()
            })
            .collect::<Vec<_>>();
        let adb = AdbServer::start(&dir.join("adb-home"));
        for serial in &serials {
            let out = adb.run(&["connect", serial]);
            assert_eq!(out, format!("connected to {serial}\n"), "adb connect {serial}");
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

    /// `adb -s SERIAL shell SCRIPT` on phone `i`: what it printed, stdout then stderr
    /// (adb 29 speaks shell v2, which keeps the two apart).
    pub fn shell(&self, i: usize, script: &str) -> String {
        self.adb.run(&["-s", &self.serials[i], "shell", script])
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}

/// A private `adb` server, killed when dropped.
#[derive(Debug)]
pub struct AdbServer {
    port: u16,
    home: PathBuf,
}

impl AdbServer {
    /// Starts it on a free port; a port taken meanwhile by another test's server is
    /// retried on a new one.
    pub fn start(home: &Path) -> AdbServer {
        std::fs::create_dir_all(home).unwrap_or_else(|e| panic!("{}: {e}", home.display()));
        let mut last = String::new();
        for _ in 0..5 {
            let server = AdbServer {
                port: free_port(),
                home: home.to_owned(),
            };
            let out = server.command(&["start-server"]).output();
            match out {
                Ok(out) if out.status.success() => return server,
                Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => last = format!("cannot run adb: {e} (apt-get install adb)"),
            }
        }
        panic!("adb start-server failed five times; last: {last}");
    }

    fn key_path(&self) -> PathBuf {
        self.home.join(".android/adbkey")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("adb");
        cmd.arg("-P").arg(self.port.to_string()).args(args);
        cmd.env("HOME", &self.home);
        for var in [
            "ANDROID_SERIAL",
            "ANDROID_ADB_SERVER_PORT",
            "ADB_VENDOR_KEYS",
            "ANDROID_SDK_HOME",
            "ANDROID_USER_HOME",
        ] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs `adb ARGS…`, which must succeed; returns stdout followed by stderr.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("adb {args:?}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "adb {args:?} failed ({}): {text}", out.status);
        text
    }
}

impl Drop for AdbServer {
    fn drop(&mut self) {
        let _ = self
            .command(&["kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}
