//! Clone capture, as a pure function: one phone's observed configuration (what its agent
//! last reported) turned into a complete profile, the technicians' "make these like that
//! one".
//!
//! What the phone shows comes from the observation, through the profiles crate's
//! [`corral_profiles::capture`]: the messenger packages in the work profile and their
//! granted permissions, the work profile's name and its visible apps, backup, the account
//! types, the cross-profile settings and the allow-listed contacts. What no phone shows
//! comes from the phone's current profile: what happens to the personal copy of the
//! messenger, the agent's timing, caller ID and Bluetooth sharing, the messenger's APKs,
//! apps to install, the contact-book groups and each contact's lawful basis. A captured
//! contact that is not an entry of the current profile came from one of its contact-book
//! groups and is left to the groups; without a current profile it keeps no basis, and the
//! draft does not validate until a person gives it one.
//!
//! Must never: do I/O, or invent a lawful basis.

use corral_profiles::{Diagnostic, ObservedPhone, ResolvedProfile, SourceFile};
use serde_json::{Map, Value as Json};

/// Why nothing could be captured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Wait until the phone's agent has connected and reported.
    #[error("the phone has not reported its state yet; wait until its agent has connected")]
    NotObserved,
    /// The stored observation does not parse (written by an incompatible agent).
    #[error("the phone's reported state is unreadable: {0}")]
    Unreadable(String),
    /// Provision the phone first, or write a profile by hand.
    #[error("the phone has no work profile to capture; provision it first")]
    NoWorkProfile,
    /// The current profile's canonical TOML does not parse (corrupt data).
    #[error("the phone's current profile is unreadable: {0}")]
    BadCurrent(String),
}

/// A captured profile: its source, and the resolved profile when it validates.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The file name diagnostics and the stored source use (`<name>.toml`).
    pub file_name: String,
    /// The profile file: a comment naming where it came from, then the settings.
    pub toml: String,
    /// The resolved profile; `None` when a diagnostic is an error.
    pub profile: Option<ResolvedProfile>,
    /// Everything validation said, errors first by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Captures `observed` (a phone's reported state) as a profile called `name`, completed
/// from `current` (the canonical TOML of the phone's current profile version, if it has
/// one). `origin` is a line saying where it came from, kept as the file's first comment
/// and as its description.
pub fn capture_profile(
    observed: Option<&Json>,
    name: &corral_profiles::ProfileName,
    current: Option<&str>,
    origin: &str,
) -> Result<Captured, CaptureError> {
    let observed = observed.ok_or(CaptureError::NotObserved)?;
    let phone: ObservedPhone = serde_json::from_value(observed.clone())
        .map_err(|e| CaptureError::Unreadable(e.to_string()))?;
    let draft = corral_profiles::capture(&phone, name, None).map_err(|e| match e {
        corral_profiles::CaptureError::NoWorkProfile => CaptureError::NoWorkProfile,
    })?;
    let draft = toml_tree(&draft.toml).map_err(CaptureError::Unreadable)?;
    let current = current
        .map(toml_tree)
        .transpose()
        .map_err(CaptureError::BadCurrent)?
        .unwrap_or_else(|| Json::Object(Map::new()));
    let mut tree = merge(&draft, &current);
    if let Json::Object(root) = &mut tree {
        root.insert("name".into(), Json::String(name.to_string()));
        root.insert("description".into(), Json::String(one_line(origin)));
    }
    let body = toml::to_string(&tree).map_err(|e| CaptureError::Unreadable(e.to_string()))?;
    let toml = format!(
        "# {}\n# Captured by corral from the phone's work profile; what a phone does not show\n\
         # (personal copy, agent timing, groups, lawful bases, …) is its current profile's.\n\n{body}",
        one_line(origin)
    );
    let file_name = format!("{name}.toml");
    let resolution = corral_profiles::resolve(&[SourceFile::new(&file_name, &toml)], None);
    let profile = if resolution.has_errors() {
        None
    } else {
        resolution.profile_of_file(&file_name).cloned()
    };
    Ok(Captured {
        file_name,
        toml,
        profile,
        diagnostics: resolution.diagnostics,
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn toml_tree(text: &str) -> Result<Json, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    serde_json::to_value(table).map_err(|e| e.to_string())
}

/// `tree[section]` as an object (empty when absent).
fn section(tree: &Json, key: &str) -> Map<String, Json> {
    tree.get(key)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Copies `keys` of the draft's `name` section over the current profile's.
fn observed_keys(draft: &Json, current: &Json, name: &str, keys: &[&str]) -> Map<String, Json> {
    let mut out = section(current, name);
    let observed = section(draft, name);
    for key in keys {
        match observed.get(*key) {
            Some(v) => out.insert((*key).to_owned(), v.clone()),
            None => out.remove(*key),
        };
    }
    out
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn merge(draft: &Json, current: &Json) -> Json {
    let mut root = Map::new();
    let mut messenger = observed_keys(draft, current, "messenger", &["packages", "grant"]);
    let packages = strings(messenger.get("packages"));
    if let Some(Json::Object(apk)) = messenger.get_mut("apk") {
        apk.retain(|package, _| packages.contains(package));
        if apk.is_empty() {
            messenger.remove("apk");
        }
    }
    root.insert("messenger".into(), Json::Object(messenger));

    let mut work = observed_keys(
        draft,
        current,
        "work_profile",
        &["name", "allowed_apps", "other_apps"],
    );
    let visible = strings(work.get("allowed_apps"));
    let install: Vec<String> = strings(work.get("install"))
        .into_iter()
        .filter(|p| visible.contains(p))
        .collect();
    let allowed: Vec<String> = visible
        .into_iter()
        .filter(|p| !install.contains(p))
        .collect();
    work.insert("allowed_apps".into(), allowed.into());
    if install.is_empty() {
        work.remove("install");
    } else {
        work.insert("install".into(), install.into());
    }
    root.insert("work_profile".into(), Json::Object(work));

    let mut contacts = section(current, "contacts");
    let known: Vec<Json> = contacts
        .get("entries")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let has_groups = !strings(contacts.get("groups")).is_empty();
    let observed = section(draft, "contacts");
    let mut entries = Vec::new();
    for entry in observed
        .get("entries")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let phone = entry.get("phone");
        match known.iter().find(|k| k.get("phone") == phone) {
            Some(k) => {
                let mut e = entry.clone();
                if let (Json::Object(e), Some(basis)) = (&mut e, k.get("basis")) {
                    e.insert("basis".into(), basis.clone());
                }
                entries.push(e);
            }
            // A member of one of the current profile's contact-book groups.
            None if has_groups => {}
            None => entries.push(entry.clone()),
        }
    }
    if !contacts.contains_key("mode")
        && let Some(mode) = observed.get("mode")
    {
        contacts.insert("mode".into(), mode.clone());
    }
    if entries.is_empty() {
        contacts.remove("entries");
    } else {
        contacts.insert("entries".into(), entries.into());
    }
    root.insert("contacts".into(), Json::Object(contacts));

    let privacy = observed_keys(
        draft,
        current,
        "privacy",
        &[
            "backup",
            "allowed_accounts",
            "cross_profile_contact_search",
            "cross_profile_calendar",
        ],
    );
    root.insert("privacy".into(), Json::Object(privacy));
    if let Some(agent) = current.get("agent") {
        root.insert("agent".into(), agent.clone());
    }
    Json::Object(root)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use serde_json::json;

    use super::*;

    /// A phone as the butcher-shop profile leaves it: WhatsApp Business in user 10 with
    /// the camera visible, two allow-listed contacts and one a group member.
    fn shop_phone() -> Json {
        json!({
            "users": [
                { "id": 0, "name": "Owner", "flags": 3091, "running": true },
                { "id": 10, "name": "Shop", "flags": 4144, "running": true }
            ],
            "personal_user": 0,
            "personal_packages": {},
            "work": {
                "user": 10,
                "packages": {
                    "com.whatsapp.w4b": { "launcher": true, "granted": ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"] },
                    "com.android.camera2": { "system": true, "launcher": true },
                    "com.android.settings": { "system": true, "launcher": true, "hidden": true },
                    "com.android.providers.contacts": { "system": true }
                },
                "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" },
                "backup_enabled": false,
                "account_types": [],
                "contacts": [
                    { "id": 1, "name": "Meyer Wholesale Meats", "numbers": ["+493012345678"] },
                    { "id": 2, "name": "Hofmann Farm", "numbers": ["+493312345678"] },
                    { "id": 3, "name": "Anna (staff)", "numbers": ["+4915112345678"] },
                    { "id": 4, "name": null, "numbers": [], "account_type": "com.google" }
                ]
            }
        })
    }

    const CURRENT: &str = r#"
name = "butcher-shop"
[messenger]
packages = ["com.whatsapp.w4b"]
personal_copy = "uninstall"
grant = ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"]
[work_profile]
name = "Shop"
allowed_apps = ["com.android.camera2"]
other_apps = "hide"
[contacts]
mode = "exact"
groups = ["staff", "suppliers"]
[[contacts.entries]]
name = "Meyer Wholesale Meats"
phone = "+493012345678"
basis = "contract"
[[contacts.entries]]
name = "Hofmann Farm"
phone = "+493312345678"
basis = "contract"
[privacy]
backup = false
allowed_accounts = []
cross_profile_contact_search = false
cross_profile_calendar = false
cross_profile_caller_id = false
[agent]
heartbeat = "1m"
reconcile = "15m"
"#;

    #[track_caller]
    fn check(observed: Option<Json>, current: Option<&str>, expect: Expect) {
        let name = corral_profiles::ProfileName::parse("shop-clone").unwrap();
        let out = match capture_profile(
            observed.as_ref(),
            &name,
            current,
            "Cloned from Till 07 by user:tess",
        ) {
            Ok(c) => {
                let mut out = c.toml.clone();
                out.push_str(&format!("--- {}\n", c.file_name));
                match &c.profile {
                    Some(p) => out.push_str(&format!("valid, {} parents\n", p.parents.len())),
                    None => out.push_str("invalid\n"),
                }
                for d in c.diagnostics.iter().filter(|d| d.is_error()) {
                    out.push_str(&format!(
                        "{}:{}: {}\n",
                        d.position.line, d.position.column, d.message
                    ));
                }
                out
            }
            Err(e) => format!("error: {e}\n"),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn a_phone_with_its_current_profile_gives_a_valid_profile_like_it() {
        check(
            Some(shop_phone()),
            Some(CURRENT),
            expect![[r##"
            # Cloned from Till 07 by user:tess
            # Captured by corral from the phone's work profile; what a phone does not show
            # (personal copy, agent timing, groups, lawful bases, …) is its current profile's.

            description = "Cloned from Till 07 by user:tess"
            name = "shop-clone"

            [agent]
            heartbeat = "1m"
            reconcile = "15m"

            [contacts]
            groups = ["staff", "suppliers"]
            mode = "exact"

            [[contacts.entries]]
            basis = "contract"
            name = "Hofmann Farm"
            phone = "+493312345678"

            [[contacts.entries]]
            basis = "contract"
            name = "Meyer Wholesale Meats"
            phone = "+493012345678"

            [messenger]
            grant = ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"]
            packages = ["com.whatsapp.w4b"]
            personal_copy = "uninstall"

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = false
            cross_profile_caller_id = false
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = ["com.android.camera2"]
            name = "Shop"
            other_apps = "hide"
            --- shop-clone.toml
            valid, 0 parents
        "##]],
        );
    }

    #[test]
    fn without_a_current_profile_contacts_have_no_basis_and_the_draft_is_invalid() {
        check(
            Some(shop_phone()),
            None,
            expect![[r##"
            # Cloned from Till 07 by user:tess
            # Captured by corral from the phone's work profile; what a phone does not show
            # (personal copy, agent timing, groups, lawful bases, …) is its current profile's.

            description = "Cloned from Till 07 by user:tess"
            name = "shop-clone"

            [contacts]
            mode = "exact"

            [[contacts.entries]]
            name = "Anna (staff)"
            phone = "+4915112345678"

            [[contacts.entries]]
            name = "Hofmann Farm"
            phone = "+493312345678"

            [[contacts.entries]]
            name = "Meyer Wholesale Meats"
            phone = "+493012345678"

            [messenger]
            grant = ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"]
            packages = ["com.whatsapp.w4b"]

            [privacy]
            allowed_accounts = []
            backup = false
            cross_profile_calendar = false
            cross_profile_contact_search = false

            [work_profile]
            allowed_apps = ["com.android.camera2"]
            name = "Shop"
            other_apps = "hide"
            --- shop-clone.toml
            invalid
            11:1: missing `basis` in a contact entry
            15:1: missing `basis` in a contact entry
            19:1: missing `basis` in a contact entry
        "##]],
        );
    }

    #[test]
    fn what_the_phone_shows_wins_over_the_current_profile() {
        let mut phone = shop_phone();
        phone["work"]["backup_enabled"] = json!(true);
        phone["work"]["settings"]["managed_profile_contact_remote_search"] = json!("1");
        phone["work"]["packages"]["com.android.settings"]["hidden"] = json!(false);
        check(
            Some(phone),
            Some(CURRENT),
            expect![[r##"
            # Cloned from Till 07 by user:tess
            # Captured by corral from the phone's work profile; what a phone does not show
            # (personal copy, agent timing, groups, lawful bases, …) is its current profile's.

            description = "Cloned from Till 07 by user:tess"
            name = "shop-clone"

            [agent]
            heartbeat = "1m"
            reconcile = "15m"

            [contacts]
            groups = ["staff", "suppliers"]
            mode = "exact"

            [[contacts.entries]]
            basis = "contract"
            name = "Hofmann Farm"
            phone = "+493312345678"

            [[contacts.entries]]
            basis = "contract"
            name = "Meyer Wholesale Meats"
            phone = "+493012345678"

            [messenger]
            grant = ["android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"]
            packages = ["com.whatsapp.w4b"]
            personal_copy = "uninstall"

            [privacy]
            allowed_accounts = []
            backup = true
            cross_profile_calendar = false
            cross_profile_caller_id = false
            cross_profile_contact_search = true

            [work_profile]
            allowed_apps = ["com.android.camera2", "com.android.settings"]
            name = "Shop"
            other_apps = "hide"
            --- shop-clone.toml
            valid, 0 parents
        "##]],
        );
    }

    #[test]
    fn a_phone_without_a_report_or_a_work_profile_cannot_be_captured() {
        check(
            None,
            Some(CURRENT),
            expect![[r#"
            error: the phone has not reported its state yet; wait until its agent has connected
        "#]],
        );
        let mut phone = shop_phone();
        phone["work"] = Json::Null;
        check(
            Some(phone),
            Some(CURRENT),
            expect![[r#"
            error: the phone has no work profile to capture; provision it first
        "#]],
        );
        check(
            Some(json!({ "users": "many" })),
            None,
            expect![[r#"
            error: the phone's reported state is unreadable: invalid type: string "many", expected a sequence
        "#]],
        );
    }
}
