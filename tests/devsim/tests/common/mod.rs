//! Test harness for the transport tests: an in-process simulator on its own runtime, a
//! private Debian `adb` server per test (own port, own `HOME`, killed on drop), and a raw
//! ADB client for wire-level checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_devsim::adb::packet::{self, Command as Cmd, HEADER_LEN, Packet};
use corral_devsim::phone::Phone;
use corral_devsim::simulator::{Simulator, SimulatorConfig};
use sha2::{Digest, Sha256};

/// A simulator running on a private multi-threaded runtime, so tests can block (on
/// `adb`, on adb_client) while it serves. Shut down on drop.
pub struct Sim {
    runtime: tokio::runtime::Runtime,
    simulator: Option<Simulator>,
}

impl Sim {
    pub fn start(config: SimulatorConfig) -> Sim {
        // `RUST_LOG=corral_devsim=debug cargo test …` shows what the phones did.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let simulator = runtime.block_on(Simulator::start(config)).unwrap();
        Sim {
            runtime,
            simulator: Some(simulator),
        }
    }

    /// `n` phones, no AUTH, no latency, temporary state.
    pub fn phones(n: usize) -> Sim {
        Sim::start(SimulatorConfig {
            phones: n,
            ..SimulatorConfig::default()
        })
    }

    pub fn sim(&self) -> &Simulator {
        self.simulator.as_ref().unwrap()
    }

    pub fn phone(&self, i: usize) -> &Arc<Phone> {
        &self.sim().phones()[i]
    }

    pub fn serial(&self, i: usize) -> String {
        self.phone(i).serial().to_owned()
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.sim().addrs()[i]
    }

    pub fn addr_v4(&self, i: usize) -> SocketAddrV4 {
        match self.addr(i) {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => panic!("simulator bound to IPv6"),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(sim) = self.simulator.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private Debian `adb` server: its own port and `HOME` (so a fresh
/// `~/.android/adbkey`), killed when dropped.
pub struct AdbServer {
    pub port: u16,
    home: tempfile::TempDir,
}

impl AdbServer {
    /// Tests run in parallel, so a port picked by [`free_port`] can be taken by another
    /// test's server before this one binds it; a failed start retries on a new port.
    pub fn start() -> AdbServer {
        let mut last = String::new();
        for _ in 0..5 {
            let server = AdbServer {
                port: free_port(),
                home: tempfile::tempdir().unwrap(),
            };
            let out = server.command(&["start-server"]).output().unwrap();
            if out.status.success() {
                return server;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("adb start-server failed five times; last stderr: {last}");
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The private key adb wrote (PKCS#8 PEM).
    pub fn key_path(&self) -> PathBuf {
        self.home.path().join(".android/adbkey")
    }

    /// `adb -P PORT args…` with this server's environment, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("adb");
        cmd.arg("-P").arg(self.port.to_string()).args(args);
        cmd.env("HOME", self.home.path());
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
        self.command(args).output().unwrap()
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
        String::from_utf8(out.stdout).unwrap()
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
        let path = self.home.path().join("adb-wrapper");
        let script = format!(
            "#!/bin/sh\nHOME='{}' exec adb -P {} \"$@\"\n",
            self.home.path().display(),
            self.port
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    pub fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, self.port)
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

/// Writes an adb key pair (`adbkey`, `adbkey.pub`) generated by Debian adb into `dir`.
pub fn adb_keygen(dir: &Path) -> PathBuf {
    let key = dir.join("adbkey");
    let status = Command::new("adb")
        .arg("keygen")
        .arg(&key)
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "adb keygen failed");
    key
}

/// `len` pseudo-random bytes (deterministic per seed).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A minimal blocking ADB host for wire-level tests.
pub struct RawClient {
    pub stream: TcpStream,
    pub checksum: bool,
    buf: Vec<u8>,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        RawClient {
            stream,
            checksum: true,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, packet: &Packet) {
        let bytes = packet.encode(self.checksum);
        self.stream.write_all(&bytes).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next packet, or `None` when the device closed the connection.
    pub fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Some((p, used)) = packet::decode(&self.buf, packet::MAX_PAYLOAD).unwrap() {
                let header = packet::Header::parse(self.buf[..HEADER_LEN].try_into().unwrap());
                let expected = if self.checksum {
                    packet::payload_checksum(&p.payload)
                } else {
                    0
                };
                assert_eq!(header.data_check, expected, "checksum of {p:?}");
                self.buf.drain(..used);
                return Some(p);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("reading from the device: {e}"),
            }
        }
    }

    /// True when the device closes the connection (within the read timeout) without
    /// sending anything more.
    pub fn closed_by_device(&mut self) -> bool {
        self.recv().is_none()
    }

    /// CNXN as Debian adb 29 sends it; returns the device's reply.
    pub fn handshake(&mut self, version: u32) -> Packet {
        self.send(&Packet::with_payload(
            Cmd::Cnxn,
            version,
            packet::MAX_PAYLOAD,
            b"host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,abb_exec"
                .to_vec(),
        ));
        // The device's CNXN already follows the negotiated checksum rule.
        self.checksum = packet::uses_checksum(version.min(packet::A_VERSION));
        self.recv().unwrap()
    }
}

/// A test APK the phone's package manager accepts (see `phone::apk`).
pub fn test_apk(package: &str, version: i64) -> Vec<u8> {
    corral_devsim::phone::apk::build_test_apk(package, version)
}
