//! Benchmark of the simulated ADB transport (a measurement, not a test): `adb push`/`adb
//! pull` throughput with real Debian adb, and the per-command overhead seen by
//! adb_client over direct TCP and by the `adb` command line. Latency model off, so what
//! is measured is the simulator itself. Method and results: docs/benchmarks.md.
//!
//! `cargo bench -p corral-devsim --bench adb_transport [-- --quick]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use adb_client::ADBDeviceExt;
use adb_client::tcp::ADBTcpDevice;
use common::{AdbServer, RawClient, Sim, adb_keygen, random_bytes};
use corral_devsim::adb::packet::{Command, Packet};

fn main() {
    corral_devsim::phone::run_shim_if_invoked();
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, mib, commands, cli_commands) = if quick {
        (2, 16, 200, 10)
    } else {
        (5, 64, 2000, 50)
    };

    let sim = Sim::phones(1);
    let adb = AdbServer::start();
    let serial = sim.serial(0);
    adb.connect(&serial);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("payload.bin");
    std::fs::write(&local, random_bytes(mib * 1024 * 1024, 64)).unwrap();
    let back = dir.path().join("back.bin");
    let bytes = (mib * 1024 * 1024) as f64;

    println!("adb push/pull of {mib} MiB, {runs} runs each (Debian adb 29.0.6, latency off)");
    let mut push = Vec::new();
    let mut pull = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        adb.adb_ok(&[
            "-s",
            &serial,
            "push",
            local.to_str().unwrap(),
            "/data/local/tmp/payload.bin",
        ]);
        push.push(bytes / t.elapsed().as_secs_f64() / 1e6);
        let t = Instant::now();
        adb.adb_ok(&[
            "-s",
            &serial,
            "pull",
            "/data/local/tmp/payload.bin",
            back.to_str().unwrap(),
        ]);
        pull.push(bytes / t.elapsed().as_secs_f64() / 1e6);
    }
    report("push MB/s", &mut push);
    report("pull MB/s", &mut pull);

    // The phone's own cost for the command, without any transport.
    let mut per = Vec::new();
    for _ in 0..commands {
        let t = Instant::now();
        let outcome = sim.phone(0).run_shell("true", &mut std::io::empty());
        assert_eq!(outcome.exit, 0);
        per.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("phone.run_shell(\"true\") called directly, {commands} commands");
    report("µs per command", &mut per);

    // The simulator's own cost per command: a raw client that does only what the
    // protocol needs (OPEN, take the output, CLSE), over one connection.
    let mut raw = RawClient::connect(sim.addr(0));
    raw.handshake(0x0100_0001);
    let mut per = Vec::new();
    for id in 1..=commands as u32 {
        let t = Instant::now();
        raw.send(&Packet::with_payload(
            Command::Open,
            id,
            0,
            b"shell:true\0".to_vec(),
        ));
        loop {
            let p = raw.recv().unwrap();
            match p.command {
                Command::Wrte => raw.send(&Packet::new(Command::Okay, id, p.arg0)),
                Command::Clse => break,
                _ => {}
            }
        }
        per.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("raw client OPEN \"shell:true\" → CLSE, {commands} commands on one connection");
    report("µs per command", &mut per);

    let keys = tempfile::tempdir().unwrap();
    let key = adb_keygen(keys.path());
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    for _ in 0..20 {
        dev.shell_command(&"true", Some(&mut Vec::new()), None)
            .unwrap();
    }
    let mut per = Vec::new();
    for _ in 0..commands {
        let t = Instant::now();
        dev.shell_command(&"true", Some(&mut Vec::new()), None)
            .unwrap();
        per.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "adb_client direct TCP shell_command(\"true\"), {commands} commands (each ends with \
         adb_client's 20 ms drain in ADBSession::drop)"
    );
    report("µs per command", &mut per);

    let mut cli = Vec::new();
    for _ in 0..cli_commands {
        let t = Instant::now();
        let out = adb.shell(&serial, "true");
        assert!(out.status.success());
        cli.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("`adb shell true` (new adb client process each time), {cli_commands} commands");
    report("ms per command", &mut cli);
    std::thread::sleep(Duration::from_millis(10));
}

fn report(what: &str, samples: &mut [f64]) {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let p95 = samples[(samples.len() * 95 / 100).min(samples.len() - 1)];
    println!(
        "  {what}: median {median:.1}, min {:.1}, max {:.1}, p95 {p95:.1}",
        samples[0],
        samples[samples.len() - 1]
    );
}
