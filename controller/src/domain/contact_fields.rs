//! A contact as a person typed it (a form, a JSON body, an import row) and its checking:
//! every field's problem at once, each naming the field and what is wrong, so the REST
//! API, the console and the importers report alike.

use std::collections::BTreeSet;

use corral_profiles::{PhoneNumber, Region};

use super::Timestamp;
use super::contacts::{Basis, CompanyName, Consent, ContactDraft, ContactGroup, ContactName};

/// The lawful basis as typed: its kind and the fields that kind needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasisFields {
    /// `consent`, `contract`, `legitimate_interest`, or empty for none.
    pub kind: String,
    /// Consent: the exact wording.
    pub wording: String,
    /// Consent: the wording's version.
    pub wording_version: String,
    /// Consent: how it was given.
    pub channel: String,
    /// Legitimate interest: the note.
    pub note: String,
}

/// A contact as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    pub name: String,
    pub number: String,
    /// Country for national numbers (`DE`); empty: the number must start with `+`.
    pub region: String,
    pub company: String,
    pub groups: Vec<String>,
    pub basis: BasisFields,
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field, as the caller names it (`name`, `number`, `basis.wording`, …).
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl ContactFields {
    /// The contact, or every field's problem. A consent basis is recorded as given `now`
    /// and recorded by `recorder` (`user:<name>`).
    pub fn to_draft(
        &self,
        recorder: &str,
        now: Timestamp,
    ) -> Result<ContactDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = ContactName::parse(&self.name)
            .map_err(|e| errors.push(FieldError::new("name", e.reason)))
            .ok();
        let region = match self.region.trim() {
            "" => None,
            code => match Region::parse(code) {
                Some(r) => Some(r),
                None => {
                    errors.push(FieldError::new(
                        "region",
                        format!("`{code}` is not a two-letter country code such as DE"),
                    ));
                    None
                }
            },
        };
        let number = PhoneNumber::parse(&self.number, region)
            .map_err(|e| errors.push(FieldError::new("number", e.to_string())))
            .ok();
        let company = match self.company.trim() {
            "" => None,
            c => CompanyName::parse(c)
                .map_err(|e| errors.push(FieldError::new("company", e.reason)))
                .ok(),
        };
        let mut groups = BTreeSet::new();
        for g in &self.groups {
            match ContactGroup::parse(g.trim()) {
                Ok(g) => {
                    groups.insert(g);
                }
                Err(e) => errors.push(FieldError::new("groups", format!("`{g}`: {e}"))),
            }
        }
        let basis = self.basis.to_basis(recorder, now, &mut errors);
        match (name, number, errors.is_empty()) {
            (Some(name), Some(number), true) => Ok(ContactDraft {
                name,
                number,
                company,
                groups,
                basis,
            }),
            _ => Err(errors),
        }
    }
}

impl BasisFields {
    fn to_basis(
        &self,
        recorder: &str,
        now: Timestamp,
        errors: &mut Vec<FieldError>,
    ) -> Option<Basis> {
        match self.kind.trim() {
            "" | "none" => None,
            "contract" => Some(Basis::Contract),
            "legitimate_interest" => Basis::legitimate_interest(&self.note)
                .map_err(|e| errors.push(FieldError::new("basis.note", e.reason)))
                .ok(),
            "consent" => {
                let before = errors.len();
                if self.wording.trim().is_empty() {
                    errors.push(FieldError::new(
                        "basis.wording",
                        "consent needs the exact wording the person agreed to",
                    ));
                }
                if self.wording_version.trim().is_empty() {
                    errors.push(FieldError::new(
                        "basis.wording_version",
                        "consent needs the wording's version",
                    ));
                }
                if self.channel.trim().is_empty() {
                    errors.push(FieldError::new(
                        "basis.channel",
                        "consent needs the channel it was given through (e.g. paper form)",
                    ));
                }
                if errors.len() > before {
                    return None;
                }
                Consent::new(
                    &self.wording,
                    &self.wording_version,
                    now,
                    &self.channel,
                    recorder,
                )
                .map(Basis::Consent)
                .map_err(|e| errors.push(FieldError::new("basis", e.to_string())))
                .ok()
            }
            other => {
                errors.push(FieldError::new(
                    "basis.kind",
                    format!(
                        "`{other}` is not a lawful basis: consent, contract, legitimate_interest or none"
                    ),
                ));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn errors(f: &ContactFields) -> Vec<(String, String)> {
        f.to_draft("user:admin", Timestamp::from_unix_seconds(0))
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn every_field_problem_is_reported_at_once() {
        let f = ContactFields {
            name: " ".into(),
            number: "030 1234567".into(),
            groups: vec!["bad/group".into()],
            basis: BasisFields {
                kind: "consent".into(),
                ..BasisFields::default()
            },
            ..ContactFields::default()
        };
        let fields: Vec<String> = errors(&f).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "name",
                "number",
                "groups",
                "basis.wording",
                "basis.wording_version",
                "basis.channel"
            ]
        );
    }

    #[test]
    fn a_national_number_is_read_in_its_region() {
        let f = ContactFields {
            name: "Anna".into(),
            number: "030 1234567".into(),
            region: "de".into(),
            basis: BasisFields {
                kind: "contract".into(),
                ..BasisFields::default()
            },
            ..ContactFields::default()
        };
        let d = f
            .to_draft("user:admin", Timestamp::from_unix_seconds(0))
            .unwrap();
        assert_eq!(d.number.as_str(), "+49301234567");
        assert_eq!(d.basis, Some(Basis::Contract));
    }
}
