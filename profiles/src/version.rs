//! Profile versions: `sha256:` and the first 16 hex digits (64 bits) of the SHA-256 of
//! the canonical form.
//!
//! 64 bits keep versions short enough to read in a console and a log line; a fleet would
//! need about four billion distinct profile versions before two collide by chance.
//! The hashed bytes are a format tag followed by the sorted compact JSON from
//! `canonical.rs`, so formatting, key order and comments in the source never matter and
//! a change of TOML library cannot change a version.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::names::InvalidValue;

/// Bumped only if the canonical encoding itself ever has to change.
const FORMAT_TAG: &[u8] = b"corral-profile/1\n";
const HEX_DIGITS: usize = 16;

/// The version of a resolved profile (or of one device's settings).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version(String);

impl Version {
    /// The version of a canonical JSON encoding.
    pub(crate) fn of_canonical(json: &str) -> Version {
        let mut h = Sha256::new();
        h.update(FORMAT_TAG);
        h.update(json.as_bytes());
        let digest = h.finalize();
        let hex: String = digest
            .iter()
            .take(HEX_DIGITS / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        Version(format!("sha256:{hex}"))
    }

    /// Parses `sha256:` followed by 16 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Version, InvalidValue> {
        let ok = s.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == HEX_DIGITS
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Version(s.to_owned()))
        } else {
            Err(InvalidValue(format!(
                "a profile version is `sha256:` and {HEX_DIGITS} lowercase hex digits"
            )))
        }
    }

    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Version {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Version::parse(&s)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
