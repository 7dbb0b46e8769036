//! Shell protocol v2 (`shell,v2,…:`): `[u8 id][u32 LE length][payload]` packets riding in
//! the stream's byte flow.
//!
//! Pure; no I/O. Packets split and coalesce freely across WRTEs, so the decoder is
//! incremental, and like adbd's `ShellProtocol::Read` it hands over a long packet in
//! pieces instead of buffering it: memory stays bounded whatever length a peer claims.

/// Packet ids.
pub const ID_STDIN: u8 = 0;
pub const ID_STDOUT: u8 = 1;
pub const ID_STDERR: u8 = 2;
pub const ID_EXIT: u8 = 3;
pub const ID_CLOSE_STDIN: u8 = 4;
pub const ID_WINDOW_SIZE_CHANGE: u8 = 5;

/// Header size: id plus length.
pub const HEADER_LEN: usize = 5;

/// Appends one packet to `out`.
pub fn encode_into(out: &mut Vec<u8>, id: u8, payload: &[u8]) {
    out.push(id);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
}

/// One packet.
pub fn encode(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    encode_into(&mut out, id, payload);
    out
}

/// (Part of) one packet's payload. A packet of length zero yields one empty piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellPiece {
    pub id: u8,
    pub data: Vec<u8>,
}

/// Incremental decoder of the host → device direction.
#[derive(Debug, Default)]
pub struct ShellDecoder {
    header: Vec<u8>,
    current: Option<(u8, usize)>,
}

impl ShellDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `bytes` and returns the payload pieces completed by them, in order.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<ShellPiece> {
        let mut events = Vec::new();
        while !bytes.is_empty() {
            match self.current {
                None => {
                    let need = HEADER_LEN - self.header.len();
                    let take = need.min(bytes.len());
                    self.header.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.header.len() == HEADER_LEN {
                        let id = self.header[0];
                        let len = u32::from_le_bytes([
                            self.header[1],
                            self.header[2],
                            self.header[3],
                            self.header[4],
                        ]) as usize;
                        self.header.clear();
                        if len == 0 {
                            events.push(ShellPiece {
                                id,
                                data: Vec::new(),
                            });
                        } else {
                            self.current = Some((id, len));
                        }
                    }
                }
                Some((id, left)) => {
                    let take = left.min(bytes.len());
                    events.push(ShellPiece {
                        id,
                        data: bytes[..take].to_vec(),
                    });
                    bytes = &bytes[take..];
                    self.current = (left > take).then_some((id, left - take));
                }
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(chunks: &[&[u8]], expect: Expect) {
        let mut d = ShellDecoder::new();
        let got: Vec<String> = chunks
            .iter()
            .flat_map(|c| d.feed(c))
            .map(|ShellPiece { id, data }| format!("{id}:{}", String::from_utf8_lossy(&data)))
            .collect();
        expect.assert_eq(&got.join(" | "));
    }

    #[test]
    fn packets_split_and_coalesced() {
        check(
            &[b"\x00\x03\x00\x00\x00abc\x04\x00\x00\x00\x00"],
            expect!["0:abc | 4:"],
        );
        check(
            &[b"\x00\x03", b"\x00\x00\x00a", b"bc"],
            expect!["0:a | 0:bc"],
        );
        check(&[b"\x05\x01\x00\x00\x00x\x00"], expect!["5:x"]);
    }

    #[test]
    fn encode_matches_the_wire_capture() {
        assert_eq!(encode(ID_EXIT, &[7]), b"\x03\x01\x00\x00\x00\x07");
        assert_eq!(encode(ID_STDERR, b"err\n"), b"\x02\x04\x00\x00\x00err\n");
    }
}
