//! Driving the built `corral` binary like an operator would: one-shot commands, and a
//! `corral serve` process that is stopped with SIGTERM (killed if a test panics).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `corral` with a clean environment for its settings.
pub fn corral() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corral"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CORRAL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `corral ARGS…` to completion.
pub fn run(args: &[&str]) -> Output {
    corral().args(args).output().unwrap()
}

/// A running `corral serve`.
pub struct Server {
    child: Child,
    /// Where the console/API listens.
    pub addr: SocketAddr,
    /// What it printed on stdout up to and including the "listening" line.
    pub banner: Vec<String>,
}

const LISTENING: &str = "corral: console and API on http://";

/// Starts `corral serve --data-dir DIR --listen 127.0.0.1:0` and waits until it listens.
/// Panics with everything it printed if it exits first.
pub fn serve(data_dir: &Path) -> Server {
    let mut child = corral()
        // The agent listeners default to fixed ports (8443, 8444); tests run many servers.
        .env("CORRAL_GATEWAY_LISTEN", "127.0.0.1:0")
        .env("CORRAL_ENROLLMENT_LISTEN", "127.0.0.1:0")
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let addr = line.strip_prefix(LISTENING).map(|a| a.parse().unwrap());
                banner.push(line);
                if let Some(addr) = addr {
                    return Server {
                        child,
                        addr,
                        banner,
                    };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("corral serve did not start.\nstdout: {banner:#?}\nstderr: {err}");
            }
        }
    }
}

impl Server {
    /// `GET path` over plain HTTP/1.1: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Sends SIGTERM and waits for a graceful exit.
    pub fn stop(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "corral serve ignored SIGTERM for 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
