//! Steps, the pure half: which planner actions belong to which step, what to do about a
//! work profile found on the phone, and the agent's command lines and their parsers.
//!
//! The planner (`corral_profiles::plan`) already knows every Android command for the
//! profile; provisioning only groups its actions into recorded steps. Contacts are left
//! to the agent: it writes them once it has the profile (and the contact book) from the
//! controller, and reports them.

use std::collections::BTreeMap;

use corral_profiles::{Action, Drift, ObservedPhone, PackageName, Plan, Settings, UserId, UserRef};

use super::ProvisionError;
use crate::domain::ProvisionStep;

/// `UserInfo.FLAG_INITIALIZED`: set once a user's creation completed.
const FLAG_INITIALIZED: u32 = 0x10;
/// `UserInfo.FLAG_DISABLED`: a profile ManagedProvisioning created and never enabled.
const FLAG_DISABLED: u32 = 0x40;

/// The step an action belongs to (`None`: left to the agent — contacts).
pub fn step_of(action: &Action, settings: &Settings) -> Option<ProvisionStep> {
    let for_messenger = |p: &PackageName| {
        settings.messenger.packages.contains(p) || settings.work_profile.install.contains(p)
    };
    Some(match action {
        Action::CreateWorkProfile { .. } => ProvisionStep::WorkProfile,
        Action::StartUser { .. } => ProvisionStep::StartProfile,
        Action::InstallExisting { .. } | Action::InstallApk { .. } | Action::Grant { .. } => {
            ProvisionStep::Messenger
        }
        Action::Unhide { user, package }
        | Action::Enable { user, package }
        | Action::Unsuspend { user, package }
            if *user == UserRef::Work && for_messenger(package) =>
        {
            ProvisionStep::Messenger
        }
        Action::Hide {
            user: UserRef::Personal,
            ..
        }
        | Action::Uninstall {
            user: UserRef::Personal,
            ..
        } => ProvisionStep::PersonalCopy,
        Action::Unhide { .. }
        | Action::Enable { .. }
        | Action::Unsuspend { .. }
        | Action::Hide { .. }
        | Action::Uninstall { .. }
        | Action::PutSecureSetting { .. }
        | Action::SetBackup { .. } => ProvisionStep::ProfileSettings,
        Action::AddContacts { .. } | Action::RemoveContacts { .. } => return None,
    })
}

/// The plan's actions by step, each in the planner's order.
pub fn by_step(plan: &Plan, settings: &Settings) -> BTreeMap<ProvisionStep, Plan> {
    let mut out: BTreeMap<ProvisionStep, Plan> = BTreeMap::new();
    for action in &plan.actions {
        if let Some(step) = step_of(action, settings) {
            out.entry(step).or_default().actions.push(action.clone());
        }
    }
    out
}

/// The first messenger (or `install` app) the phone does not have and no APK supplies.
pub fn missing_package(plan: &Plan) -> Option<&PackageName> {
    plan.drift.iter().find_map(|d| match d {
        Drift::PackageUnavailable { package } => Some(package),
        _ => None,
    })
}

/// What to do about the managed profiles on a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileVerdict {
    /// Half-created profiles (creation never completed, or left disabled by an aborted
    /// setup) with no owner: removed before anything else.
    pub remove: Vec<UserId>,
    /// The healthy work profile to reuse; `None`: create one.
    pub reuse: Option<UserId>,
}

/// Decides about the phone's managed profiles. A profile with a profile owner belongs to
/// another management app (corral has no admin component yet) and is an error.
pub fn judge_profiles(
    phone: &str,
    observed: &ObservedPhone,
) -> Result<ProfileVerdict, ProvisionError> {
    if let Some(work) = &observed.work
        && let Some(owner) = &work.profile_owner
    {
        return Err(ProvisionError::ForeignOwner {
            phone: phone.to_owned(),
            what: format!("the work profile (user {})", work.user),
            owner: owner.clone(),
        });
    }
    let mut verdict = ProfileVerdict {
        remove: Vec::new(),
        reuse: None,
    };
    for user in observed.users.iter().filter(|u| u.is_managed_profile()) {
        let half = user.flags & FLAG_INITIALIZED == 0 || user.flags & FLAG_DISABLED != 0;
        if half {
            verdict.remove.push(user.id);
        } else if verdict.reuse.is_none() {
            verdict.reuse = Some(user.id);
        }
    }
    Ok(verdict)
}

/// Where corral keeps the agent on the phone (the shell user's writable directory).
pub const AGENT_DIR: &str = "/data/local/tmp/corral";
/// The agent binary on the phone.
pub const AGENT_BIN: &str = "/data/local/tmp/corral/corral-agent";

/// Makes the agent directory and prints the installed binary's SHA-256 (or `absent`).
pub fn agent_probe_script() -> String {
    format!(
        "mkdir -p {AGENT_DIR} && if [ -f {AGENT_BIN} ]; then sha256sum {AGENT_BIN}; else echo absent; fi"
    )
}

/// The SHA-256 `sha256sum` printed, `None` for `absent`.
pub fn parse_probe(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t == "absent" {
        return Ok(None);
    }
    match t.split_whitespace().collect::<Vec<_>>().as_slice() {
        [digest, path] if *path == AGENT_BIN && digest.len() == 64 => {
            Ok(Some((*digest).to_owned()))
        }
        _ => Err(format!(
            "expected `<sha256>  {AGENT_BIN}` or `absent`, got {t:?}"
        )),
    }
}

/// Whether the agent has enrolled (its certificate exists) and whether it runs.
pub fn agent_status_script() -> String {
    format!(
        "cd {AGENT_DIR} && if [ -f state/cert.pem ]; then echo enrolled; else echo new; fi && if pidof corral-agent >/dev/null; then echo running; else echo stopped; fi"
    )
}

/// (enrolled, running) from [`agent_status_script`]'s output.
pub fn parse_agent_status(text: &str) -> Result<(bool, bool), String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [e @ ("enrolled" | "new"), r @ ("running" | "stopped")] => {
            Ok((*e == "enrolled", *r == "running"))
        }
        _ => Err(format!(
            "expected enrolled|new and running|stopped, got {text:?}"
        )),
    }
}

/// Enrolls the agent (the token is used once; it is on the command line only for the
/// moment the enrollment runs).
pub fn enroll_command(address: &str, ca_fingerprint: &str, token: &str) -> String {
    format!(
        "cd {AGENT_DIR} && ./corral-agent enroll --controller {address} --ca-fingerprint {ca_fingerprint} --token {token} --state-dir state"
    )
}

/// Starts the agent in the background, detached from the ADB shell. The `&` applies to
/// one command, not to an `&&` chain (which the simulator's shell would run in the
/// foreground), so the directory change is a line of its own.
pub fn start_command() -> String {
    format!(
        "cd {AGENT_DIR} || exit 1\nnohup ./corral-agent run --state-dir state >{AGENT_DIR}/agent.log 2>&1 &"
    )
}

/// Prints the agent's configuration (device id, gateway).
pub fn agent_config_script() -> String {
    format!("cat {AGENT_DIR}/state/config.toml")
}

/// The device id in the agent's `config.toml`.
pub fn parse_device_id(text: &str) -> Result<String, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| format!("config.toml: {e}"))?;
    table
        .get("device_id")
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "config.toml has no device_id".to_owned())
}

#[cfg(test)]
mod tests {
    use corral_profiles::{ObservedUser, WorkSide};
    use expect_test::expect;

    use super::*;

    fn phone(users: &[(u32, u32)], owner: Option<&str>) -> ObservedPhone {
        let mut p = ObservedPhone::new();
        p.users = users
            .iter()
            .map(|&(id, flags)| ObservedUser {
                id: UserId(id),
                name: format!("u{id}"),
                flags,
                running: true,
            })
            .collect();
        if let Some(u) = p.users.iter().find(|u| u.is_managed_profile()) {
            let mut w = WorkSide::new(u.id);
            w.profile_owner = owner.map(str::to_owned);
            p.work = Some(w);
        }
        p
    }

    #[test]
    fn profiles_are_created_reused_repaired_or_refused() {
        let judge = |users: &[(u32, u32)], owner| {
            format!("{:?}", judge_profiles("P", &phone(users, owner)))
        };
        expect![[r#"Ok(ProfileVerdict { remove: [], reuse: None })"#]]
            .assert_eq(&judge(&[(0, 0x4c13)], None));
        expect![[r#"Ok(ProfileVerdict { remove: [], reuse: Some(UserId(10)) })"#]]
            .assert_eq(&judge(&[(0, 0x4c13), (10, 0x1030)], None));
        expect![[r#"Ok(ProfileVerdict { remove: [UserId(10)], reuse: None })"#]]
            .assert_eq(&judge(&[(0, 0x4c13), (10, 0x1020)], None));
        expect![[r#"Ok(ProfileVerdict { remove: [UserId(10)], reuse: Some(UserId(11)) })"#]]
            .assert_eq(&judge(&[(0, 0x4c13), (10, 0x1070), (11, 0x1030)], None));
        expect![[r#"Err(ForeignOwner { phone: "P", what: "the work profile (user 10)", owner: "com.oasisfeng.island/.IslandDeviceAdminReceiver" })"#]]
            .assert_eq(&judge(&[(0, 0x4c13), (10, 0x1030)], Some("com.oasisfeng.island/.IslandDeviceAdminReceiver")));
    }

    #[test]
    fn agent_outputs_parse_strictly() {
        let sha = "a".repeat(64);
        assert_eq!(parse_probe("absent\n"), Ok(None));
        assert_eq!(parse_probe(&format!("{sha}  {AGENT_BIN}\n")), Ok(Some(sha)));
        assert!(parse_probe("sha256sum: permission denied").is_err());
        assert_eq!(parse_agent_status("new\nstopped\n"), Ok((false, false)));
        assert_eq!(parse_agent_status("enrolled\nrunning\n"), Ok((true, true)));
        assert!(parse_agent_status("cd: /data/local/tmp/corral: No such file").is_err());
        assert_eq!(
            parse_device_id("device_id = \"d1\"\ngateway = \"h:1\"\n"),
            Ok("d1".into())
        );
        assert!(parse_device_id("gateway = \"h:1\"\n").is_err());
    }
}
