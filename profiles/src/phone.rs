//! Phone numbers in E.164 form, parsed and checked with libphonenumber's metadata (the
//! `phonenumber` crate).
//!
//! A [`PhoneNumber`] only ever holds a valid number in E.164 form (`+4930123456`), so two
//! spellings of one number compare equal. Parsing is the slow part (regular expressions
//! from the metadata); the planner never parses, it compares these normalised strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a phone number was refused; the message is meant for the profile author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Letters or other characters that never appear in a phone number.
    #[error(
        "`{0}` is not a phone number: only digits, spaces, `+`, `-`, `.`, `/` and brackets may appear"
    )]
    NotANumber(String),
    /// A national number without a country to read it in.
    #[error("`{0}` has no country code")]
    NeedsRegion(String),
    /// Parsed, but no such number can exist in its country's numbering plan.
    #[error("`{0}` is not a valid number{1}")]
    Invalid(String, String),
}

/// A country (ISO 3166-1 alpha-2 code such as `DE`) in which national numbers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    /// Parses a two-letter country code (case-insensitive).
    pub fn parse(code: &str) -> Option<Region> {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        code.to_ascii_uppercase().parse().ok().map(Region)
    }

    /// The upper-case two-letter code.
    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }
}

/// A valid phone number in E.164 form: `+`, country code, national number, no spaces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses `input` as written by a person. National numbers (`030 1234567`) need
    /// `region`; international ones (`+49 30 1234567`) do not.
    pub fn parse(input: &str, region: Option<Region>) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        let allowed = |c: char| c.is_ascii_digit() || " +-()./\u{a0}".contains(c);
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        // Guard the library from input it was never meant for: only number-like text of
        // a plausible length reaches it.
        if trimmed.is_empty() || trimmed.len() > 40 || !trimmed.chars().all(allowed) || digits == 0
        {
            return Err(PhoneError::NotANumber(input.to_owned()));
        }
        if !trimmed.starts_with('+') && region.is_none() {
            return Err(PhoneError::NeedsRegion(input.to_owned()));
        }
        let parsed = phonenumber::parse(region.map(|r| r.0), trimmed)
            .map_err(|e| PhoneError::Invalid(input.to_owned(), format!(": {e}")))?;
        if !phonenumber::is_valid(&parsed) {
            let country = match parsed.country().id() {
                Some(id) => format!(" in {id:?} (country code +{})", parsed.code().value()),
                None => format!(" for country code +{}", parsed.code().value()),
            };
            return Err(PhoneError::Invalid(input.to_owned(), country));
        }
        Ok(PhoneNumber(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// The E.164 form, e.g. `+4930123456`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the leading `+`.
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, PhoneError> {
        PhoneNumber::parse(&s, None)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
