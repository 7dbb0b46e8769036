//! Bulk actions from the fleet page: re-sync, reboot, remove the work profile, assign a
//! profile, set the group — on the phones checked on the page, or on every phone the
//! page's filter matches. The first POST shows a confirmation that names the exact count
//! ("Reboot 37 phones?"), lists the first of them and says how many revoked phones are
//! skipped; the second (`confirm=yes`, with the count the page showed) acts, in one store
//! transaction per action with an event per phone and one `fleet.bulk_action` event
//! naming the count and the ids. Commands and profile versions go through the outbox, so
//! offline phones get them when they reconnect.
//!
//! Roles: admin and technician for all but removing the work profile, which deletes the
//! work data on the phones and is for admins only (checked here, per action).
//! Must never: act without the confirmation, on a revoked phone, or on a different number
//! of phones than the confirmation named (a filter that now matches more or fewer phones
//! shows the confirmation again).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use corral_wire::CommandKind;
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::fleet_query::parse_params;
use super::render;
use super::session::Operator;
use crate::api::auth::Access;
use crate::domain::{DeviceId, DeviceStatus, GroupName, ProfileName, Timestamp};
use crate::store::{BulkAudit, BulkOutcome, BulkTarget};

/// Phones one bulk action may act on; a filter matching more must be narrowed.
pub const BULK_CAP: u32 = 20_000;
/// Phones the confirmation lists by name.
const LISTED: usize = 50;

/// A bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Resync,
    Reboot,
    RemoveWorkProfile,
    AssignProfile,
    SetGroup,
}

impl BulkAction {
    /// Parses the form's `action`.
    pub fn parse(text: &str) -> Option<BulkAction> {
        Some(match text {
            "resync" => BulkAction::Resync,
            "reboot" => BulkAction::Reboot,
            "remove_work_profile" => BulkAction::RemoveWorkProfile,
            "assign_profile" => BulkAction::AssignProfile,
            "set_group" => BulkAction::SetGroup,
            _ => return None,
        })
    }

    /// The form's and the audit event's name.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Resync => "resync",
            BulkAction::Reboot => "reboot",
            BulkAction::RemoveWorkProfile => "remove_work_profile",
            BulkAction::AssignProfile => "assign_profile",
            BulkAction::SetGroup => "set_group",
        }
    }

    /// Who may do it.
    pub fn access(self) -> Access {
        match self {
            BulkAction::RemoveWorkProfile => Access::Administer,
            _ => Access::Operate,
        }
    }

    fn command(self) -> Option<CommandKind> {
        match self {
            BulkAction::Resync => Some(CommandKind::ReSync),
            BulkAction::Reboot => Some(CommandKind::Reboot),
            BulkAction::RemoveWorkProfile => Some(CommandKind::RemoveWorkProfile),
            BulkAction::AssignProfile | BulkAction::SetGroup => None,
        }
    }
}

/// Which phones: the checked ones, or every phone the filter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Selected(Vec<DeviceId>),
    Matching,
}

/// The form, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BulkForm {
    action: BulkAction,
    scope: Scope,
    /// The fleet page's filter (query string), to act on and to return to.
    filter: String,
    profile: Option<ProfileName>,
    group: Option<GroupName>,
    /// `confirm=yes` with the count the confirmation named.
    confirmed: Option<usize>,
}

fn parse_form(body: &[u8]) -> Result<BulkForm, ConsoleError> {
    let bad = |what: String| ConsoleError::BadRequest(what);
    let mut action = None;
    let mut scope = None;
    let mut devices = Vec::new();
    let mut filter = String::new();
    let mut profile = None;
    let mut group = None;
    let mut confirm = false;
    let mut expect = None;
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.trim();
        match k.as_ref() {
            "action" => {
                action =
                    Some(BulkAction::parse(v).ok_or_else(|| bad(format!("no bulk action `{v}`")))?)
            }
            "scope" => scope = Some(v.to_owned()),
            "device" => {
                if devices.len() >= BULK_CAP as usize {
                    return Err(bad(format!("at most {BULK_CAP} phones at once")));
                }
                devices.push(v.parse().map_err(|_| bad(format!("no phone `{v}`")))?)
            }
            "filter" => filter = v.chars().take(1000).collect(),
            "profile" if !v.is_empty() => {
                profile = Some(v.parse().map_err(|_| bad(format!("no profile `{v}`")))?)
            }
            "group" if !v.is_empty() => {
                group = Some(
                    v.parse()
                        .map_err(|_| bad(format!("`{v}` is not a group name")))?,
                )
            }
            "confirm" => confirm = v == "yes",
            "expect" => expect = v.parse().ok(),
            _ => {}
        }
    }
    let action = action.ok_or_else(|| bad("choose an action".into()))?;
    let scope = match scope.as_deref() {
        Some("matching") => Scope::Matching,
        Some("selected") | None if !devices.is_empty() => Scope::Selected(devices),
        Some("selected") | None => {
            return Err(bad(
                "no phone is checked; check phones or choose all matching".into(),
            ));
        }
        Some(other) => return Err(bad(format!("no scope `{other}`"))),
    };
    Ok(BulkForm {
        action,
        scope,
        filter,
        profile,
        group,
        confirmed: if confirm { expect } else { None },
    })
}

/// The phones the form names, with their status.
async fn targets(console: &ConsoleState, form: &BulkForm) -> Result<Vec<BulkTarget>, ConsoleError> {
    let store = &console.app.store;
    let ids = match &form.scope {
        Scope::Selected(ids) => ids.clone(),
        Scope::Matching => {
            let params = parse_params(Some(&form.filter), console.options.page_size)?;
            if params.pending.is_some() {
                return Err(ConsoleError::BadRequest(
                    "phones still being provisioned cannot be acted on; filter enrolled phones"
                        .into(),
                ));
            }
            let online_since = Timestamp::now().minus(console.options.online_window);
            let ids = store
                .fleet_ids(&params.query, online_since, BULK_CAP + 1)
                .await?;
            if ids.len() > BULK_CAP as usize {
                return Err(ConsoleError::BadRequest(format!(
                    "the filter matches more than {BULK_CAP} phones; narrow it"
                )));
            }
            ids
        }
    };
    Ok(store.bulk_targets(&ids).await?)
}

#[derive(Debug, Serialize)]
struct Listed {
    id: String,
    name: String,
}

/// `POST /fleet/bulk`: the confirmation, or with `confirm=yes` the action.
pub async fn submit(
    operator: Operator,
    State(console): State<ConsoleState>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = parse_form(&body)?;
    let role = operator.0.user.role;
    if !form.action.access().allows(role) {
        return Err(ConsoleError::Forbidden {
            role,
            needs: form.action.access(),
        });
    }
    let targets = targets(&console, &form).await?;
    let (active, revoked): (Vec<&BulkTarget>, Vec<&BulkTarget>) = targets
        .iter()
        .partition(|t| t.status == DeviceStatus::Active);
    if active.is_empty() {
        return Err(ConsoleError::Conflict(format!(
            "none of the {} chosen phones is active; revoked phones are never acted on",
            targets.len()
        )));
    }
    let store = &console.app.store;
    if let Some(profile) = &form.profile {
        store.current_profile_version(profile).await?;
    }
    let ready = match form.action {
        BulkAction::AssignProfile => form.profile.is_some(),
        _ => true,
    };
    if form.confirmed != Some(active.len()) || !ready {
        return confirmation(&console, &operator, &form, &active, revoked.len()).await;
    }
    let ids: Vec<DeviceId> = active.iter().map(|t| t.id.clone()).collect();
    let audit = BulkAudit {
        action: form.action.as_str().to_owned(),
        actor: operator.actor(),
        detail: serde_json::json!({
            "scope": match form.scope { Scope::Selected(_) => "selected", Scope::Matching => "matching" },
            "filter": form.filter,
            "profile": form.profile.as_ref().map(ProfileName::as_str),
            "group": form.group.as_ref().map(GroupName::as_str),
        }),
    };
    let now = Timestamp::now();
    let outcome: BulkOutcome = match (form.action.command(), form.action) {
        (Some(kind), _) => {
            console
                .app
                .gateway
                .queue_commands_as(&ids, kind, &audit, now)
                .await?
        }
        (None, BulkAction::AssignProfile) => {
            let profile = form
                .profile
                .as_ref()
                .ok_or_else(|| ConsoleError::BadRequest("choose a profile".into()))?;
            store
                .assign_profile_bulk(&ids, profile, &audit, now)
                .await?
        }
        (None, _) => {
            store
                .set_group_bulk(&ids, form.group.as_ref(), &audit, now)
                .await?
        }
    };
    console.app.gateway.send_queued(&outcome.queued);
    console.choices.invalidate();
    let mut back = form_urlencoded::Serializer::new(form.filter.clone());
    back.append_pair("done", form.action.as_str());
    back.append_pair("count", &outcome.done.len().to_string());
    Ok(Redirect::to(&format!("/fleet?{}", back.finish())).into_response())
}

/// The confirmation page: the count, the first phones by name, the revoked ones skipped,
/// and the action's own field (the profile to assign, the group to set).
async fn confirmation(
    console: &ConsoleState,
    operator: &Operator,
    form: &BulkForm,
    active: &[&BulkTarget],
    revoked: usize,
) -> Result<Response, ConsoleError> {
    let store = &console.app.store;
    let mut context = tera::Context::new();
    context.insert("action", form.action.as_str());
    context.insert("count", &active.len());
    context.insert("skipped", &revoked);
    context.insert("changed", &form.confirmed.filter(|n| *n != active.len()));
    context.insert(
        "listed",
        &active
            .iter()
            .take(LISTED)
            .map(|t| Listed {
                id: t.id.to_string(),
                name: t.name.to_string(),
            })
            .collect::<Vec<_>>(),
    );
    context.insert("more", &active.len().saturating_sub(LISTED));
    context.insert(
        "scope",
        match form.scope {
            Scope::Selected(_) => "selected",
            Scope::Matching => "matching",
        },
    );
    // Checked phones travel as ids (revoked ones dropped); a filter travels as itself.
    let devices: Vec<String> = match form.scope {
        Scope::Selected(_) => active.iter().map(|t| t.id.to_string()).collect(),
        Scope::Matching => Vec::new(),
    };
    context.insert("devices", &devices);
    context.insert("filter", &form.filter);
    context.insert("profile", &form.profile.as_ref().map(ProfileName::as_str));
    context.insert("group", &form.group.as_ref().map(GroupName::as_str));
    if form.action == BulkAction::AssignProfile {
        let profiles: Vec<String> = store
            .profiles()
            .await?
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        context.insert("profiles", &profiles);
    }
    if form.action == BulkAction::SetGroup {
        let groups: Vec<String> = store
            .groups()
            .await?
            .iter()
            .map(|g| g.name.to_string())
            .collect();
        context.insert("groups", &groups);
    }
    Ok(render::page(
        &operator.0,
        "fleet",
        "bulk_confirm.html",
        context,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_an_action_and_phones_or_the_filter() {
        let id = "0123456789abcdef0123456789abcdef";
        let f = parse_form(
            format!("csrf=x&action=reboot&scope=selected&device={id}&confirm=yes&expect=1")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(f.action, BulkAction::Reboot);
        assert_eq!(f.confirmed, Some(1));
        assert!(matches!(f.scope, Scope::Selected(ref d) if d.len() == 1));
        let f = parse_form(b"action=set_group&scope=matching&filter=q%3Dtill&group=tills").unwrap();
        assert_eq!((f.scope, f.filter.as_str()), (Scope::Matching, "q=till"));
        assert_eq!(f.group.map(|g| g.to_string()), Some("tills".into()));
        assert_eq!(f.confirmed, None);
        for bad in [
            "scope=matching",
            "action=explode&scope=matching",
            "action=reboot",
            "action=reboot&scope=selected",
            "action=reboot&device=nope",
            "action=set_group&scope=matching&group=a%20b",
            "action=reboot&scope=everything",
        ] {
            assert!(
                matches!(parse_form(bad.as_bytes()), Err(ConsoleError::BadRequest(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn removing_the_work_profile_is_for_admins_only() {
        use crate::domain::Role;
        for action in ["resync", "reboot", "assign_profile", "set_group"] {
            let a = BulkAction::parse(action).unwrap();
            assert!(a.access().allows(Role::Technician), "{action}");
            assert!(!a.access().allows(Role::Auditor), "{action}");
            assert_eq!(a.as_str(), action);
        }
        let remove = BulkAction::RemoveWorkProfile;
        assert!(remove.access().allows(Role::Admin));
        assert!(!remove.access().allows(Role::Technician));
    }
}
