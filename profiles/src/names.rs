//! Parse-don't-validate names: profile, package, permission, device serial, contact group,
//! SHA-256 digest and agent intervals.
//!
//! Each type can only hold a valid value; [`InvalidValue`] explains what is wrong in words
//! a profile author can act on. This module knows nothing about files or positions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that does not have the required shape; the message says what the shape is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid<T>(msg: impl Into<String>) -> Result<T, InvalidValue> {
    Err(InvalidValue(msg.into()))
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and checks `s`.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                $check(s).map(Self)
            }

            /// The value as written (already normalised).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A profile's `name`: lowercase letters, digits and `-`, starting with a letter or digit,
    /// at most 63 characters. Other profiles refer to it in `extends`.
    ProfileName,
    check_profile_name
);
name_type!(
    /// An Android application id such as `com.whatsapp.w4b`.
    PackageName,
    check_package_name
);
name_type!(
    /// A runtime permission such as `android.permission.READ_CONTACTS`.
    Permission,
    check_permission
);
name_type!(
    /// A device serial as ADB reports it (`R58M123ABC`, `192.168.1.20:5555`).
    DeviceSerial,
    check_serial
);
name_type!(
    /// A group (tag) of the controller's contact book, such as `staff`.
    GroupName,
    check_group
);
name_type!(
    /// A SHA-256 digest as 64 lowercase hex digits (upper case is accepted and lowered).
    Sha256Hex,
    check_sha256
);

fn check_profile_name(s: &str) -> Result<String, InvalidValue> {
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_start = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(1..=63).contains(&s.len()) || !ok_chars || !ok_start {
        let lowered: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let trimmed = lowered.trim_matches('-');
        let example = match &trimmed[..trimmed.len().min(63)] {
            "" => "shop-staff",
            t => t,
        };
        return invalid(format!(
            "a profile name is 1 to 63 lowercase letters, digits and `-`, like `{example}`"
        ));
    }
    Ok(s.to_owned())
}

/// Android's rule for application ids: at least two `.`-separated segments, each starting
/// with a letter and made of letters, digits and `_`.
fn check_package_name(s: &str) -> Result<String, InvalidValue> {
    if s.is_empty() {
        return invalid("a package name cannot be empty");
    }
    if s.len() > 255 {
        return invalid("a package name is at most 255 characters");
    }
    let segments: Vec<&str> = s.split('.').collect();
    if segments.len() < 2 {
        return invalid(format!(
            "a package name has at least two `.`-separated parts, like `com.{}`",
            s.to_ascii_lowercase()
        ));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return invalid("a package name has no empty parts: no `..` and no `.` at either end");
    }
    for seg in &segments {
        let first_ok = seg.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !first_ok || !rest_ok {
            return invalid(format!(
                "each part of a package name starts with a letter and has only letters, digits and `_`; `{seg}` does not"
            ));
        }
    }
    Ok(s.to_owned())
}

fn check_permission(s: &str) -> Result<String, InvalidValue> {
    if !s.contains('.') && !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return invalid(format!(
            "a permission is written with its package, like `android.permission.{s}`"
        ));
    }
    check_package_name(s).map_err(|_| {
        InvalidValue(
            "a permission is a dotted name, like `android.permission.READ_CONTACTS`".into(),
        )
    })
}

fn check_serial(s: &str) -> Result<String, InvalidValue> {
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if !ok {
        return invalid("a device serial is 1 to 64 letters, digits, `.`, `_`, `:` or `-`");
    }
    Ok(s.to_owned())
}

fn check_group(s: &str) -> Result<String, InvalidValue> {
    let ok = (1..=64).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.- ".contains(&b));
    if !ok {
        return invalid(
            "a contact group is 1 to 64 letters, digits, `_`, `.`, `-` or spaces, starting with a letter or digit",
        );
    }
    Ok(s.to_owned())
}

fn check_sha256(s: &str) -> Result<String, InvalidValue> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return invalid(format!(
            "a SHA-256 digest is 64 hex digits (`sha256sum FILE` prints it); this has {} characters",
            s.chars().count()
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// A period the agent waits, written `30s`, `15m` or `2h`.
///
/// Shown in the largest unit that divides it exactly, so `90s` stays `90s` and `3600s`
/// becomes `1h` in the canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Interval {
    seconds: u32,
}

impl Interval {
    /// An interval of `seconds` seconds.
    pub const fn from_secs(seconds: u32) -> Self {
        Interval { seconds }
    }

    /// Length in seconds.
    pub fn as_secs(self) -> u32 {
        self.seconds
    }

    /// Parses `<number><unit>` with unit `s`, `m` or `h`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let hint = "an interval is a whole number and a unit: `30s`, `15m` or `2h`";
        let Some(unit) = s.chars().last() else {
            return invalid(hint);
        };
        let factor = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return invalid(hint),
        };
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return invalid(hint);
        }
        let n: u32 = digits.parse().map_err(|_| InvalidValue(hint.into()))?;
        match n.checked_mul(factor) {
            Some(seconds) => Ok(Interval { seconds }),
            None => invalid("that interval is too long"),
        }
    }
}

impl TryFrom<String> for Interval {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Interval::parse(&s)
    }
}

impl From<Interval> for String {
    fn from(v: Interval) -> String {
        v.to_string()
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s != 0 && s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s != 0 && s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_ascii_lowercase(), c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}
