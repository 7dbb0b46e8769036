//! Wire-level behaviour of the simulated adbd, checked packet by packet with a raw client:
//! negotiation, checksums, stream bookkeeping, flow control and the `sync:` replies
//! adb_client depends on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{RawClient, Sim};
use corral_devsim::adb::packet::{A_VERSION, Command, Packet};

fn okay(local: u32, remote: u32) -> Packet {
    Packet::new(Command::Okay, local, remote)
}

fn wrte(local: u32, remote: u32, data: &[u8]) -> Packet {
    Packet::with_payload(Command::Wrte, local, remote, data.to_vec())
}

/// Opens `service` as stream `id`, returns the device's id for it.
fn open(c: &mut RawClient, id: u32, service: &str) -> u32 {
    c.send(&Packet::with_payload(
        Command::Open,
        id,
        0,
        format!("{service}\0").into_bytes(),
    ));
    let reply = c.recv().unwrap();
    assert_eq!(
        (reply.command, reply.arg1),
        (Command::Okay, id),
        "{reply:?}"
    );
    assert_ne!(reply.arg0, 0);
    reply.arg0
}

#[test]
fn cnxn_negotiation_and_banner() {
    let sim = Sim::phones(1);
    let mut adb29 = RawClient::connect(sim.addr(0));
    let reply = adb29.handshake(0x0100_0001);
    assert_eq!(
        (reply.command, reply.arg0, reply.arg1),
        (Command::Cnxn, A_VERSION, 0x10_0000)
    );
    let banner = String::from_utf8(reply.payload).unwrap();
    assert!(banner.starts_with("device::ro.product.name=panther;ro.product.model=Pixel 7;ro.product.device=panther;features="), "{banner}");
    assert!(
        banner.contains("shell_v2")
            && banner.contains("abb_exec")
            && !banner.contains("delayed_ack")
    );

    // adb_client announces 0x01000000: every packet it gets carries the byte-sum
    // (RawClient checks data_check on receive).
    let mut old = RawClient::connect(sim.addr(0));
    let reply = old.handshake(0x0100_0000);
    assert_eq!(reply.arg0, A_VERSION);
    let remote = open(&mut old, 5, "sync:");
    let mut stat = b"STAT".to_vec();
    stat.extend(1u32.to_le_bytes());
    stat.push(b'/');
    old.send(&wrte(5, remote, &stat));
    assert_eq!(old.recv().unwrap(), okay(remote, 5));
    let reply = old.recv().unwrap();
    assert_eq!(reply.command, Command::Wrte);
    assert_eq!(reply.payload.len(), 16);
}

#[test]
fn unknown_services_are_refused_with_clse_zero() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    c.send(&Packet::with_payload(
        Command::Open,
        9,
        0,
        b"jdwp:1234\0".to_vec(),
    ));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, 0, 9));
}

#[test]
fn packets_before_cnxn_and_to_unknown_streams_are_ignored() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.send(&Packet::with_payload(
        Command::Open,
        1,
        0,
        b"sync:\0".to_vec(),
    ));
    c.handshake(0x0100_0001);
    c.send(&wrte(3, 999, b"lost"));
    c.send(&okay(3, 999));
    c.send(&Packet::new(Command::Clse, 3, 999));
    // The connection still works: the next answer is for the next request.
    c.send(&Packet::with_payload(
        Command::Open,
        2,
        0,
        b"nope:\0".to_vec(),
    ));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, 0, 2));
}

#[test]
fn host_clse_is_echoed_once_for_live_streams_only() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    let remote = open(&mut c, 7, "sync:");
    c.send(&Packet::new(Command::Clse, 7, remote));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, remote, 7));
    // Closing again: already gone, so no echo; the next reply is the CLSE(0) below.
    c.send(&Packet::new(Command::Clse, 7, remote));
    c.send(&Packet::with_payload(
        Command::Open,
        8,
        0,
        b"nope:\0".to_vec(),
    ));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, 0, 8));
}

#[test]
fn device_close_then_host_close_gets_no_echo() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    let remote = open(&mut c, 4, "sync:");
    c.send(&wrte(4, remote, b"QUIT\0\0\0\0"));
    assert_eq!(c.recv().unwrap(), okay(remote, 4));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, remote, 4));
    c.send(&Packet::new(Command::Clse, 4, remote));
    c.send(&Packet::with_payload(
        Command::Open,
        5,
        0,
        b"nope:\0".to_vec(),
    ));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, 0, 5));
}

#[test]
fn one_unacknowledged_wrte_per_stream() {
    let sim = Sim::phones(1);
    // 1.5 MB does not fit one 1 MiB WRTE: the second WRTE must wait for our OKAY.
    sim.phone(0)
        .fs()
        .write("/data/local/tmp/f", 0o644, &vec![7u8; 1_500_000])
        .unwrap();
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    let remote = open(&mut c, 6, "sync:");
    let path = b"/data/local/tmp/f";
    let mut recv = b"RECV".to_vec();
    recv.extend((path.len() as u32).to_le_bytes());
    recv.extend(path);
    c.send(&wrte(6, remote, &recv));
    assert_eq!(c.recv().unwrap(), okay(remote, 6));
    let first = c.recv().unwrap();
    assert_eq!(first.command, Command::Wrte);
    // Without our OKAY the device must not send more on this stream.
    c.stream
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let mut probe = [0u8; 1];
    let waited = std::io::Read::read(&mut c.stream, &mut probe);
    assert!(
        waited.is_err(),
        "device sent more before the OKAY: {waited:?}"
    );
    c.stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    c.send(&okay(6, remote));
    assert_eq!(c.recv().unwrap().command, Command::Wrte);
}

#[test]
fn adb_client_stat_in_two_writes_gets_one_16_byte_reply() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0000);
    let remote = open(&mut c, 11, "sync:");
    let path = b"/data/local/tmp";
    let mut header = b"STAT".to_vec();
    header.extend((path.len() as u32).to_le_bytes());
    c.send(&wrte(11, remote, &header));
    assert_eq!(c.recv().unwrap(), okay(remote, 11));
    c.send(&wrte(11, remote, path));
    assert_eq!(c.recv().unwrap(), okay(remote, 11));
    let reply = c.recv().unwrap();
    assert_eq!(reply.payload.len(), 16);
    assert_eq!(&reply.payload[..4], b"STAT");
    let mode = u32::from_le_bytes(reply.payload[4..8].try_into().unwrap());
    assert_eq!(mode & 0o170000, 0o040000, "a directory");
}

#[test]
fn oversize_sync_data_is_refused_like_adbd() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    let remote = open(&mut c, 12, "sync:");
    let mut w = b"SEND".to_vec();
    let spec = b"/data/local/tmp/big,33188";
    w.extend((spec.len() as u32).to_le_bytes());
    w.extend(spec);
    w.extend(b"DATA");
    w.extend((65_537u32).to_le_bytes());
    c.send(&wrte(12, remote, &w));
    assert_eq!(c.recv().unwrap(), okay(remote, 12));
    let fail = c.recv().unwrap();
    assert_eq!(fail.payload, b"FAIL\x15\x00\x00\x00oversize data message");
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, remote, 12));
}

#[test]
fn reboot_answers_two_okays_then_drops_every_connection() {
    let sim = Sim::phones(1);
    let mut other = RawClient::connect(sim.addr(0));
    other.handshake(0x0100_0001);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0000);
    let remote = open(&mut c, 21, "reboot:");
    assert_eq!(c.recv().unwrap(), okay(remote, 21));
    assert!(c.closed_by_device());
    assert!(other.closed_by_device());
    // The phone is back: a new connection works.
    let mut again = RawClient::connect(sim.addr(0));
    assert_eq!(again.handshake(0x0100_0001).command, Command::Cnxn);
}

#[test]
fn interactive_pty_shell_prompts_echoes_and_exits_with_status() {
    let sim = Sim::phones(1);
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);
    let remote = open(&mut c, 30, "shell,v2,TERM=xterm-256color,pty:");
    let mut output = Vec::new();
    let mut exit = None;
    let stdin = |text: &[u8]| {
        let mut p = vec![0u8];
        p.extend((text.len() as u32).to_le_bytes());
        p.extend(text);
        p
    };
    c.send(&wrte(30, remote, &stdin(b"echo hi\n")));
    c.send(&wrte(30, remote, &stdin(b"exit 5\n")));
    while exit.is_none() {
        let p = c.recv().unwrap();
        match p.command {
            Command::Wrte => {
                c.send(&okay(30, remote));
                let mut rest = &p.payload[..];
                while rest.len() >= 5 {
                    let len = u32::from_le_bytes(rest[1..5].try_into().unwrap()) as usize;
                    match rest[0] {
                        1 => output.extend_from_slice(&rest[5..5 + len]),
                        3 => exit = Some(rest[5]),
                        _ => {}
                    }
                    rest = &rest[5 + len..];
                }
            }
            Command::Okay => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let text = String::from_utf8_lossy(&output);
    assert!(text.starts_with("panther:/ $ "), "{text:?}");
    assert!(text.contains("echo hi\r\nhi\r\npanther:/ $ "), "{text:?}");
    assert_eq!(exit, Some(5));
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, remote, 30));
}

#[test]
fn the_latency_model_delays_streams_and_transfers() {
    use corral_devsim::latency::LatencyModel;
    use corral_devsim::simulator::SimulatorConfig;
    use std::time::{Duration, Instant};

    let sim = Sim::start(SimulatorConfig {
        latency: LatencyModel {
            enabled: true,
            round_trip: Duration::from_millis(30),
            shell_spawn: Duration::from_millis(20),
            command_costs: Vec::new(),
            default_command: Duration::ZERO,
            bandwidth_bytes_per_sec: 1_000_000,
        },
        ..SimulatorConfig::default()
    });
    let mut c = RawClient::connect(sim.addr(0));
    c.handshake(0x0100_0001);

    let started = Instant::now();
    let remote = open(&mut c, 40, "shell:true");
    assert_eq!(c.recv().unwrap(), Packet::new(Command::Clse, remote, 40));
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );

    // 200 kB at 1 MB/s: at least 0.2 s on the link.
    let remote = open(&mut c, 41, "sync:");
    let mut push = b"SEND".to_vec();
    let spec = b"/data/local/tmp/slow,33188";
    push.extend((spec.len() as u32).to_le_bytes());
    push.extend(spec);
    for _ in 0..4 {
        push.extend(b"DATA");
        push.extend(50_000u32.to_le_bytes());
        push.extend(vec![1u8; 50_000]);
    }
    push.extend(b"DONE\0\0\0\0");
    let started = Instant::now();
    c.send(&wrte(41, remote, &push));
    assert_eq!(c.recv().unwrap(), okay(remote, 41));
    assert_eq!(c.recv().unwrap().payload, b"OKAY\0\0\0\0");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn auth_answers_a_bad_signature_with_a_new_token_and_a_good_one_with_cnxn() {
    use corral_devsim::adb::auth::{AUTH_SIGNATURE, AUTH_TOKEN, encode_public_key};
    use corral_devsim::simulator::SimulatorConfig;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};

    let sim = Sim::start(SimulatorConfig {
        auth_required: true,
        ..SimulatorConfig::default()
    });
    let key = RsaPrivateKey::from_pkcs8_pem(include_str!("../src/adb/testdata/adbkey")).unwrap();
    let sign = |token: &[u8]| key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), token).unwrap();

    let mut c = RawClient::connect(sim.addr(0));
    let token = c.handshake(0x0100_0001);
    assert_eq!(
        (token.command, token.arg0, token.payload.len()),
        (Command::Auth, AUTH_TOKEN, 20)
    );
    // Unknown key: a fresh token, never a CNXN.
    c.send(&Packet::with_payload(
        Command::Auth,
        AUTH_SIGNATURE,
        0,
        sign(&token.payload),
    ));
    let again = c.recv().unwrap();
    assert_eq!((again.command, again.arg0), (Command::Auth, AUTH_TOKEN));
    assert_ne!(again.payload, token.payload);
    // Garbage signature: the same.
    c.send(&Packet::with_payload(
        Command::Auth,
        AUTH_SIGNATURE,
        0,
        vec![0; 256],
    ));
    let third = c.recv().unwrap();
    assert_eq!((third.command, third.arg0), (Command::Auth, AUTH_TOKEN));

    // Once the phone trusts the key, its signature is enough.
    let line = format!(
        "{} test@host",
        encode_public_key(&key.to_public_key()).unwrap()
    );
    sim.phone(0).authorize_key(&line);
    c.send(&Packet::with_payload(
        Command::Auth,
        AUTH_SIGNATURE,
        0,
        sign(&third.payload),
    ));
    assert_eq!(c.recv().unwrap().command, Command::Cnxn);
}
