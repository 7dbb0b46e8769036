//! The contact book's domain: who may be on a company phone and on what lawful basis.
//!
//! Owns: what a valid contact (name, E.164 number, optional company, groups) and a lawful
//! basis (consent with its exact wording, version, time, channel and recorder; contract;
//! legitimate interest with a note) are, and the keyed pseudonym that stands for a person
//! in audit entries and after erasure.
//! Must never: hold anything about a person beyond these fields (minimisation), or put a
//! name or number where a [`Pseudonym`] belongs.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use corral_profiles::{GroupName as ContactGroupName, PhoneNumber};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use super::{ParseError, Timestamp};

/// A contact book group (the `contacts.groups` a profile references).
pub type ContactGroup = ContactGroupName;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A contact's id: 32 lowercase hex digits, random.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactId(String);

impl ContactId {
    /// A new random id.
    pub fn generate() -> Self {
        let mut b = [0u8; 16];
        OsRng.fill_bytes(&mut b);
        ContactId(hex(&b))
    }

    /// Parses 32 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(ContactId(s.to_owned()))
        } else {
            Err(ParseError::new(
                "contact id",
                "must be 32 lowercase hex digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ContactId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        ContactId::parse(s)
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short text a person typed (a name, a company, a note): trimmed, 1 to `max`
/// characters, no control characters.
fn short_text(what: &'static str, s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::new(what, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(ParseError::new(
            what,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(ParseError::new(
            what,
            "must not contain control characters (line breaks, tabs)",
        ));
    }
    Ok(t.to_owned())
}

/// A display name as written to the phone: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactName(String);

impl ContactName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        short_text("name", s, 100).map(ContactName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A company name: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CompanyName(String);

impl CompanyName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        short_text("company", s, 100).map(CompanyName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Consent as recorded (Art. 7(1): the controller must be able to show it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The exact wording the person agreed to.
    pub wording: String,
    /// Which version of the wording that was, e.g. `2026-11`.
    pub wording_version: String,
    /// When the person agreed.
    pub at: Timestamp,
    /// How: `paper form`, `consent link`, `in person`, …
    pub channel: String,
    /// Who recorded it (`user:<name>`, or `link` for a confirmed consent link).
    pub recorded_by: String,
}

impl Consent {
    /// Checks the parts a person typed.
    pub fn new(
        wording: &str,
        wording_version: &str,
        at: Timestamp,
        channel: &str,
        recorded_by: &str,
    ) -> Result<Self, ParseError> {
        let wording = wording.trim();
        if wording.is_empty() || wording.chars().count() > 4000 {
            return Err(ParseError::new(
                "consent wording",
                "must be the exact text shown, 1 to 4000 characters",
            ));
        }
        Ok(Consent {
            wording: wording.to_owned(),
            wording_version: short_text("consent wording version", wording_version, 40)?,
            at,
            channel: short_text("consent channel", channel, 60)?,
            recorded_by: short_text("consent recorder", recorded_by, 100)?,
        })
    }
}

/// The GDPR Art. 6 basis a contact is processed on. A contact without one never reaches a
/// phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    Consent(Consent),
    Contract,
    LegitimateInterest {
        /// The balancing of interests, in a sentence or two.
        note: String,
    },
}

impl Basis {
    /// A legitimate-interest basis with its note checked.
    pub fn legitimate_interest(note: &str) -> Result<Self, ParseError> {
        Ok(Basis::LegitimateInterest {
            note: short_text("legitimate interest note", note, 1000)?,
        })
    }

    /// `consent`, `contract` or `legitimate_interest`.
    pub fn kind(&self) -> &'static str {
        match self {
            Basis::Consent(_) => "consent",
            Basis::Contract => "contract",
            Basis::LegitimateInterest { .. } => "legitimate_interest",
        }
    }

    /// The profiles crate's view of it.
    pub fn lawful_basis(&self) -> corral_profiles::LawfulBasis {
        match self {
            Basis::Consent(_) => corral_profiles::LawfulBasis::Consent,
            Basis::Contract => corral_profiles::LawfulBasis::Contract,
            Basis::LegitimateInterest { .. } => corral_profiles::LawfulBasis::LegitimateInterest,
        }
    }
}

/// What a contact is made of, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDraft {
    pub name: ContactName,
    pub number: PhoneNumber,
    pub company: Option<CompanyName>,
    pub groups: BTreeSet<ContactGroup>,
    pub basis: Option<Basis>,
}

/// A contact in the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    /// Stands for the person in audit entries; survives erasure there.
    pub pseudonym: Pseudonym,
    pub name: ContactName,
    pub number: PhoneNumber,
    pub company: Option<CompanyName>,
    pub groups: BTreeSet<ContactGroup>,
    pub basis: Option<Basis>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A contact group with how many contacts it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactGroupSummary {
    pub name: ContactGroup,
    pub description: String,
    /// Members in total.
    pub members: u64,
    /// Members with a lawful basis (the ones that reach phones).
    pub with_basis: u64,
    pub created_at: Timestamp,
}

/// A keyed hash of a person's number: `p-` and 32 hex digits. Equal numbers give equal
/// pseudonyms under one key, so the audit trail of one person stays linkable, while the
/// number cannot be read back without the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pseudonym(String);

impl Pseudonym {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored pseudonym, as read back.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.strip_prefix("p-") {
            Some(h) if h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Pseudonym(s.to_owned()))
            }
            _ => Err(ParseError::new(
                "pseudonym",
                "must be `p-` and 32 hex digits",
            )),
        }
    }
}

impl FromStr for Pseudonym {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Pseudonym::parse(s)
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The server secret pseudonyms are keyed with (HMAC-SHA256). `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey([u8; 32]);

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
}

impl PseudonymKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut b = [0u8; 32];
        OsRng.fill_bytes(&mut b);
        PseudonymKey(b)
    }

    /// The key as stored: 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A stored key.
    pub fn from_hex(s: &str) -> Result<Self, ParseError> {
        let err = || ParseError::new("pseudonym key", "must be 64 hex digits");
        if s.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = s.get(2 * i..2 * i + 2).ok_or_else(err)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| err())?;
        }
        Ok(PseudonymKey(out))
    }

    /// The pseudonym of the person with `number`.
    pub fn pseudonym(&self, number: &PhoneNumber) -> Pseudonym {
        let mac = hmac_sha256(&self.0, number.as_str().as_bytes());
        Pseudonym(format!("p-{}", hex(&mac[..16])))
    }
}

/// HMAC-SHA256 (RFC 2104) over sha2, the hash the crate already uses.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hmac_matches_a_reference_implementation() {
        // Python: hmac.new(b'\x0b' * 32, b'Hi There', hashlib.sha256).hexdigest()
        let key = [0x0bu8; 32];
        let mac = hmac_sha256(&key, b"Hi There");
        assert_eq!(
            hex(&mac),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let n = PhoneNumber::parse("+49 30 12345678", None).unwrap();
        let k = PseudonymKey::generate();
        assert_eq!(k.pseudonym(&n), k.pseudonym(&n));
        assert_ne!(k.pseudonym(&n), PseudonymKey::generate().pseudonym(&n));
        assert!(!k.pseudonym(&n).as_str().contains("12345678"));
        let back = PseudonymKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(back.pseudonym(&n), k.pseudonym(&n));
        assert_eq!(
            Pseudonym::parse(k.pseudonym(&n).as_str()).unwrap(),
            k.pseudonym(&n)
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ContactName::parse("  Anna  ").unwrap().as_str(), "Anna");
        assert!(ContactName::parse("").is_err());
        assert!(ContactName::parse("a\nb").is_err());
        assert!(ContactName::parse(&"x".repeat(101)).is_err());
        assert!(ContactId::parse("0123456789abcdef0123456789abcdef").is_ok());
        assert!(ContactId::parse("0123456789ABCDEF0123456789abcdef").is_err());
    }
}
