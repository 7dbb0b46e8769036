//! Capture: a draft profile from what a phone's work profile looks like, the starting
//! point for cloning one phone's setup to others.
//!
//! **Data minimisation:** only the work profile is captured. The personal side is left
//! out entirely, so `messenger.personal_copy` stays at its default for the author to
//! decide. Captured contacts carry no lawful basis — the draft does not validate until a
//! person has added one to each entry, so no contact reaches other phones unexamined.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};

use crate::model::KNOWN_MESSENGERS;
use crate::names::{Permission, ProfileName};
use crate::observed::{ObservedPhone, SETTING_CALENDAR, SETTING_CONTACT_SEARCH};
use crate::phone::{PhoneNumber, Region};

/// Nothing could be captured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The phone has no work profile yet; provision it first or write a profile by hand.
    #[error("the phone has no work profile to capture")]
    NoWorkProfile,
}

/// A captured draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    /// The draft profile as TOML, with a comment header saying what to review.
    pub toml: String,
    /// Captured contacts whose number could not be normalised (kept as written).
    pub unparsed_numbers: usize,
}

/// Captures the work profile of `phone` as a draft profile called `name`. National
/// numbers are read in `region` when given.
pub fn capture(
    phone: &ObservedPhone,
    name: &ProfileName,
    region: Option<Region>,
) -> Result<Capture, CaptureError> {
    let work = phone.work.as_ref().ok_or(CaptureError::NoWorkProfile)?;
    let messengers: Vec<&str> = work
        .packages
        .keys()
        .map(|p| p.as_str())
        .filter(|p| KNOWN_MESSENGERS.contains(p))
        .collect();
    let mut grant: Option<BTreeSet<&Permission>> = None;
    for m in &messengers {
        let granted: BTreeSet<&Permission> = work
            .packages
            .iter()
            .find(|(p, _)| p.as_str() == *m)
            .map(|(_, s)| s.granted.iter().collect())
            .unwrap_or_default();
        grant = Some(match grant {
            None => granted,
            Some(g) => g.intersection(&granted).copied().collect(),
        });
    }
    let owner = work.profile_owner_package();
    let allowed: Vec<&str> = work
        .packages
        .iter()
        .filter(|(p, s)| {
            !s.hidden
                && (!s.system || s.launcher)
                && !messengers.contains(&p.as_str())
                && owner != Some(p.as_str())
        })
        .map(|(p, _)| p.as_str())
        .collect();
    let mirror: BTreeSet<&str> = messengers.iter().copied().collect();
    let accounts: Vec<&String> = work
        .account_types
        .iter()
        .filter(|t| !mirror.contains(t.as_str()))
        .collect();
    let mut unparsed_numbers = 0;
    let mut entries = Vec::new();
    for c in work.contacts.iter().filter(|c| c.account_type.is_none()) {
        let (Some(contact_name), Some(number)) = (&c.name, c.numbers.first()) else {
            continue;
        };
        let phone = match PhoneNumber::parse(number, region) {
            Ok(n) => n.to_string(),
            Err(_) => {
                unparsed_numbers += 1;
                number.clone()
            }
        };
        entries.push(json!({ "name": contact_name, "phone": phone }));
    }
    entries.sort_by_key(|e| e.to_string());
    let user_name = phone
        .work_user()
        .map_or_else(|| "Work".to_owned(), |u| u.name.clone());
    let setting_on = |key: &str| work.settings.get(key).is_none_or(|v| v != "0");
    let mut root = Map::new();
    root.insert("name".into(), json!(name.as_str()));
    root.insert(
        "description".into(),
        json!("Captured from a phone; review before use."),
    );
    root.insert(
        "messenger".into(),
        json!({ "packages": messengers, "grant": grant.unwrap_or_default().into_iter().map(Permission::as_str).collect::<Vec<_>>() }),
    );
    root.insert(
        "work_profile".into(),
        json!({ "name": user_name, "allowed_apps": allowed, "other_apps": "hide" }),
    );
    root.insert(
        "contacts".into(),
        json!({ "mode": "exact", "entries": entries }),
    );
    root.insert(
        "privacy".into(),
        json!({
            "backup": work.backup_enabled == Some(true),
            "allowed_accounts": accounts,
            "cross_profile_contact_search": setting_on(SETTING_CONTACT_SEARCH),
            "cross_profile_calendar": setting_on(SETTING_CALENDAR),
        }),
    );
    let header = "\
# Draft profile captured from a phone's work profile by corral. Before using it:
# - decide `messenger.personal_copy` (keep / hide / uninstall): the personal side of
#   the phone was deliberately not captured;
# - give every contact entry its lawful basis (`basis = \"consent\"`, `\"contract\"` or
#   `\"legitimate_interest\"`), or move the contacts into contact-book groups: until
#   then this profile does not validate.
";
    Ok(Capture {
        toml: format!(
            "{header}\n{}",
            crate::canonical::to_toml(&Json::Object(root))
        ),
        unparsed_numbers,
    })
}
