//! Host keys and AUTH signatures, as adbd checks them.
//!
//! A host key travels as an `adbkey.pub` line: base64 of the 524-byte `android_pubkey`
//! struct (`u32 modulus_size_words = 64; u32 n0inv; u8 modulus[256] LE; u8 rr[256] LE;
//! u32 exponent`) followed by ` user@host`. A signature is PKCS#1 v1.5 with the SHA-1
//! DigestInfo over the 20-byte token, the token itself standing in for the digest
//! (`RSA_verify(NID_sha1, token, 20, …)`). Pure functions; no I/O.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};

/// Size of an AUTH token in bytes; adb 29 refuses to sign any other size.
pub const TOKEN_SIZE: usize = 20;
/// `AUTH` arg0: the device sends a token to sign.
pub const AUTH_TOKEN: u32 = 1;
/// `AUTH` arg0: the host sends a signature of the token.
pub const AUTH_SIGNATURE: u32 = 2;
/// `AUTH` arg0: the host offers its public key.
pub const AUTH_RSAPUBLICKEY: u32 = 3;

const MODULUS_WORDS: u32 = 64;
const MODULUS_BYTES: usize = 256;
/// Full size of the `android_pubkey` struct.
pub const ANDROID_PUBKEY_LEN: usize = 4 + 4 + MODULUS_BYTES + MODULUS_BYTES + 4;

/// Why a public-key line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The line has no base64 part, or it does not decode.
    #[error("public key is not base64")]
    NotBase64,
    /// The decoded struct is too short or announces another modulus size.
    #[error("public key is not a 2048-bit android_pubkey ({0} bytes)")]
    WrongShape(usize),
    /// The numbers do not form an RSA key.
    #[error("public key is not a valid RSA key")]
    NotRsa,
}

/// Parses an `adbkey.pub` line (trailing NULs and the ` user@host` comment allowed).
///
/// adb_client 3.2.3 writes `rr` without padding it to 256 bytes when its top byte is zero,
/// so the struct can be a little short; the modulus sits at a fixed offset and the
/// exponent is the last word, so such keys are still read (adbd itself would refuse
/// them — a deliberate leniency).
pub fn parse_public_key(line: &str) -> Result<RsaPublicKey, KeyError> {
    let encoded = line
        .trim_end_matches('\0')
        .split_whitespace()
        .next()
        .ok_or(KeyError::NotBase64)?;
    let raw = STANDARD.decode(encoded).map_err(|_| KeyError::NotBase64)?;
    decode_android_pubkey(&raw)
}

/// Decodes the binary `android_pubkey` struct.
pub fn decode_android_pubkey(raw: &[u8]) -> Result<RsaPublicKey, KeyError> {
    let min = 4 + 4 + MODULUS_BYTES + 4;
    if raw.len() < min || raw.len() > ANDROID_PUBKEY_LEN {
        return Err(KeyError::WrongShape(raw.len()));
    }
    let word = |at: usize| u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
    if word(0) != MODULUS_WORDS {
        return Err(KeyError::WrongShape(raw.len()));
    }
    let modulus = BigUint::from_bytes_le(&raw[8..8 + MODULUS_BYTES]);
    let exponent = word(raw.len() - 4);
    RsaPublicKey::new(modulus, BigUint::from(exponent)).map_err(|_| KeyError::NotRsa)
}

/// Encodes a public key as adb writes `adbkey.pub` (without the comment).
pub fn encode_public_key(key: &RsaPublicKey) -> Result<String, KeyError> {
    let n = key.n();
    let e = key.e().to_bytes_le();
    if e.len() > 4 || n.bits() > MODULUS_BYTES * 8 {
        return Err(KeyError::NotRsa);
    }
    let exponent = le_u32(&e);
    let n0 = le_u32(&n.to_bytes_le());
    // n0inv = -1 / n[0] mod 2^32, by Newton's iteration (n0 is odd for an RSA modulus).
    let mut inv: u32 = 1;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
    }
    let n0inv = inv.wrapping_neg();
    let rr = BigUint::from(1u8) << (MODULUS_BYTES * 8 * 2);
    let rr = rr % n;
    let mut out = Vec::with_capacity(ANDROID_PUBKEY_LEN);
    out.extend_from_slice(&MODULUS_WORDS.to_le_bytes());
    out.extend_from_slice(&n0inv.to_le_bytes());
    out.extend_from_slice(&padded_le(n));
    out.extend_from_slice(&padded_le(&rr));
    out.extend_from_slice(&exponent.to_le_bytes());
    Ok(STANDARD.encode(out))
}

/// The low 32 bits of a little-endian number.
fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u32::from_le_bytes(word)
}

fn padded_le(value: &BigUint) -> [u8; MODULUS_BYTES] {
    let mut out = [0u8; MODULUS_BYTES];
    for (dst, src) in out.iter_mut().zip(value.to_bytes_le()) {
        *dst = src;
    }
    out
}

/// True when `signature` is `key`'s PKCS#1 v1.5 SHA-1 signature of `token`.
pub fn verify(key: &RsaPublicKey, token: &[u8], signature: &[u8]) -> bool {
    token.len() == TOKEN_SIZE
        && key
            .verify(Pkcs1v15Sign::new::<sha1::Sha1>(), token, signature)
            .is_ok()
}

/// True when any of the `authorized` key lines verifies `signature`. Unparseable lines
/// are skipped, as adbd skips bad lines of `adb_keys`.
pub fn verify_any<S: AsRef<str>>(authorized: &[S], token: &[u8], signature: &[u8]) -> bool {
    authorized
        .iter()
        .any(|line| parse_public_key(line.as_ref()).is_ok_and(|key| verify(&key, token, signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;

    const ADBKEY: &str = include_str!("testdata/adbkey");
    /// Written by Debian adb 29 (`adb pubkey testdata/adbkey`).
    const ADBKEY_PUB: &str = include_str!("testdata/adbkey.pub");

    fn private_key() -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(ADBKEY).unwrap()
    }

    #[test]
    fn encodes_exactly_what_adb_writes() {
        let ours = encode_public_key(&private_key().to_public_key()).unwrap();
        assert_eq!(ADBKEY_PUB.split_whitespace().next().unwrap(), ours);
        assert_eq!(ADBKEY_PUB.split_whitespace().nth(1), Some("@unknown"));
    }

    #[test]
    fn parses_the_line_adb_sends_and_verifies_its_signature() {
        let key = private_key();
        let token = [7u8; TOKEN_SIZE];
        let sig = key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), &token).unwrap();
        let line = format!("{}\0", ADBKEY_PUB.trim_end());
        let public = parse_public_key(&line).unwrap();
        assert_eq!(public, key.to_public_key());
        assert!(verify(&public, &token, &sig));
        assert!(!verify(&public, &[8u8; TOKEN_SIZE], &sig));
        assert!(!verify(&public, &token[..19], &sig));
        assert!(verify_any(&["garbage", ADBKEY_PUB], &token, &sig));
        assert!(!verify_any::<&str>(&[], &token, &sig));
    }

    #[test]
    fn tolerates_adb_clients_short_rr() {
        let full = STANDARD
            .decode(ADBKEY_PUB.split_whitespace().next().unwrap())
            .unwrap();
        let mut short = full[..ANDROID_PUBKEY_LEN - 5].to_vec();
        short.extend_from_slice(&full[ANDROID_PUBKEY_LEN - 4..]);
        assert_eq!(decode_android_pubkey(&short), decode_android_pubkey(&full));
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse_public_key(""), Err(KeyError::NotBase64));
        assert_eq!(parse_public_key("!!!"), Err(KeyError::NotBase64));
        assert_eq!(parse_public_key("QUFB"), Err(KeyError::WrongShape(3)));
        let zeros = STANDARD.encode([0u8; ANDROID_PUBKEY_LEN]);
        assert_eq!(
            parse_public_key(&zeros),
            Err(KeyError::WrongShape(ANDROID_PUBKEY_LEN))
        );
    }
}
