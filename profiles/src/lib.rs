//! Configuration profiles: the model an admin writes and every phone is held to.
//!
//! This crate is pure: it does no I/O, starts no runtime and knows no database. Callers
//! read files and pass their text in; everything here is a function of its arguments.
//!
//! Layout, in pipeline order:
//! - `tree`, `read`, `parse`: TOML with positions → one [`SourceFile`] per profile, split
//!   into header, settings and device overrides.
//! - `resolve`, `validate`: inheritance (`extends`), device overrides and every check →
//!   [`ResolvedProfile`]s or all [`Diagnostic`]s at once; `render` prints them like
//!   rustc or as JSON.
//! - `canonical`, `version`, `diff`: the canonical form, its hash ([`Version`]) and
//!   differences between profiles.
//! - `contacts`, `phone`, `names`: the allow-list with lawful bases, E.164 numbers and the
//!   other parse-don't-validate names.
//! - `observed`, `plan`, `simulate`: the observed phone, the planner and its model of what
//!   each action does; `capture`: a draft profile from a phone.
//! - `fuzz`: fuzzing entry points.
#![forbid(unsafe_code)]

mod canonical;
mod capture;
mod contacts;
mod diagnostics;
mod diff;
pub mod fuzz;
mod model;
mod names;
mod observed;
mod parse;
mod phone;
pub mod plan;
mod read;
mod render;
mod resolve;
pub mod simulate;
mod tree;
mod validate;
mod version;

pub use capture::{Capture, CaptureError, capture};
pub use contacts::{
    AllowList, AllowedContact, ContactDirectory, ContactId, ContactsMode, DirectoryContact,
    InlineContact, LawfulBasis, RetiredContact, UnknownGroups,
};
pub use diagnostics::{Code, Diagnostic, Position, Related, Severity, SourceFile};
pub use diff::{Change, ChangeKind, ProfileDiff, diff};
pub use model::{
    AgentTiming, ApkSource, Contacts, DeviceProfile, KNOWN_MESSENGERS, Messenger, OtherApps,
    PersonalCopy, Privacy, ResolvedProfile, Settings, WorkProfile,
};
pub use names::{
    DeviceSerial, GroupName, Interval, InvalidValue, PackageName, Permission, ProfileName,
    Sha256Hex,
};
pub use observed::{
    FLAG_MANAGED_PROFILE, ObservedContact, ObservedPhone, ObservedUser, PackageState, RawContactId,
    SETTING_CALENDAR, SETTING_CONTACT_SEARCH, UserId, WorkSide,
};
pub use phone::{PhoneError, PhoneNumber, Region};
pub use plan::{Action, Drift, Plan, UserRef, Users, plan};
pub use render::{Style, render, render_short, to_json};
pub use resolve::{ProfileError, Resolution, resolve, resolve_targets};
pub use version::Version;

/// Resolves `files` and returns the profile `name`, or every diagnostic.
pub fn resolve_one(
    files: &[SourceFile],
    name: &str,
    directory: Option<&dyn ContactDirectory>,
) -> Result<ResolvedProfile, ProfileError> {
    let mut resolution = resolve(files, directory);
    if resolution.has_errors() {
        return Err(ProfileError::Invalid(resolution.diagnostics));
    }
    let key = ProfileName::parse(name).map_err(|_| ProfileError::NotFound(name.to_owned()))?;
    resolution
        .profiles
        .remove(&key)
        .ok_or_else(|| ProfileError::NotFound(name.to_owned()))
}
