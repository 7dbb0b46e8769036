//! Secrets: enrollment tokens, API tokens, session tokens and passwords — how they are
//! generated, shown once, parsed back and hashed for storage.
//!
//! Bearer tokens have the form `<kind>-<prefix>.<secret>`: a 12-hex-digit prefix that the
//! store looks rows up by, and 256 random bits (43 base64url characters) of which only a
//! SHA-256 is stored (high-entropy secrets need no slow hash). Passwords are hashed with
//! argon2id (m = 19456 KiB, t = 2, p = 1). Secret values never appear in `Debug` output.

use std::fmt;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use super::{ParseError, hex};

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The public, non-secret part of a bearer token: what rows are looked up by and what logs
/// may show.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenPrefix(String);

impl TokenPrefix {
    /// Parses 12 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() == 12
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(ParseError::new(
                "token prefix",
                "expected 12 lowercase hex digits",
            ));
        }
        Ok(TokenPrefix(s.to_owned()))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// SHA-256 (lowercase hex) of a secret: the only form in which secrets are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Hashes a secret.
    pub fn of(secret: &str) -> Self {
        SecretHash(sha256_hex(secret.as_bytes()))
    }

    /// The hash as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shared shape of bearer tokens; `KIND` is the marker before the prefix.
#[derive(Clone, PartialEq, Eq)]
struct Bearer {
    prefix: TokenPrefix,
    secret: String,
}

const SECRET_LEN: usize = 43;

impl Bearer {
    fn generate() -> Self {
        let mut id = [0u8; 6];
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut id);
        OsRng.fill_bytes(&mut secret);
        Bearer {
            prefix: TokenPrefix(hex(&id)),
            secret: URL_SAFE_NO_PAD.encode(secret),
        }
    }

    fn parse(kind: &str, what: &'static str, s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let rest = s
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('-'))
            .ok_or_else(|| ParseError::new(what, format!("must start with `{kind}-`")))?;
        let (prefix, secret) = rest
            .split_once('.')
            .ok_or_else(|| ParseError::new(what, "missing `.` separator"))?;
        let prefix = TokenPrefix::parse(prefix).map_err(|e| ParseError::new(what, e.reason))?;
        let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if secret.len() != SECRET_LEN || !secret.bytes().all(b64) {
            return Err(ParseError::new(what, "the secret part is malformed"));
        }
        Ok(Bearer {
            prefix,
            secret: secret.to_owned(),
        })
    }

    fn reveal(&self, kind: &str) -> String {
        format!("{kind}-{}.{}", self.prefix, self.secret)
    }
}

/// Declares a bearer token type with a `kind` marker.
macro_rules! bearer_token {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Bearer);

        impl $name {
            /// A fresh token with 256 random bits of secret.
            pub fn generate() -> Self {
                $name(Bearer::generate())
            }

            /// Parses the text a user or device presents.
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Bearer::parse($kind, $what, s).map($name)
            }

            /// The lookup prefix (not secret).
            pub fn prefix(&self) -> &TokenPrefix {
                &self.0.prefix
            }

            /// What the store keeps instead of the secret.
            pub fn secret_hash(&self) -> SecretHash {
                SecretHash::of(&self.0.secret)
            }

            /// The full token text, to be shown exactly once.
            pub fn reveal(&self) -> String {
                self.0.reveal($kind)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({}-{}.…)", stringify!($name), $kind, self.0.prefix)
            }
        }
    };
}

bearer_token!(
    /// A single-use enrollment token, `enr-<prefix>.<secret>`, bound to a profile or group.
    EnrollmentTokenSecret, "enr", "enrollment token"
);
bearer_token!(
    /// An API token for the CLI and REST API, `api-<prefix>.<secret>`, sent as
    /// `Authorization: Bearer …`.
    ApiToken, "api", "API token"
);
bearer_token!(
    /// A consent link's token, `cns-<prefix>.<secret>`: the last path segment of the
    /// public double opt-in page `/consent/{token}` (issue 7). URL-safe as it stands.
    ConsentLinkToken, "cns", "consent link"
);
bearer_token!(
    /// A console session token, `ses-<prefix>.<secret>`, carried in the session cookie.
    SessionToken, "ses", "session token"
);

/// A password in the clear; only ever held briefly to hash or verify it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// A generated password: 24 characters from a 62-letter alphabet (~143 bits).
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(24);
        while out.len() < 24 {
            let mut b = [0u8; 1];
            OsRng.fill_bytes(&mut b);
            // Rejection sampling keeps the distribution uniform: 248 = 4 × 62.
            if usize::from(b[0]) < 248 {
                out.push(ALPHABET[usize::from(b[0]) % 62] as char);
            }
        }
        Password(out)
    }

    /// A password a person typed: 8 to 128 characters.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n = s.chars().count();
        if !(8..=128).contains(&n) {
            return Err(ParseError::new(
                "password",
                "must be 8 to 128 characters long",
            ));
        }
        Ok(Password(s.to_owned()))
    }

    /// The password text, to be shown exactly once (for generated passwords).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// An argon2id hash in PHC string format.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

fn argon2id() -> Argon2<'static> {
    // ASVS 5.0 Appendix C minimum for t = 2: m ≥ 19456 KiB. These are argon2's defaults,
    // spelled out so a dependency upgrade cannot weaken them silently.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHash {
    /// Hashes `password` with a fresh salt. CPU-heavy (tens of milliseconds): call it from
    /// `spawn_blocking` in request handlers.
    pub fn create(password: &Password) -> Result<Self, ParseError> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2id()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|h| PasswordHash(h.to_string()))
            .map_err(|e| ParseError::new("password", e.to_string()))
    }

    /// A stored PHC string.
    pub fn from_phc(s: &str) -> Result<Self, ParseError> {
        argon2::password_hash::PasswordHash::new(s)
            .map_err(|e| ParseError::new("password hash", e.to_string()))?;
        Ok(PasswordHash(s.to_owned()))
    }

    /// Whether `password` matches. Same cost for a wrong password as for a right one.
    pub fn verify(&self, password: &Password) -> bool {
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => argon2id()
                .verify_password(password.0.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string (safe to store; not a secret in itself).
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_their_text_form() {
        let t = EnrollmentTokenSecret::generate();
        let text = t.reveal();
        assert!(text.starts_with("enr-"), "{text}");
        let back = EnrollmentTokenSecret::parse(&text).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.secret_hash(), t.secret_hash());
        // 256 bits of secret: 32 bytes in unpadded base64url.
        assert_eq!(text.split_once('.').unwrap().1.len(), 43);
    }

    #[test]
    fn tokens_of_one_kind_are_not_accepted_as_another() {
        let api = ApiToken::generate().reveal();
        let err = EnrollmentTokenSecret::parse(&api).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid enrollment token: must start with `enr-`"
        );
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        let cases = [
            ("enr-abc", "missing `.` separator"),
            ("enr-ABCDEF123456.x", "expected 12 lowercase hex digits"),
            ("enr-abcdef123456.short", "the secret part is malformed"),
        ];
        for (input, reason) in cases {
            assert_eq!(
                EnrollmentTokenSecret::parse(input).unwrap_err().reason,
                reason,
                "{input}"
            );
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let t = ApiToken::generate();
        let secret = t.reveal().split_once('.').unwrap().1.to_owned();
        assert!(!format!("{t:?}").contains(&secret));
        let p = Password::generate();
        assert_eq!(format!("{p:?}"), "Password(…)");
    }

    #[test]
    fn passwords_hash_with_argon2id_at_asvs_parameters() {
        let p = Password::generate();
        assert_eq!(p.reveal().len(), 24);
        let h = PasswordHash::create(&p).unwrap();
        assert!(
            h.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.as_phc()
        );
        assert!(h.verify(&p));
        assert!(!h.verify(&Password::parse("not the password").unwrap()));
    }
}
