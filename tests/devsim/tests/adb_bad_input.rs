//! Hostile bytes: bad magic, oversized lengths, unknown commands, truncated packets and
//! garbage each cost the sender its connection (with a warning naming it and the
//! reason); the phone and its neighbours keep serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Mutex};

use common::{AdbServer, RawClient, Sim, random_bytes};
use corral_devsim::adb::packet::{A_CNXN, A_WRTE, Command};

/// Collects log output so the test can read the warnings.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn header(words: [u32; 6]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn bad_peers_lose_only_their_own_connection() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("corral_devsim=warn")
        .with_writer(move || writer.clone())
        .init();

    let sim = Sim::phones(2);

    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        (
            "bad magic",
            header([A_CNXN, 1, 2, 0, 0, 0xdead_beef]),
            false,
            "bad magic",
        ),
        (
            "oversized length",
            header([A_WRTE, 1, 1, 2 * 1024 * 1024, 0, !A_WRTE]),
            true,
            "exceeds the maximum",
        ),
        (
            "unknown command",
            header([0x4443_4241, 0, 0, 0, 0, !0x4443_4241]),
            true,
            "unknown command",
        ),
        (
            "truncated header",
            header([A_CNXN, 1, 2, 0, 0, !A_CNXN])[..13].to_vec(),
            false,
            "inside a packet",
        ),
        (
            "truncated payload",
            header([A_WRTE, 1, 1, 100, 0, !A_WRTE])
                .into_iter()
                .chain([0u8; 10])
                .collect(),
            true,
            "inside a packet",
        ),
        ("garbage", random_bytes(4096, 77), false, "invalid packet"),
    ];
    for (name, bytes, after_handshake, reason) in cases {
        let mut c = RawClient::connect(sim.addr(0));
        if after_handshake {
            assert_eq!(c.handshake(0x0100_0001).command, Command::Cnxn, "{name}");
        }
        c.send_raw(&bytes);
        if reason == "inside a packet" {
            c.stream.shutdown(Shutdown::Write).unwrap();
        }
        assert!(
            c.closed_by_device(),
            "{name}: the device kept the connection"
        );
        let peer = c.stream.local_addr().unwrap().to_string();
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        let line = text
            .lines()
            .find(|l| l.contains(&peer))
            .unwrap_or_else(|| panic!("{name}: no log line for {peer} in {text}"));
        assert!(
            line.contains("WARN") && line.contains("dropping ADB connection"),
            "{line}"
        );
        assert!(line.contains(reason), "{name}: {line}");
    }

    // Both phones still serve, the attacked one on a new connection.
    let adb = AdbServer::start();
    for i in [1, 0] {
        adb.connect(&sim.serial(i));
        let out = adb.shell(&sim.serial(i), "echo ok");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n", "phone {i}");
    }
}
