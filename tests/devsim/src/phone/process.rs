//! Programs pushed to the phone and started from its shell, run as host child
//! processes, and the phone's process table (`ps -A`, `pidof`, `kill`, reboot).
//!
//! A pushed file is executed through `FileSystem::host_path`; its `sh` (and `pm`,
//! `cmd`, …) resolve through a shim directory at the front of `PATH` that routes back
//! into this phone (see `phone::route`). Simulated pids are the phone's own numbers;
//! the host pid is kept only to signal the child. Children are reaped whenever the
//! table is looked at. The table lives in memory: after a simulator restart the phone
//! has no running programs, as after a reboot.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::Phone;
use super::fs::AndroidPath;
use super::shell::Output;
use super::shell::expand::{Redirections, Target};

/// What the shell asks to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The program's normalised Android path.
    pub android_path: String,
    /// `argv` as the shell built it (`argv[0]` as typed).
    pub argv: Vec<String>,
    /// `NAME=value` prefixes of the command.
    pub env: Vec<(String, String)>,
    /// The shell's working directory.
    pub cwd: String,
}

/// One process in `ps -A`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    pub argv: Vec<String>,
    pub host_pid: u32,
    pub background: bool,
}

#[derive(Debug)]
struct Proc {
    argv: Vec<String>,
    child: Child,
    background: bool,
}

/// Why `kill` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KillError {
    #[error("No such process")]
    NoSuchProcess,
    #[error("Operation not permitted")]
    NotPermitted,
}

#[derive(Debug)]
struct Table {
    next_pid: u32,
    procs: BTreeMap<u32, Proc>,
    /// Exit codes of foreground children reaped by someone else (reboot, kill).
    finished: BTreeMap<u32, u8>,
}

/// The phone's running programs.
#[derive(Debug)]
pub struct ProcessTable {
    inner: Mutex<Table>,
}

impl Default for ProcessTable {
    fn default() -> Self {
        ProcessTable {
            inner: Mutex::new(Table {
                next_pid: 12_000,
                procs: BTreeMap::new(),
                finished: BTreeMap::new(),
            }),
        }
    }
}

/// The shell's parent (adbd) for `ps` purposes.
pub const ADBD_PID: u32 = 842;

fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => (code & 0xff) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        _ => 255,
    }
}

impl ProcessTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new pid (for shells and programs).
    pub fn allocate_pid(&self) -> u32 {
        let mut t = self.lock();
        t.next_pid = if t.next_pid >= 32_000 {
            12_000
        } else {
            t.next_pid + 1
        };
        t.next_pid
    }

    fn insert(&self, argv: Vec<String>, child: Child, background: bool) -> u32 {
        let pid = self.allocate_pid();
        self.lock().procs.insert(
            pid,
            Proc {
                argv,
                child,
                background,
            },
        );
        pid
    }

    /// Drops children that have exited.
    pub fn reap(&self) {
        let mut t = self.lock();
        let done: Vec<(u32, u8)> = t
            .procs
            .iter_mut()
            .filter_map(|(pid, p)| match p.child.try_wait() {
                Ok(Some(st)) => Some((*pid, exit_code(st))),
                Ok(None) => None,
                Err(_) => Some((*pid, 255)),
            })
            .collect();
        for (pid, code) in done {
            if t.procs.remove(&pid).is_some_and(|p| !p.background) {
                t.finished.insert(pid, code);
            }
        }
    }

    /// Running programs after reaping.
    pub fn list(&self) -> Vec<ProcInfo> {
        self.reap();
        self.lock()
            .procs
            .iter()
            .map(|(pid, p)| ProcInfo {
                pid: *pid,
                ppid: if p.background { 1 } else { ADBD_PID },
                argv: p.argv.clone(),
                host_pid: p.child.id(),
                background: p.background,
            })
            .collect()
    }

    /// Sends `signal` to a program started from the shell.
    pub fn kill(&self, pid: u32, signal: i32) -> Result<(), KillError> {
        self.reap();
        let mut t = self.lock();
        let Some(p) = t.procs.get_mut(&pid) else {
            return Err(KillError::NoSuchProcess);
        };
        if signal == 0 {
            return Ok(());
        }
        let host = p.child.id().to_string();
        let sent = signal != 9
            && Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(&host)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !sent {
            let _ = p.child.kill();
        }
        Ok(())
    }

    /// Kills and reaps everything (reboot).
    pub fn kill_all(&self) {
        let mut t = self.lock();
        let procs = std::mem::take(&mut t.procs);
        for (pid, mut p) in procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
            if !p.background {
                t.finished.insert(pid, 137);
            }
        }
    }

    /// The exit code of a foreground child once it has ended.
    fn poll(&self, pid: u32) -> Option<u8> {
        self.reap();
        let mut t = self.lock();
        if let Some(code) = t.finished.remove(&pid) {
            return Some(code);
        }
        (!t.procs.contains_key(&pid)).then_some(137)
    }
}

/// Spawns, retrying while the kernel reports `ETXTBSY`: a file just pushed by another
/// thread can still be open for writing in a child forked concurrently (until that child
/// execs), which makes `execve` of the pushed program fail for a moment.
fn spawn_retrying(cmd: &mut Command) -> io::Result<Child> {
    const ETXTBSY: i32 = 26;
    let mut attempts = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

impl Phone {
    fn host_command(&self, launch: &Launch) -> io::Result<Command> {
        let path = AndroidPath::parse(&launch.android_path)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut cmd = Command::new(self.fs().host_path(&path));
        cmd.arg0(launch.argv.first().cloned().unwrap_or_default());
        cmd.args(launch.argv.iter().skip(1));
        let cwd = AndroidPath::parse(&launch.cwd)
            .map(|p| self.fs().host_path(&p))
            .ok()
            .filter(|p| p.is_dir())
            .unwrap_or_else(|| self.fs().root().to_path_buf());
        cmd.current_dir(cwd);
        for (k, v) in self.shim_env()? {
            cmd.env(k, v);
        }
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    /// Starts a program in the background (`&`, `nohup … &`); its output goes where
    /// the redirections say, otherwise nowhere (the adb stream is gone by then).
    pub fn spawn_background(&self, launch: &Launch, r: &Redirections) -> io::Result<u32> {
        let mut cmd = self.host_command(launch)?;
        cmd.stdin(Stdio::null());
        cmd.stdout(self.stdio_for(r, 1)?);
        cmd.stderr(self.stdio_for(r, 2)?);
        let child = spawn_retrying(&mut cmd)?;
        Ok(self.processes().insert(launch.argv.clone(), child, true))
    }

    fn stdio_for(&self, r: &Redirections, fd: u32) -> io::Result<Stdio> {
        let mut target = r.target(fd);
        // `2>&1` on a background job follows stdout.
        if target == Target::Fd(1) && fd == 2 {
            target = r.target(1);
        }
        Ok(match target {
            Target::File(i) => {
                let file = r
                    .files
                    .get(i)
                    .ok_or_else(|| io::Error::other("bad redirection"))?;
                let path =
                    AndroidPath::parse(&file.path).map_err(|e| io::Error::other(e.to_string()))?;
                let host: PathBuf = self.fs().host_path(&path);
                Stdio::from(OpenOptions::new().append(true).create(true).open(host)?)
            }
            _ => Stdio::null(),
        })
    }

    /// Runs a program in the foreground and returns its output and exit code.
    pub fn run_foreground(&self, launch: &Launch) -> io::Result<(Output, u8)> {
        let mut cmd = self.host_command(launch)?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn_retrying(&mut cmd)?;
        let reader = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                buf
            })
        };
        let out_thread = reader(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err_thread = reader(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let pid = self.processes().insert(launch.argv.clone(), child, false);
        let code = loop {
            if let Some(code) = self.processes().poll(pid) {
                break code;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out = Output::default();
        out.out(out_thread.join().unwrap_or_default());
        out.err(err_thread.join().unwrap_or_default());
        Ok((out, code))
    }
}
