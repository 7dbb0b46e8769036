//! One child process of the fleet: started with its stderr (and, unless the caller reads
//! it, stdout) in a log file, signalled by name (SIGKILL, SIGTERM, SIGSTOP, SIGCONT), and
//! killed when dropped so a failing test leaves nothing running.
//! Must never: signal a process it did not start.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running child process and its log.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
    /// Stdout lines, when the caller asked to read them.
    lines: Option<mpsc::Receiver<String>>,
}

impl Process {
    /// Starts `cmd` with stdin closed and stdout and stderr appended to `log`.
    pub fn start(name: &str, mut cmd: Command, log: &Path) -> Process {
        let out = open_log(log);
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        Process::spawn(name, cmd, log, None)
    }

    /// Starts `cmd` with stderr appended to `log` and stdout readable line by line with
    /// [`Process::line`] (each line is also appended to `<log>.stdout`).
    pub fn start_reading_stdout(name: &str, mut cmd: Command, log: &Path) -> Process {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(open_log(log));
        let (tx, rx) = mpsc::channel();
        let mut process = Process::spawn(name, cmd, log, Some(rx));
        let stdout = process.child.stdout.take();
        let mut copy = open_log(&log.with_extension("stdout"));
        std::thread::spawn(move || {
            use std::io::Write;
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(copy, "{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        process
    }

    fn spawn(
        name: &str,
        mut cmd: Command,
        log: &Path,
        lines: Option<mpsc::Receiver<String>>,
    ) -> Process {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Process {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            lines,
        }
    }

    /// The next stdout line, or a panic naming the process, the wait and its log.
    pub fn line(&mut self, timeout: Duration) -> String {
        let Some(lines) = &self.lines else {
            panic!("{}: stdout is not being read", self.name);
        };
        match lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(_) => {
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "{} printed no line within {timeout:?} (exit status: {status:?}); its log {}:\n{}",
                    self.name,
                    self.log.display(),
                    tail(&self.log, 40)
                );
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Sends `signal` (`KILL`, `TERM`, `STOP`, `CONT`, …) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap_or_else(|e| panic!("kill -{signal} {}: {e}", self.name));
        assert!(status.success(), "kill -{signal} {} failed", self.name);
    }

    /// SIGKILL: no clean-up, no flush — a crash or a pulled plug. Waits for the exit.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and waits up to `timeout` for the process to exit on its own.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        self.signal("TERM");
        self.wait(timeout)
    }

    /// Waits for the exit, panicking with the log after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not exit within {timeout:?}; its log {}:\n{}",
                    self.name,
                    self.log.display(),
                    tail(&self.log, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and up to `timeout` for the exit, never panicking (for `Drop`s): whether
    /// it exited. A process that does not is killed when this one is dropped.
    pub fn stop_gently(&mut self, timeout: Duration) -> bool {
        if !self.is_running() {
            return true;
        }
        // A stopped (SIGSTOP) process handles SIGTERM only once it runs again.
        for signal in ["-CONT", "-TERM"] {
            let _ = Command::new("kill")
                .arg(signal)
                .arg(self.pid().to_string())
                .status();
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn open_log(path: &Path) -> File {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The last `n` lines of a log file (for failure messages).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
