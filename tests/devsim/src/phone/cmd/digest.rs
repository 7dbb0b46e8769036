//! toybox's hash tools: `md5sum`, `sha1sum`, `sha224sum`, `sha256sum`, `sha384sum`,
//! `sha512sum` — `HASH  NAME` per input (`-` for stdin), `-b` for the hash alone, `-c` to
//! check `HASH  NAME` lines (`NAME: OK` / `NAME: FAILED`), `-s` to only set the status.

use sha1::Digest;

use super::{Ctx, toybox};

/// RFC 1321 MD5 (no crate in the workspace provides it).
pub fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(abs(sin(i + 1)) * 2^32).
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_le_bytes());
    for block in msg.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (i, s) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&s.to_le_bytes());
    }
    out
}

/// The hash of `data` by tool name, in lowercase hex.
pub fn hex_digest(tool: &str, data: &[u8]) -> String {
    let bytes: Vec<u8> = match tool {
        "md5sum" => md5(data).to_vec(),
        "sha1sum" => sha1::Sha1::digest(data).to_vec(),
        "sha224sum" => sha2::Sha224::digest(data).to_vec(),
        "sha384sum" => sha2::Sha384::digest(data).to_vec(),
        "sha512sum" => sha2::Sha512::digest(data).to_vec(),
        _ => sha2::Sha256::digest(data).to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `md5sum`/`sha*sum [-bcs] [FILE…]`.
pub fn hashsum(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let tool = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_default();
    let o = match toybox::parse(argv, "bcs", "", false) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("{tool}: {e}"));
            return 1;
        }
    };
    if o.has('b') && o.has('c') {
        ctx.errln(format!("{tool}: No 'b' with 'c' (see \"{tool} --help\")"));
        return 1;
    }
    if o.has('c') {
        return check(ctx, &tool, &o);
    }
    if o.has('s') {
        ctx.errln(format!("{tool}: -s only with -c"));
        return 1;
    }
    let (inputs, failed) = toybox::read_inputs(ctx, &tool, &o.args);
    for (name, data) in inputs {
        let hash = hex_digest(&tool, &data);
        if o.has('b') {
            ctx.outln(hash);
        } else {
            ctx.outln(format!("{hash}  {name}"));
        }
    }
    u8::from(failed)
}

fn check(ctx: &mut Ctx<'_>, tool: &str, o: &toybox::Opts) -> u8 {
    let mut status = 0;
    let (inputs, failed) = toybox::read_inputs(ctx, tool, &o.args);
    for (list, data) in inputs {
        let mut saw = false;
        for line in toybox::lines(&data) {
            let Some((hash, name)) = line
                .split_once(char::is_whitespace)
                .map(|(h, n)| (h, n.trim_start()))
                .filter(|(h, n)| !h.is_empty() && !n.is_empty())
            else {
                ctx.errln(format!("{tool}: bad line {line}"));
                status = 1;
                continue;
            };
            saw = true;
            let actual = if name == "-" {
                let mut d = Vec::new();
                let _ = ctx.stdin.read_to_end(&mut d);
                Some(d)
            } else {
                match ctx.phone.fs().read(&ctx.path(name)) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        ctx.errln(format!("{tool}: {name}: {}", e.message()));
                        None
                    }
                }
            };
            let ok = actual.is_some_and(|d| hex_digest(tool, &d).eq_ignore_ascii_case(hash));
            if !ok {
                status = 1;
            }
            if !o.has('s') {
                ctx.outln(format!("{name}: {}", if ok { "OK" } else { "FAILED" }));
            }
        }
        if !saw {
            ctx.errln(format!("{tool}: {list}: no lines"));
            status = 1;
        }
    }
    status.max(u8::from(failed))
}

#[cfg(test)]
mod tests {
    use super::{hex_digest, md5};

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(
            hex_digest("sha256sum", b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
