//! The `sync:` request stream (file transfer), decoded incrementally.
//!
//! Pure; no I/O. The service is a byte stream whose request boundaries have nothing to do
//! with WRTE boundaries (adb_client sends a STAT header and its path in two WRTEs; adb 29
//! packs SEND, DATA… and DONE into one). Besides adbd's rules this decoder tolerates what
//! adb_client 3.2.3 sends through the adb server: `DONE` followed by a 64-bit mtime,
//! whose four extra zero bytes are skipped.

/// Largest DATA chunk adbd accepts (`SYNC_DATA_MAX`).
pub const SYNC_DATA_MAX: usize = 64 * 1024;
/// Longest path adbd accepts.
pub const MAX_PATH: usize = 1024;

const fn id(tag: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*tag)
}
pub const ID_STAT: u32 = id(b"STAT");
pub const ID_STA2: u32 = id(b"STA2");
pub const ID_LST2: u32 = id(b"LST2");
pub const ID_LIST: u32 = id(b"LIST");
pub const ID_LIS2: u32 = id(b"LIS2");
pub const ID_SEND: u32 = id(b"SEND");
pub const ID_RECV: u32 = id(b"RECV");
pub const ID_DATA: u32 = id(b"DATA");
pub const ID_DONE: u32 = id(b"DONE");
pub const ID_QUIT: u32 = id(b"QUIT");

/// Which stat a host asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatKind {
    /// `STAT`: 16-byte lstat reply.
    V1,
    /// `STA2`: 72-byte stat reply.
    Stat2,
    /// `LST2`: 72-byte lstat reply.
    Lstat2,
}

/// One decoded request (or, during a SEND, one piece of the upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    Stat {
        kind: StatKind,
        path: String,
    },
    List {
        v2: bool,
        path: String,
    },
    /// Start of an upload; DATA pieces and one DONE follow.
    Send {
        path: String,
        mode: u32,
    },
    Data(Vec<u8>),
    Done {
        mtime: u32,
    },
    Recv {
        path: String,
    },
    Quit,
}

/// A request adbd would refuse; the text is what adbd puts in its FAIL reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("path too long")]
    PathTooLong,
    #[error("unknown command {0:08x}")]
    UnknownCommand(u32),
    #[error("missing , in ID_SEND")]
    MissingComma,
    #[error("bad mode")]
    BadMode,
    #[error("invalid data message")]
    InvalidDataMessage,
    #[error("oversize data message")]
    Oversize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a request; `after_done` allows the 4 zero bytes of a 64-bit mtime.
    Idle { after_done: bool },
    /// Inside a SEND: DATA or DONE expected.
    Sending,
    /// A request was refused; nothing more is decoded.
    Failed,
}

/// Incremental decoder: [`feed`](Self::feed) bytes, then call [`next_request`](Self::next_request)
/// until it returns `Ok(None)`.
#[derive(Debug)]
pub struct SyncDecoder {
    buf: Vec<u8>,
    pos: usize,
    state: State,
}

impl Default for SyncDecoder {
    fn default() -> Self {
        SyncDecoder {
            buf: Vec::new(),
            pos: 0,
            state: State::Idle { after_done: false },
        }
    }
}

impl SyncDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes that arrived.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.state == State::Failed {
            return;
        }
        // What is left over is always less than one request (≤ 64 KiB + 8).
        self.buf.drain(..self.pos);
        self.pos = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete request. After an error the decoder stays failed.
    pub fn next_request(&mut self) -> Result<Option<SyncRequest>, SyncError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step(&mut self) -> Result<Option<SyncRequest>, SyncError> {
        let rest = &self.buf[self.pos..];
        match self.state {
            State::Failed => Ok(None),
            State::Idle { after_done } => {
                if after_done {
                    let Some(word) = rest.first_chunk::<4>() else {
                        return Ok(None);
                    };
                    self.state = State::Idle { after_done: false };
                    if *word == [0; 4] {
                        self.pos += 4;
                        return self.step();
                    }
                }
                let Some((req_id, len)) = header(rest) else {
                    return Ok(None);
                };
                let len = len as usize;
                if len > MAX_PATH {
                    return Err(SyncError::PathTooLong);
                }
                let Some(raw_path) = rest.get(8..8 + len) else {
                    return Ok(None);
                };
                let path = String::from_utf8_lossy(raw_path).into_owned();
                let request = match req_id {
                    ID_STAT => SyncRequest::Stat {
                        kind: StatKind::V1,
                        path,
                    },
                    ID_STA2 => SyncRequest::Stat {
                        kind: StatKind::Stat2,
                        path,
                    },
                    ID_LST2 => SyncRequest::Stat {
                        kind: StatKind::Lstat2,
                        path,
                    },
                    ID_LIST => SyncRequest::List { v2: false, path },
                    ID_LIS2 => SyncRequest::List { v2: true, path },
                    ID_RECV => SyncRequest::Recv { path },
                    ID_QUIT => SyncRequest::Quit,
                    ID_SEND => {
                        let (path, mode) = path.rsplit_once(',').ok_or(SyncError::MissingComma)?;
                        let mode = strtoul(mode).ok_or(SyncError::BadMode)?;
                        self.state = State::Sending;
                        SyncRequest::Send {
                            path: path.to_owned(),
                            mode,
                        }
                    }
                    other => return Err(SyncError::UnknownCommand(other)),
                };
                self.pos += 8 + len;
                Ok(Some(request))
            }
            State::Sending => {
                let Some((req_id, len)) = header(rest) else {
                    return Ok(None);
                };
                match req_id {
                    ID_DATA => {
                        let len = len as usize;
                        if len > SYNC_DATA_MAX {
                            return Err(SyncError::Oversize);
                        }
                        let Some(data) = rest.get(8..8 + len) else {
                            return Ok(None);
                        };
                        let data = data.to_vec();
                        self.pos += 8 + len;
                        Ok(Some(SyncRequest::Data(data)))
                    }
                    ID_DONE => {
                        self.pos += 8;
                        self.state = State::Idle { after_done: true };
                        Ok(Some(SyncRequest::Done { mtime: len }))
                    }
                    _ => Err(SyncError::InvalidDataMessage),
                }
            }
        }
    }
}

fn header(bytes: &[u8]) -> Option<(u32, u32)> {
    let h = bytes.first_chunk::<8>()?;
    Some((
        u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
    ))
}

/// C's `strtoul(s, NULL, 0)` as adbd uses it for the SEND mode: leading blanks and sign,
/// `0x` hex, `0` octal, decimal otherwise; parsing stops at the first bad digit; only
/// overflow is an error. `mode_t` keeps the low 32 bits.
pub fn strtoul(text: &str) -> Option<u32> {
    let s = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.starts_with(|c: char| c.is_ascii_hexdigit()) {
            (16, hex)
        } else {
            (8, s)
        }
    } else if s.starts_with('0') {
        (8, s)
    } else {
        (10, s)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(d))?;
    }
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Some(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn req(tag: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = tag.to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    fn check(chunks: &[Vec<u8>], expect: Expect) {
        let mut d = SyncDecoder::new();
        let mut out = Vec::new();
        'chunks: for c in chunks {
            d.feed(c);
            loop {
                match d.next_request() {
                    Ok(Some(SyncRequest::Data(data))) => out.push(format!("Data({})", data.len())),
                    Ok(Some(r)) => out.push(format!("{r:?}")),
                    Ok(None) => break,
                    Err(e) => {
                        out.push(format!("FAIL {e}"));
                        break 'chunks;
                    }
                }
            }
            out.push("|".into());
        }
        expect.assert_eq(&out.join(" "));
    }

    #[test]
    fn adb_29_push_in_one_wrte() {
        let mut w = req(b"SEND", b"/data/local/tmp/small.txt,33188");
        w.extend(req(b"DATA", b"hello\n"));
        w.extend(b"DONE\x10\x00\x00\x00");
        w.extend(req(b"QUIT", b""));
        check(
            &[w],
            expect![[
                r#"Send { path: "/data/local/tmp/small.txt", mode: 33188 } Data(6) Done { mtime: 16 } Quit |"#
            ]],
        );
    }

    #[test]
    fn adb_client_stat_header_and_path_in_two_wrtes() {
        let w = req(b"STAT", b"/sdcard/x");
        check(
            &[w[..8].to_vec(), w[8..].to_vec()],
            expect![[r#"| Stat { kind: V1, path: "/sdcard/x" } |"#]],
        );
    }

    #[test]
    fn adb_client_server_push_with_64_bit_mtime_and_no_quit() {
        let mut w = req(b"SEND", b"/data/local/tmp/f,0777");
        w.extend(req(b"DATA", &[1; 10]));
        w.extend(b"DONE\x01\x02\x03\x04");
        check(
            &[w, vec![0, 0, 0, 0], req(b"STA2", b"/")],
            expect![[
                r#"Send { path: "/data/local/tmp/f", mode: 511 } Data(10) Done { mtime: 67305985 } | | Stat { kind: Stat2, path: "/" } |"#
            ]],
        );
    }

    #[test]
    fn refusals_carry_adbds_words() {
        check(&[req(b"SEND", b"/x")], expect!["FAIL missing , in ID_SEND"]);
        check(
            &[req(b"ABCD", b"")],
            expect!["FAIL unknown command 44434241"],
        );
        let mut long = b"STAT".to_vec();
        long.extend(1025u32.to_le_bytes());
        check(&[long], expect!["FAIL path too long"]);
        let mut w = req(b"SEND", b"/x,0644");
        w.extend(b"DATA\x01\x00\x01\x00");
        check(
            &[w],
            expect![[r#"Send { path: "/x", mode: 420 } FAIL oversize data message"#]],
        );
        let mut w = req(b"SEND", b"/x,0644");
        w.extend(req(b"STAT", b""));
        check(
            &[w],
            expect![[r#"Send { path: "/x", mode: 420 } FAIL invalid data message"#]],
        );
    }

    #[test]
    fn a_full_64k_chunk_is_allowed() {
        let mut w = req(b"SEND", b"/x,0644");
        w.extend(req(b"DATA", &vec![0; SYNC_DATA_MAX]));
        check(
            &[w],
            expect![[r#"Send { path: "/x", mode: 420 } Data(65536) |"#]],
        );
    }

    #[test]
    fn strtoul_like_c() {
        assert_eq!(strtoul("0777"), Some(0o777));
        assert_eq!(strtoul("33188"), Some(33188));
        assert_eq!(strtoul("0x1ff"), Some(0x1ff));
        assert_eq!(strtoul(""), Some(0));
        assert_eq!(strtoul("12abc"), Some(12));
        assert_eq!(strtoul(" +8"), Some(8));
        assert_eq!(strtoul("99999999999999999999999"), None);
    }
}
