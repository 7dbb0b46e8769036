//! The outbox file's record format, and reading a file back after a crash. Pure.
//!
//! A record is `len: u32 LE`, `crc32(payload): u32 LE`, then `len` payload bytes (one
//! JSON document). Records are only ever appended and fsync'd one by one, so after a
//! `kill -9` or power loss only the **last** record can be incomplete: reading stops at the
//! first record whose length runs past the end, whose checksum does not match, or whose
//! length is absurd, and everything from there on is the torn tail to cut off.

/// Bytes before a record's payload.
pub const HEADER: usize = 8;
/// The largest payload accepted (a report as large as the largest frame).
pub const MAX_PAYLOAD: usize = corral_wire::MAX_FRAME_LEN;

/// The record for `payload`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// What reading a file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    /// Every intact record's payload, in order.
    pub payloads: Vec<&'a [u8]>,
    /// Bytes of intact records; the file should be cut to this length.
    pub valid_len: usize,
    /// Why reading stopped before the end, if it did.
    pub torn: Option<String>,
}

/// Reads every intact record of `bytes`.
pub fn scan(bytes: &[u8]) -> Scan<'_> {
    let mut payloads = Vec::new();
    let mut at = 0;
    let torn = loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break None;
        }
        let Some(header) = rest.first_chunk::<HEADER>() else {
            break Some(format!("a record header cut short at byte {at}"));
        };
        let (len, crc) = header.split_at(4);
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if len > MAX_PAYLOAD {
            break Some(format!("a record of {len} bytes at byte {at}"));
        }
        let Some(payload) = rest.get(HEADER..HEADER + len) else {
            break Some(format!("a record cut short at byte {at}"));
        };
        if crc32(payload) != crc {
            break Some(format!("a record with a bad checksum at byte {at}"));
        }
        payloads.push(payload);
        at += HEADER + len;
    };
    Scan {
        payloads,
        valid_len: at,
        torn,
    }
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE 802.3, as zlib).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in data {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn every_cut_keeps_exactly_the_whole_records() {
        let mut file = Vec::new();
        let payloads: Vec<Vec<u8>> = (0..5)
            .map(|i| format!("{{\"n\":{i}}}").into_bytes())
            .collect();
        let mut ends = Vec::new();
        for p in &payloads {
            file.extend(encode(p));
            ends.push(file.len());
        }
        for cut in 0..=file.len() {
            let s = scan(&file[..cut]);
            let whole = ends.iter().filter(|e| **e <= cut).count();
            assert_eq!(s.payloads.len(), whole, "cut at {cut}");
            assert_eq!(s.valid_len, if whole == 0 { 0 } else { ends[whole - 1] });
            assert_eq!(s.torn.is_some(), cut != s.valid_len);
        }
    }

    #[test]
    fn a_flipped_byte_stops_reading_there() {
        let mut file = Vec::new();
        file.extend(encode(b"first"));
        let second = file.len();
        file.extend(encode(b"second"));
        file.extend(encode(b"third"));
        file[second + HEADER + 2] ^= 0x40;
        let s = scan(&file);
        assert_eq!(s.payloads, vec![b"first".as_slice()]);
        assert_eq!(s.valid_len, second);
        assert!(s.torn.unwrap_or_default().contains("checksum"));
    }

    #[test]
    fn absurd_lengths_do_not_allocate() {
        let mut file = vec![0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
        file.extend([1, 2, 3]);
        let s = scan(&file);
        assert!(s.payloads.is_empty());
        assert!(s.torn.is_some());
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let s = scan(&bytes);
            prop_assert!(s.valid_len <= bytes.len());
        }
    }
}
