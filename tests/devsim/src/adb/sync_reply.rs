//! Replies of the `sync:` service, byte for byte as adbd writes them
//! (`file_sync_protocol.h`: packed little-endian structs).
//!
//! Pure; no I/O.

use super::sync::{ID_DATA, ID_DONE};

const ID_OKAY: &[u8; 4] = b"OKAY";
const ID_FAIL: &[u8; 4] = b"FAIL";
const ID_DENT: &[u8; 4] = b"DENT";
const ID_DNT2: &[u8; 4] = b"DNT2";

/// Size of a `stat_v1` reply.
pub const STAT_V1_LEN: usize = 16;
/// Size of a `stat_v2` reply.
pub const STAT_V2_LEN: usize = 72;
/// Size of a `dent_v1` record before the name.
pub const DENT_V1_LEN: usize = 20;
/// Size of a `dent_v2` record before the name.
pub const DENT_V2_LEN: usize = 76;
/// Size of a DATA/DONE/OKAY/FAIL header.
pub const DATA_HEADER_LEN: usize = 8;

/// The `struct stat` fields the sync protocol carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireStat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
}

/// `STAT` reply: mode, size, mtime; all zero when the path does not exist.
pub fn stat_v1(stat: Option<&WireStat>) -> Vec<u8> {
    let st = stat.copied().unwrap_or_default();
    let mut out = Vec::with_capacity(STAT_V1_LEN);
    out.extend_from_slice(b"STAT");
    out.extend_from_slice(&st.mode.to_le_bytes());
    out.extend_from_slice(&(st.size as u32).to_le_bytes());
    out.extend_from_slice(&(st.mtime as u32).to_le_bytes());
    out
}

/// `STA2`/`LST2` reply (`id` echoes the request): the error is the errno, the rest zero.
pub fn stat_v2(id: u32, stat: Result<&WireStat, i32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(STAT_V2_LEN);
    out.extend_from_slice(&id.to_le_bytes());
    push_stat_v2(&mut out, stat);
    out
}

fn push_stat_v2(out: &mut Vec<u8>, stat: Result<&WireStat, i32>) {
    let (error, st) = match stat {
        Ok(st) => (0u32, *st),
        Err(errno) => (errno as u32, WireStat::default()),
    };
    out.extend_from_slice(&error.to_le_bytes());
    out.extend_from_slice(&st.dev.to_le_bytes());
    out.extend_from_slice(&st.ino.to_le_bytes());
    out.extend_from_slice(&st.mode.to_le_bytes());
    out.extend_from_slice(&st.nlink.to_le_bytes());
    out.extend_from_slice(&st.uid.to_le_bytes());
    out.extend_from_slice(&st.gid.to_le_bytes());
    out.extend_from_slice(&st.size.to_le_bytes());
    out.extend_from_slice(&st.atime.to_le_bytes());
    out.extend_from_slice(&st.mtime.to_le_bytes());
    out.extend_from_slice(&st.ctime.to_le_bytes());
}

/// One `LIST` entry.
pub fn dent_v1(out: &mut Vec<u8>, name: &str, st: &WireStat) {
    out.extend_from_slice(ID_DENT);
    out.extend_from_slice(&st.mode.to_le_bytes());
    out.extend_from_slice(&(st.size as u32).to_le_bytes());
    out.extend_from_slice(&(st.mtime as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
}

/// One `LIS2` entry.
pub fn dent_v2(out: &mut Vec<u8>, name: &str, stat: Result<&WireStat, i32>) {
    out.extend_from_slice(ID_DNT2);
    push_stat_v2(out, stat);
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
}

/// The `DONE` record ending a listing: a zeroed entry of the listing's size.
pub fn list_done(out: &mut Vec<u8>, v2: bool) {
    out.extend_from_slice(&ID_DONE.to_le_bytes());
    let len = if v2 { DENT_V2_LEN } else { DENT_V1_LEN };
    out.resize(out.len() + len - 4, 0);
}

/// Header of a DATA chunk of `len` bytes.
pub fn data_header(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&ID_DATA.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

/// `DONE` ending a RECV.
pub fn recv_done(out: &mut Vec<u8>) {
    out.extend_from_slice(&ID_DONE.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
}

/// `OKAY` ending a successful SEND.
pub fn okay() -> Vec<u8> {
    let mut out = ID_OKAY.to_vec();
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// `FAIL` with adbd's message.
pub fn fail(message: &str) -> Vec<u8> {
    let mut out = ID_FAIL.to_vec();
    out.extend_from_slice(&(message.len() as u32).to_le_bytes());
    out.extend_from_slice(message.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adb::sync::ID_STA2;

    #[test]
    fn record_sizes_match_adbd_structs() {
        let st = WireStat {
            mode: 0o40771,
            size: 3,
            mtime: 5,
            ..WireStat::default()
        };
        assert_eq!(
            stat_v1(Some(&st)),
            b"STAT\xf9\x41\x00\x00\x03\x00\x00\x00\x05\x00\x00\x00"
        );
        assert_eq!(stat_v1(None), b"STAT\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(stat_v2(ID_STA2, Ok(&st)).len(), STAT_V2_LEN);
        let missing = stat_v2(ID_STA2, Err(2));
        assert_eq!(&missing[..8], b"STA2\x02\x00\x00\x00");
        assert!(missing[8..].iter().all(|&b| b == 0));
        let mut v = Vec::new();
        dent_v1(&mut v, "ab", &st);
        assert_eq!(v.len(), DENT_V1_LEN + 2);
        v.clear();
        dent_v2(&mut v, "ab", Ok(&st));
        assert_eq!(v.len(), DENT_V2_LEN + 2);
        v.clear();
        list_done(&mut v, false);
        assert_eq!(v, b"DONE\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        v.clear();
        list_done(&mut v, true);
        assert_eq!(v.len(), DENT_V2_LEN);
        assert_eq!(fail("no"), b"FAIL\x02\x00\x00\x00no");
        assert_eq!(okay(), b"OKAY\0\0\0\0");
    }
}
