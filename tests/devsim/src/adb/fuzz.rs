//! Fuzz entry points for the pure codecs, shared by the cargo-fuzz targets in
//! `tests/devsim/fuzz` and by a unit test that runs them over mutated inputs in every
//! `cargo test`.
//!
//! Each entry point must never panic except through its own `assert!`s, which state the
//! invariants: decoding does not depend on how the bytes were split into reads, decoded
//! packets re-encode to the bytes they came from, and buffers stay bounded.

use super::handshake::Handshake;
use super::packet::{self, HEADER_LEN, MAX_PAYLOAD, Packet};
use super::shell_protocol::{ShellDecoder, ShellPiece};
use super::sync::{SyncDecoder, SyncError, SyncRequest};
use super::{auth, service};

/// Splits `data` into reads whose sizes come from `seed`.
fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut size = usize::from(seed % 31) + 1;
    while !rest.is_empty() {
        let take = size.min(rest.len());
        out.push(&rest[..take]);
        rest = &rest[take..];
        size = (size * 7 + 3) % 61 + 1;
    }
    out
}

/// Runs the connection's packet framing over `data` (first byte: how the bytes are split
/// into reads; second byte: the negotiated maximum payload), and every decoded packet
/// through the handshake, the OPEN parser, the key parser and the shell decoder.
pub fn packet(data: &[u8]) {
    let [split, size, body @ ..] = data else {
        return;
    };
    let max = match size % 3 {
        0 => MAX_PAYLOAD,
        1 => 4096,
        _ => u32::from(*size) * 16,
    };
    let whole = decode_packets(&[body], max);
    let pieces = decode_packets(&chunks(body, *split), max);
    assert_eq!(whole, pieces, "framing must not depend on read boundaries");

    let mut used = 0;
    let mut handshake = Handshake::new(true, true);
    for packet in whole.0.iter() {
        let bytes = packet.encode(false);
        assert_eq!(bytes.len(), HEADER_LEN + packet.payload.len());
        let original = &body[used..used + bytes.len()];
        assert_eq!(
            &bytes[..16],
            &original[..16],
            "header words must round-trip"
        );
        assert_eq!(
            &bytes[20..],
            &original[20..],
            "magic and payload must round-trip"
        );
        used += bytes.len();

        let _ = service::parse(&packet.payload);
        let _ = auth::parse_public_key(&String::from_utf8_lossy(&packet.payload));
        let _ = ShellDecoder::new().feed(&packet.payload);
        match packet.command {
            packet::Command::Cnxn => {
                handshake.on_connect(packet.arg0, packet.arg1, "device::", [0; 20]);
                assert!(handshake.max_payload() <= MAX_PAYLOAD);
            }
            packet::Command::Auth => {
                let keys: [&str; 0] = [];
                let _ = handshake.on_auth(packet.arg0, &packet.payload, &keys, "device::", [1; 20]);
            }
            _ => {}
        }
    }
}

/// Packets decoded from reads, and whether an error ended them.
fn decode_packets(reads: &[&[u8]], max: u32) -> (Vec<Packet>, Option<packet::PacketError>) {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        let mut used = 0;
        loop {
            match packet::decode(&buf[used..], max) {
                Ok(Some((p, len))) => {
                    assert!(len >= HEADER_LEN && len <= buf.len() - used);
                    assert!(p.payload.len() <= max as usize);
                    used += len;
                    out.push(p);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        buf.drain(..used);
        assert!(
            buf.len() < HEADER_LEN + max as usize,
            "buffer must stay below one packet"
        );
    }
    (out, None)
}

/// Runs the `sync:` request decoder and the shell-protocol decoder over `data` (first
/// byte: how the bytes are split) and checks both give the same result whole and split.
pub fn sync(data: &[u8]) {
    let [split, body @ ..] = data else { return };
    let reads = chunks(body, *split);
    let whole = decode_sync(&[body]);
    let pieces = decode_sync(&reads);
    assert_eq!(
        whole, pieces,
        "sync decoding must not depend on read boundaries"
    );

    let joined = |pieces: Vec<ShellPiece>| {
        let mut streams: Vec<(u8, Vec<u8>)> = Vec::new();
        for p in pieces {
            match streams.last_mut() {
                Some((id, data)) if *id == p.id && !p.data.is_empty() => data.extend(p.data),
                _ => streams.push((p.id, p.data)),
            }
        }
        streams
    };
    let mut decoder = ShellDecoder::new();
    let whole = joined(decoder.feed(body));
    let mut decoder = ShellDecoder::new();
    let pieces = joined(reads.iter().flat_map(|r| decoder.feed(r)).collect());
    // Splitting can only cut a packet into more pieces of the same stream.
    assert_eq!(
        whole.iter().map(|(_, d)| d.len()).sum::<usize>(),
        pieces.iter().map(|(_, d)| d.len()).sum::<usize>()
    );
}

fn decode_sync(reads: &[&[u8]]) -> (Vec<SyncRequest>, Option<SyncError>) {
    let mut decoder = SyncDecoder::new();
    let mut out = Vec::new();
    for read in reads {
        decoder.feed(read);
        loop {
            match decoder.next_request() {
                Ok(Some(request)) => {
                    if let SyncRequest::Data(d) = &request {
                        assert!(d.len() <= super::sync::SYNC_DATA_MAX);
                    }
                    out.push(request);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        assert!(decoder.buffered() <= super::sync::SYNC_DATA_MAX + super::sync::MAX_PATH + 8);
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adb::packet::Command;

    /// xorshift64*: deterministic inputs without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..rng.below(4) + 1 {
            match rng.below(5) {
                0 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
                1 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] = rng.next() as u8;
                }
                2 => v.truncate(rng.below(v.len() + 1)),
                3 => {
                    let i = rng.below(v.len() + 1);
                    let extra: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                    v.splice(i..i, extra);
                }
                _ => v.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
            }
        }
        v
    }

    fn packet_seed() -> Vec<u8> {
        let mut v = vec![5, 0];
        v.extend(
            Packet::with_payload(
                Command::Cnxn,
                0x0100_0001,
                0x10_0000,
                b"host::features=shell_v2".to_vec(),
            )
            .encode(true),
        );
        v.extend(
            Packet::with_payload(
                Command::Open,
                10,
                0,
                b"shell,v2,raw:pm list users\0".to_vec(),
            )
            .encode(false),
        );
        v.extend(
            Packet::with_payload(Command::Wrte, 10, 1, b"\x04\x00\x00\x00\x00".to_vec())
                .encode(false),
        );
        v.extend(
            Packet::with_payload(Command::Auth, 3, 0, b"QUFBQQ== x@y\0".to_vec()).encode(false),
        );
        v.extend(Packet::new(Command::Clse, 10, 1).encode(false));
        v
    }

    fn sync_seed() -> Vec<u8> {
        let mut v = vec![3];
        for (tag, body) in [
            (&b"STA2"[..], &b"/data/local/tmp/x"[..]),
            (b"SEND", b"/data/local/tmp/x,33188"),
            (b"DATA", b"hello"),
        ] {
            v.extend(tag);
            v.extend((body.len() as u32).to_le_bytes());
            v.extend(body);
        }
        v.extend(b"DONE\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05");
        v.extend(b"RECV\x01\x00\x00\x00/QUIT\x00\x00\x00\x00");
        v
    }

    #[test]
    fn entry_points_survive_thousands_of_mutated_inputs() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let seeds = [packet_seed(), sync_seed()];
        for round in 0..3000 {
            let seed = &seeds[round % 2];
            let input = mutate(&mut rng, seed);
            packet(&input);
            sync(&input);
        }
        for len in 0..64 {
            let noise: Vec<u8> = (0..len * 7).map(|_| rng.next() as u8).collect();
            packet(&noise);
            sync(&noise);
        }
    }

    #[test]
    fn committed_regressions_still_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        for target in ["packet", "sync"] {
            let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap();
                match target {
                    "packet" => packet(&data),
                    _ => sync(&data),
                }
            }
        }
    }
}
