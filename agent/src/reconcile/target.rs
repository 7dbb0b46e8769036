//! What the phone is held to: a pushed profile version resolved, checked against its
//! version, narrowed to this device, with its allow-list. Pure.
//!
//! The push carries the canonical TOML of the profile (no `extends`; inheritance is
//! resolved on the controller), so resolving it needs no other file. Contact-book groups
//! (`contacts.groups`) resolve against the groups the controller pushed last
//! (`contacts_push`, kept in `contacts.json`): their members with a lawful basis are
//! written to the phone. A group not pushed (yet) resolves empty and its name is reported
//! ([`Target::undelivered_groups`]).

use std::collections::BTreeSet;

use corral_profiles::{AllowList, DeviceProfile, DeviceSerial, GroupName, SourceFile, resolve};

use crate::state::Directory;

/// Why a pushed profile cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The text does not resolve to exactly one valid profile.
    #[error("the pushed profile is invalid: {0}")]
    Invalid(String),
    /// The text resolves to another version than the push says.
    #[error("the pushed profile is version {actual}, not {announced}")]
    VersionMismatch { announced: String, actual: String },
}

/// The applied profile, ready for the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The profile version (`sha256:…`).
    pub version: String,
    /// The canonical TOML it came from (stored in `applied.json`).
    pub text: String,
    /// The settings for this device.
    pub profile: DeviceProfile,
    /// The contacts the work profile holds.
    pub allow: AllowList,
    /// Groups whose members were not delivered.
    pub undelivered_groups: BTreeSet<GroupName>,
}

impl Target {
    /// Resolves a pushed (or stored) canonical profile `text` announced as `version`, for the
    /// phone with `serial`.
    pub fn resolve(
        text: &str,
        version: &str,
        serial: Option<&str>,
        directory: &Directory,
    ) -> Result<Target, TargetError> {
        let files = [SourceFile::new("pushed-profile.toml", text)];
        let resolution = resolve(&files, None);
        if resolution.has_errors() {
            let msg = corral_profiles::render_short(&resolution.diagnostics);
            return Err(TargetError::Invalid(msg.trim().to_owned()));
        }
        let mut profiles = resolution.profiles.into_values();
        let (Some(profile), None) = (profiles.next(), profiles.next()) else {
            return Err(TargetError::Invalid("expected exactly one profile".into()));
        };
        let actual = profile.version().as_str().to_owned();
        if actual != version {
            return Err(TargetError::VersionMismatch {
                announced: version.to_owned(),
                actual,
            });
        }
        let serial = serial.and_then(|s| DeviceSerial::parse(s).ok());
        let device = profile.for_device(serial.as_ref());
        let allow = device
            .settings
            .allow_list(directory)
            .map_err(|e| TargetError::Invalid(e.to_string()))?
            .with_retired(directory.retired.iter().cloned());
        Ok(Target {
            version: actual,
            text: text.to_owned(),
            undelivered_groups: directory.missing(&device.settings.contacts.groups),
            profile: device,
            allow,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const BUTCHER: &str = include_str!("../../../profiles/examples/butcher-shop.toml");
    const BASE: &str = include_str!("../../../profiles/examples/base.toml");

    fn canonical() -> (String, String) {
        let files = [
            SourceFile::new("base.toml", BASE),
            SourceFile::new("butcher-shop.toml", BUTCHER),
        ];
        let p = corral_profiles::resolve_one(&files, "butcher-shop", None).unwrap();
        (p.canonical_toml(), p.version().as_str().to_owned())
    }

    #[test]
    fn a_pushed_profile_resolves_for_the_device() {
        let (text, version) = canonical();
        let t = Target::resolve(&text, &version, None, &Directory::default()).unwrap();
        assert_eq!(t.version, version);
        assert_eq!(t.profile.settings.agent.reconcile.as_secs(), 15 * 60);
        assert_eq!(t.allow.len(), 2);
        assert_eq!(
            t.undelivered_groups
                .iter()
                .map(GroupName::as_str)
                .collect::<Vec<_>>(),
            vec!["staff", "suppliers"]
        );
        let van =
            Target::resolve(&text, &version, Some("R58M41ABCDE"), &Directory::default()).unwrap();
        assert_eq!(van.profile.settings.agent.reconcile.as_secs(), 5 * 60);
    }

    #[test]
    fn pushed_groups_reach_the_allow_list() {
        let (text, version) = canonical();
        let push = corral_wire::ContactsPush {
            push_seq: 3,
            version: "sha256:00000000000000aa".into(),
            groups: [(
                "staff".to_owned(),
                vec![corral_wire::PushedContact {
                    id: "c1".into(),
                    name: "Anna Berg".into(),
                    number: "+49301111111".into(),
                    basis: "consent".into(),
                }],
            )]
            .into(),
        };
        let directory = Directory::from_push(&push).unwrap();
        let t = Target::resolve(&text, &version, None, &directory).unwrap();
        assert_eq!(t.allow.len(), 3);
        assert!(t.allow.contacts().iter().any(|c| c.name == "Anna Berg"));
        assert_eq!(
            t.undelivered_groups
                .iter()
                .map(GroupName::as_str)
                .collect::<Vec<_>>(),
            vec!["suppliers"]
        );
    }

    #[test]
    fn a_wrong_version_or_text_is_refused() {
        let (text, _) = canonical();
        let err = Target::resolve(
            &text,
            "sha256:0000000000000000",
            None,
            &Directory::default(),
        )
        .unwrap_err();
        assert!(matches!(err, TargetError::VersionMismatch { .. }), "{err}");
        let err = Target::resolve(
            "name = 3",
            "sha256:0000000000000000",
            None,
            &Directory::default(),
        )
        .unwrap_err();
        assert!(matches!(err, TargetError::Invalid(_)), "{err}");
    }
}
