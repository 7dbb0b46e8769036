//! The controller as an operator runs it: `corral serve --data-dir DIR` as a process, the
//! one-shot commands (`corral admin token`, `corral token create`), and the SQLite file
//! opened beside it through `corral_controller::store::Store` to check what was recorded.
//!
//! The first start binds port 0 for the console, the gateway and the enrollment listener
//! and reads the bound addresses from the banner; a restart binds the same ones, because
//! enrolled agents keep the gateway address in their `config.toml`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use corral_controller::store::{Store, StoreOptions};

use crate::binaries::Binary;
use crate::http::Api;
use crate::process::Process;

/// Where a controller listens.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    pub console: std::net::SocketAddr,
    pub gateway: std::net::SocketAddr,
    pub enrollment: std::net::SocketAddr,
}

/// What `corral serve` printed before it listened.
#[derive(Debug, Clone)]
pub struct Banner {
    pub addresses: Addresses,
    pub ca_fingerprint: String,
    /// The first admin's password (first start only).
    pub admin_password: Option<String>,
}

/// A running `corral serve`.
#[derive(Debug)]
pub struct Controller {
    process: Process,
    pub banner: Banner,
}

/// `corral` with none of the caller's `CORRAL_…` settings.
pub fn corral() -> Command {
    let mut cmd = Command::new(Binary::Corral.path());
    for (key, _) in std::env::vars() {
        if key.starts_with("CORRAL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

impl Controller {
    /// Starts `corral serve` on `data_dir`, on `at` (a restart) or on free ports (the first
    /// start), and waits for the banner.
    pub fn start(data_dir: &Path, log: &Path, at: Option<Addresses>) -> Controller {
        let listen = |a: Option<std::net::SocketAddr>| {
            a.map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string())
        };
        let mut cmd = corral();
        cmd.env("CORRAL_GATEWAY_LISTEN", listen(at.map(|a| a.gateway)))
            .env("CORRAL_ENROLLMENT_LISTEN", listen(at.map(|a| a.enrollment)))
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(["--listen", &listen(at.map(|a| a.console))]);
        let mut process = Process::start_reading_stdout("corral serve", cmd, log);
        let (mut console, mut gateway, mut enrollment) = (None, None, None);
        let (mut ca_fingerprint, mut admin_password) = (None, None);
        while console.is_none() {
            let line = process.line(Duration::from_secs(60));
            let addr = |rest: &str| rest.trim().parse().ok();
            if let Some(rest) = line.strip_prefix("corral: console and API on http://") {
                console = addr(rest);
            } else if let Some(rest) = line.strip_prefix("corral: agent gateway on ") {
                gateway = addr(rest);
            } else if let Some(rest) = line.strip_prefix("corral: enrollment on ") {
                enrollment = addr(rest);
            } else if let Some(rest) = line.strip_prefix("corral: CA fingerprint (agents pin it): ")
            {
                ca_fingerprint = Some(rest.trim().to_owned());
            } else if let Some(rest) = line.trim().strip_prefix("password: ") {
                admin_password = Some(rest.to_owned());
            }
        }
        let missing = |what: &str| format!("corral serve printed no {what} line");
        let banner = Banner {
            addresses: Addresses {
                console: console.unwrap_or_else(|| panic!("{}", missing("console"))),
                gateway: gateway.unwrap_or_else(|| panic!("{}", missing("gateway"))),
                enrollment: enrollment.unwrap_or_else(|| panic!("{}", missing("enrollment"))),
            },
            ca_fingerprint: ca_fingerprint
                .unwrap_or_else(|| panic!("{}", missing("CA fingerprint"))),
            admin_password,
        };
        Controller { process, banner }
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}

/// Runs a one-shot `corral ARGS… --data-dir DIR` and returns its stdout, trimmed.
pub fn one_shot(data_dir: &Path, args: &[&str]) -> String {
    let out = corral()
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap_or_else(|e| panic!("corral {args:?}: {e}"));
    assert!(
        out.status.success(),
        "corral {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The REST API of the controller at `addr`, with a new admin token from the CLI.
pub fn api(data_dir: &Path, addr: std::net::SocketAddr) -> Api {
    Api {
        addr,
        token: one_shot(data_dir, &["admin", "token"]),
    }
}

/// The controller's SQLite database, opened next to the running controller (WAL: both may
/// read and write; the tests only read).
pub fn open_store(runtime: &tokio::runtime::Runtime, data_dir: &Path) -> Store {
    let path: PathBuf = data_dir.join("corral.db");
    runtime
        .block_on(Store::open_sqlite(&path, &StoreOptions::default()))
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}
