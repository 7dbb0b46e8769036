//! The host side for tests: Debian's `adb` as a private server (its own port and `HOME`,
//! so its own `~/.android/adbkey`), killed when dropped — what the simulator's transport
//! tests and the fleet tests use to look at simulated phones the way a technician would.
//! Must never: touch the user's adb server (port 5037) or `~/.android`; failures panic
//! with adb's own words (this is test support, not part of the simulator).

use std::net::{SocketAddrV4, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// A private Debian `adb` server.
#[derive(Debug)]
pub struct AdbServer {
    pub port: u16,
    home: PathBuf,
    /// A temporary `HOME`, removed on drop (none when the caller chose the directory).
    _temp: Option<tempfile::TempDir>,
}

impl AdbServer {
    /// Starts a server with a fresh temporary `HOME`.
    pub fn start() -> AdbServer {
        let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary HOME: {e}"));
        let home = temp.path().to_owned();
        AdbServer::launch(home, Some(temp))
    }

    /// Starts a server whose `HOME` is `home` (created if missing; kept after the drop).
    pub fn start_in(home: &Path) -> AdbServer {
        std::fs::create_dir_all(home).unwrap_or_else(|e| panic!("{}: {e}", home.display()));
        AdbServer::launch(home.to_owned(), None)
    }

    /// Tests run in parallel, so a port picked by [`free_port`] can be taken by another
    /// test's server before this one binds it; a failed start retries on a new port.
    fn launch(home: PathBuf, temp: Option<tempfile::TempDir>) -> AdbServer {
        let mut server = AdbServer {
            port: 0,
            home,
            _temp: temp,
        };
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port();
            match server.command(&["start-server"]).output() {
                Ok(out) if out.status.success() => return server,
                Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => last = format!("cannot run adb: {e} (apt-get install adb)"),
            }
        }
        // Nothing to kill: no start succeeded.
        server.port = 0;
        panic!("adb start-server failed five times; last: {last}");
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The private key adb wrote (PKCS#8 PEM).
    pub fn key_path(&self) -> PathBuf {
        self.home.join(".android/adbkey")
    }

    /// `adb -P PORT args…` with this server's environment, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
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

    /// Runs `adb args…` (the server's daemon never inherits these pipes: it is running).
    pub fn adb(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("adb {args:?}: {e}"))
    }

    /// Runs `adb args…`, asserts success, returns stdout.
    pub fn adb_ok(&self, args: &[&str]) -> String {
        let out = self.adb(args);
        assert!(
            out.status.success(),
            "adb {args:?} failed ({}): stdout {:?} stderr {:?}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `adb connect`, asserting adb's exact answer.
    pub fn connect(&self, serial: &str) {
        let out = self.adb_ok(&["connect", serial]);
        assert_eq!(out, format!("connected to {serial}\n"));
    }

    /// `adb -s serial shell …`.
    pub fn shell(&self, serial: &str, command: &str) -> Output {
        self.adb(&["-s", serial, "shell", command])
    }

    /// Polls `adb devices` until `serial` is in `state` (e.g. `device`).
    pub fn wait_for_state(&self, serial: &str, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let out = self.adb_ok(&["devices"]);
            if out.lines().any(|l| l == format!("{serial}\t{state}")) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{serial} never became {state}: {out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A script running this adb with `-P` and `HOME`, for adb_client's `start-server`.
    pub fn wrapper(&self) -> String {
        let path = self.home.join("adb-wrapper");
        let script = format!(
            "#!/bin/sh\nHOME='{}' exec adb -P {} \"$@\"\n",
            self.home.display(),
            self.port
        );
        std::fs::write(&path, script)
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path.display().to_string()
    }

    pub fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, self.port)
    }
}

impl Drop for AdbServer {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        let _ = self
            .command(&["kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
