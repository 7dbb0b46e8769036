//! Domain types of the controller: newtypes that are parsed once at the boundary (command
//! line, HTTP, wire, database rows) and plain records of the fleet.
//!
//! Owns: what a valid device id, profile name, token or password is, and the shapes of
//! devices, profile versions, deliveries, pushes, certificates, events, users and
//! provisioning runs.
//! Must never: do I/O, know SQL, HTTP or the wire format. Randomness (token and id
//! generation) and the wall clock ([`Timestamp::now`]) are the only outside inputs.

mod consent;
mod contact_fields;
mod contacts;
mod fleet;
mod ids;
mod provisioning;
mod secrets;
mod time;
mod users;

pub use consent::{
    ConsentLink, ConsentWording, LINK_CHANNEL, LINK_RECORDER, LinkState, WordingDraft,
};
pub use contact_fields::{BasisFields, ContactFields, FieldError};
pub use contacts::{
    Basis, CompanyName, Consent, Contact, ContactDraft, ContactGroup, ContactGroupSummary,
    ContactId, ContactName, Pseudonym, PseudonymKey,
};
pub use fleet::{
    ApplyOutcome, ApplyResult, Assignment, AssignmentTarget, CertificateRecord, Delivery,
    DeliveryState, Device, DeviceReport, DeviceStatus, EnrollmentBinding, EnrollmentToken, Event,
    NewCertificate, NewDevice, NewEvent, ProfileVersion, Push, PushKind, ReportOutcome,
};
pub use ids::{
    CertSerial, DeviceId, DeviceName, GroupName, KeyHash, ProfileName, UserName, VersionHash,
};
pub use provisioning::{ProvisionStep, ProvisioningRun, RunOutcome, StepOutcome, StepRecord};
pub use secrets::{
    ApiToken, ConsentLinkToken, EnrollmentTokenSecret, Password, PasswordHash, SecretHash,
    SessionToken, TokenPrefix, sha256_hex,
};
pub use time::Timestamp;
pub use users::{AdminUser, ApiTokenRecord, Role, UserId};

/// A value from outside that is not a valid domain value; says what and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct ParseError {
    /// What was being parsed, e.g. "device id".
    pub what: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, reason: impl Into<String>) -> Self {
        ParseError {
            what,
            reason: reason.into(),
        }
    }
}

/// Lowercase hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}
