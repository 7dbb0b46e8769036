//! ADB transport packets: the 24-byte header, the payload, and the checksum rule.
//!
//! Pure codec, no I/O. [`decode`] takes whatever bytes have arrived and either returns a
//! complete packet, asks for more, or names why the bytes can never be a packet — the
//! connection then drops the peer, as adbd's `check_header` does.

/// `CNXN`: connect / version negotiation.
pub const A_CNXN: u32 = 0x4e58_4e43;
/// `AUTH`: RSA authentication.
pub const A_AUTH: u32 = 0x4854_5541;
/// `OPEN`: open a stream to a service.
pub const A_OPEN: u32 = 0x4e45_504f;
/// `OKAY`: stream opened / ready for more data.
pub const A_OKAY: u32 = 0x5941_4b4f;
/// `CLSE`: close a stream.
pub const A_CLSE: u32 = 0x4553_4c43;
/// `WRTE`: stream data.
pub const A_WRTE: u32 = 0x4554_5257;
/// `STLS`: TLS upgrade (not spoken by adb 29; never sent by the simulator).
pub const A_STLS: u32 = 0x534c_5453;
/// `SYNC`: obsolete, still a known command.
pub const A_SYNC: u32 = 0x434e_5953;

/// The lowest protocol version; packets carry a byte-sum checksum.
pub const A_VERSION_MIN: u32 = 0x0100_0000;
/// From this version on the checksum field is zero.
pub const A_VERSION_SKIP_CHECKSUM: u32 = 0x0100_0001;
/// The version adbd 29 announces.
pub const A_VERSION: u32 = 0x0100_0001;
/// The largest payload adbd 29 accepts or sends (1 MiB).
pub const MAX_PAYLOAD: u32 = 1024 * 1024;
/// Header size in bytes.
pub const HEADER_LEN: usize = 24;

/// A packet command the simulator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Cnxn,
    Auth,
    Open,
    Okay,
    Clse,
    Wrte,
    Stls,
    Sync,
}

impl Command {
    /// The command for a wire value, if it is one adbd knows.
    pub fn from_wire(value: u32) -> Option<Command> {
        Some(match value {
            A_CNXN => Command::Cnxn,
            A_AUTH => Command::Auth,
            A_OPEN => Command::Open,
            A_OKAY => Command::Okay,
            A_CLSE => Command::Clse,
            A_WRTE => Command::Wrte,
            A_STLS => Command::Stls,
            A_SYNC => Command::Sync,
            _ => return None,
        })
    }

    /// The wire value.
    pub fn wire(self) -> u32 {
        match self {
            Command::Cnxn => A_CNXN,
            Command::Auth => A_AUTH,
            Command::Open => A_OPEN,
            Command::Okay => A_OKAY,
            Command::Clse => A_CLSE,
            Command::Wrte => A_WRTE,
            Command::Stls => A_STLS,
            Command::Sync => A_SYNC,
        }
    }
}

/// One ADB packet.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    pub command: Command,
    pub arg0: u32,
    pub arg1: u32,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Payloads can be a megabyte; show the start only.
        let shown = &self.payload[..self.payload.len().min(32)];
        write!(
            f,
            "{:?}({:#x}, {:#x}, {} bytes {:?})",
            self.command,
            self.arg0,
            self.arg1,
            self.payload.len(),
            String::from_utf8_lossy(shown)
        )
    }
}

impl Packet {
    /// A packet without payload.
    pub fn new(command: Command, arg0: u32, arg1: u32) -> Self {
        Packet {
            command,
            arg0,
            arg1,
            payload: Vec::new(),
        }
    }

    /// A packet with payload.
    pub fn with_payload(command: Command, arg0: u32, arg1: u32, payload: Vec<u8>) -> Self {
        Packet {
            command,
            arg0,
            arg1,
            payload,
        }
    }

    /// Header plus payload as sent on the wire. `checksum` fills `data_check` with the
    /// byte-sum (negotiated version below [`A_VERSION_SKIP_CHECKSUM`]), else zero.
    pub fn encode(&self, checksum: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        let command = self.command.wire();
        let check = if checksum {
            payload_checksum(&self.payload)
        } else {
            0
        };
        for word in [
            command,
            self.arg0,
            self.arg1,
            self.payload.len() as u32,
            check,
            command ^ 0xffff_ffff,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }
}

/// The `data_check` value: the sum of the payload bytes (not a CRC).
pub fn payload_checksum(payload: &[u8]) -> u32 {
    payload
        .iter()
        .fold(0u32, |sum, &b| sum.wrapping_add(u32::from(b)))
}

/// Whether packets of a transport at `version` carry a checksum.
pub fn uses_checksum(version: u32) -> bool {
    version < A_VERSION_SKIP_CHECKSUM
}

/// Why bytes from a peer are not a valid packet. Every variant ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// `magic` is not `command ^ 0xffffffff`.
    #[error("bad magic {magic:#010x} for command {command:#010x}")]
    BadMagic { command: u32, magic: u32 },
    /// The command is not an ADB command.
    #[error("unknown command {0:#010x}")]
    UnknownCommand(u32),
    /// `data_length` exceeds what this transport accepts.
    #[error("payload of {length} bytes exceeds the maximum of {max}")]
    Oversized { length: u32, max: u32 },
}

/// The six header words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u32,
    pub arg0: u32,
    pub arg1: u32,
    pub data_length: u32,
    pub data_check: u32,
    pub magic: u32,
}

impl Header {
    /// Reads the six little-endian words.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Header {
        let word = |i: usize| {
            u32::from_le_bytes([
                bytes[i * 4],
                bytes[i * 4 + 1],
                bytes[i * 4 + 2],
                bytes[i * 4 + 3],
            ])
        };
        Header {
            command: word(0),
            arg0: word(1),
            arg1: word(2),
            data_length: word(3),
            data_check: word(4),
            magic: word(5),
        }
    }

    /// adbd's `check_header` (magic and size), plus: the command must be one adbd knows.
    /// adbd 29 does not verify `data_check` on receive, so neither does the simulator.
    pub fn validate(&self, max_payload: u32) -> Result<Command, PacketError> {
        if self.magic != self.command ^ 0xffff_ffff {
            return Err(PacketError::BadMagic {
                command: self.command,
                magic: self.magic,
            });
        }
        if self.data_length > max_payload {
            return Err(PacketError::Oversized {
                length: self.data_length,
                max: max_payload,
            });
        }
        Command::from_wire(self.command).ok_or(PacketError::UnknownCommand(self.command))
    }
}

/// Decodes the first packet in `buf`. `Ok(None)` means more bytes are needed; on success
/// returns the packet and how many bytes it used. The header is judged as soon as it is
/// complete, so an oversized length is refused before its payload arrives.
pub fn decode(buf: &[u8], max_payload: u32) -> Result<Option<(Packet, usize)>, PacketError> {
    let Some(head) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let header = Header::parse(head);
    let command = header.validate(max_payload)?;
    let total = HEADER_LEN + header.data_length as usize;
    let Some(payload) = buf.get(HEADER_LEN..total) else {
        return Ok(None);
    };
    let packet = Packet::with_payload(command, header.arg0, header.arg1, payload.to_vec());
    Ok(Some((packet, total)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(bytes: &[u8], max: u32, expect: Expect) {
        let got = match decode(bytes, max) {
            Ok(Some((p, used))) => format!("{p:?} used={used}"),
            Ok(None) => "need more".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    fn raw(words: [u32; 6], payload: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_what_adb_sends() {
        let cnxn = raw([A_CNXN, 0x0100_0001, 0x10_0000, 5, 0, !A_CNXN], b"host:");
        check(
            &cnxn,
            MAX_PAYLOAD,
            expect![[r#"Cnxn(0x1000001, 0x100000, 5 bytes "host:") used=29"#]],
        );
        check(&cnxn[..20], MAX_PAYLOAD, expect!["need more"]);
        check(&cnxn[..26], MAX_PAYLOAD, expect!["need more"]);
    }

    #[test]
    fn refuses_what_adbd_refuses() {
        check(
            &raw([A_OPEN, 1, 0, 0, 0, 0], b""),
            MAX_PAYLOAD,
            expect!["error: bad magic 0x00000000 for command 0x4e45504f"],
        );
        check(
            &raw([A_WRTE, 1, 1, 4097, 0, !A_WRTE], b""),
            4096,
            expect!["error: payload of 4097 bytes exceeds the maximum of 4096"],
        );
        check(
            &raw([0x4142_4344, 0, 0, 0, 0, !0x4142_4344], b""),
            MAX_PAYLOAD,
            expect!["error: unknown command 0x41424344"],
        );
    }

    #[test]
    fn encode_round_trips_with_and_without_checksum() {
        let p = Packet::with_payload(Command::Wrte, 7, 9, b"\x01\x02\xff".to_vec());
        let with = p.encode(true);
        assert_eq!(Header::parse(with.first_chunk().unwrap()).data_check, 0x102);
        let without = p.encode(false);
        assert_eq!(Header::parse(without.first_chunk().unwrap()).data_check, 0);
        assert_eq!(decode(&with, MAX_PAYLOAD).unwrap(), Some((p, 27)));
    }

    #[test]
    fn checksum_only_below_skip_version() {
        assert!(uses_checksum(A_VERSION_MIN));
        assert!(!uses_checksum(A_VERSION_SKIP_CHECKSUM));
    }
}
