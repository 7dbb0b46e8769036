//! The controller under test: the real `corral serve` binary as a child process, so what
//! `/proc/<pid>` shows (memory, CPU time) is the controller's alone.
//!
//! Owns: starting it on loopback ports chosen by the kernel, reading the gateway's address
//! from its banner, signalling it (SIGUSR1: look at the outbox now; SIGTERM: stop) and
//! reading its resource use.
//! Must never: leave the child running (it is killed when the handle drops).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A running `corral serve`.
pub struct Server {
    child: Child,
    pub gateway: SocketAddr,
    /// The console and REST API.
    pub api: SocketAddr,
}

/// Memory and CPU of a process, from `/proc/<pid>/status` and `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Usage {
    /// Resident set now, and its high-water mark, in KiB.
    pub rss_kib: u64,
    pub hwm_kib: u64,
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
    pub threads: u64,
}

/// Reads the usage of process `pid` (`"self"` for this one).
pub fn usage(pid: &str) -> Result<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) end with ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after ')'; clock ticks
    // of 1/100 s (USER_HZ on Linux).
    let ticks = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    Ok(Usage {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        cpu_secs: (ticks(11) + ticks(12)) as f64 / 100.0,
        threads: field("Threads:"),
    })
}

impl Server {
    /// Starts `corral serve` on `data_dir`; its log goes to `<data-dir>/loadgen/serve.log`.
    pub fn start(corral: &Path, data_dir: &Path, database_url: Option<&str>) -> Result<Server> {
        let log = std::fs::File::create(data_dir.join("loadgen").join("serve.log"))?;
        let mut cmd = Command::new(corral);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("CORRAL_GATEWAY_LISTEN", "127.0.0.1:0")
            .env("CORRAL_ENROLLMENT_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", corral.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut gateway = None;
        let mut api = None;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(addr) = line.strip_prefix("corral: agent gateway on ") {
                gateway = Some(addr.trim().parse()?);
            }
            if let Some(url) = line.strip_prefix("corral: console and API on ") {
                api = url.trim().trim_start_matches("http://").parse().ok();
                break;
            }
        }
        let mut server = Server {
            child,
            gateway: SocketAddr::from(([0, 0, 0, 0], 0)),
            api: api.context("corral serve did not report its API address")?,
        };
        match gateway {
            Some(addr) => server.gateway = addr,
            None => bail!(
                "corral serve did not report its gateway address; see {}/loadgen/serve.log",
                data_dir.display()
            ),
        }
        Ok(server)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn usage(&self) -> Result<Usage> {
        usage(&self.pid())
    }

    fn signal(&self, name: &str) -> Result<()> {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid()])
            .status()?;
        if !status.success() {
            bail!("kill -{name} {} failed", self.pid());
        }
        Ok(())
    }

    /// SIGTERM, then waits for a graceful exit (killed after 30 s).
    pub fn stop(mut self) -> Result<()> {
        self.signal("TERM")?;
        for _ in 0..300 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("corral serve did not stop within 30 s")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
