//! One phone: identity, certificates and their expiry, effective profile with the desired
//! and applied versions, deliveries, observed state and drift (the derived sections —
//! wants / reports, drift history, contacts, commands — come from `phone_detail`), recent
//! events — and the
//! actions on it (re-sync, revoke), each behind a confirmation page and a POST with the
//! session's CSRF token.
//!
//! Must never: act on a phone over GET, or act without the capability (re-sync: operator;
//! revoke: admin) whose actor the audit event names.

use axum::extract::{Form, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use corral_wire::CommandKind;
use serde::{Deserialize, Serialize};

use super::ConsoleState;
use super::error::ConsoleError;
use super::fleet::short_version;
use super::render;
use super::session::{Admin, Operator, Session, Viewer};
use crate::domain::{DeliveryState, DeviceId, DeviceStatus, Event, Timestamp};
use crate::store::{EventFilter, FleetRow, is_drift};

/// Events shown on the phone page.
const RECENT_EVENTS: u32 = 25;

fn device_id(text: &str) -> Result<DeviceId, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::NotFound(format!("no phone `{text}`")))
}

/// An event as tables show it.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    pub device: Option<String>,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        EventView {
            id: e.id,
            at: e.at.to_string(),
            device: e.device.as_ref().map(ToString::to_string),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            detail: e.detail.to_string(),
        }
    }
}

fn pretty(value: Option<&serde_json::Value>) -> Option<String> {
    value.and_then(|v| serde_json::to_string_pretty(v).ok())
}

/// `GET /phones/{id}`.
pub async fn show(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let id = device_id(&id)?;
    let store = &console.app.store;
    let row = store.fleet_row(&id).await?;
    let device = store.device(&id).await?;
    let now = Timestamp::now();
    let certificates: Vec<serde_json::Value> = store
        .certificates_of(&id)
        .await?
        .iter()
        .map(|c| {
            let days_left = (c.not_after.unix_millis() - now.unix_millis()) / 86_400_000;
            serde_json::json!({
                "serial": c.serial.to_string(),
                "not_before": c.not_before.to_string(),
                "not_after": c.not_after.to_string(),
                "days_left": days_left,
                "expired": c.not_after <= now,
                "revoked_at": c.revoked_at.map(|t| t.to_string()),
                "current": device.cert_serial.as_ref() == Some(&c.serial),
            })
        })
        .collect();
    let deliveries: Vec<serde_json::Value> = store
        .deliveries(&id)
        .await?
        .iter()
        .rev()
        .map(|d| {
            serde_json::json!({
                "profile": d.profile.to_string(),
                "version": short_version(&d.version),
                "state": match d.state() {
                    DeliveryState::Assigned => "assigned",
                    DeliveryState::Delivered => "delivered",
                    DeliveryState::Applied => "applied",
                    DeliveryState::Failed => "failed",
                },
                "assigned_at": d.assigned_at.to_string(),
                "applied_at": d.applied_at.map(|t| t.to_string()),
                "error": d.error,
            })
        })
        .collect();
    let filter = EventFilter {
        device: Some(id.clone()),
        ..EventFilter::default()
    };
    let events: Vec<EventView> = store
        .events_newest_first(&filter, None, RECENT_EVENTS)
        .await?
        .iter()
        .map(EventView::from)
        .collect();
    let done = raw.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "done")
            .and_then(|(_, v)| match v.as_ref() {
                "revoked" => Some("The phone is revoked; its certificates are no longer accepted."),
                other => PhoneCommand::from_path(other).map(PhoneCommand::done),
            })
    });
    let mut context = phone_context(&console, &row);
    context.insert("device_id", &id.to_string());
    context.insert("certificates", &certificates);
    context.insert("deliveries", &deliveries);
    context.insert("events", &events);
    context.insert("observed_state", &pretty(device.observed_state.as_ref()));
    context.insert("observed_at", &device.observed_at.map(|t| t.to_string()));
    context.insert(
        "drift",
        &pretty(device.drift.as_ref()).filter(|_| is_drift(device.drift.as_ref())),
    );
    super::phone_detail::insert_sections(&console, &row, &device, &mut context).await?;
    context.insert("done", &done);
    context.insert("can_operate", &Operator::ACCESS.allows(viewer.0.user.role));
    context.insert("can_revoke", &Admin::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(&viewer.0, "fleet", "phone.html", context))
}

fn phone_context(console: &ConsoleState, row: &FleetRow) -> tera::Context {
    let mut context = tera::Context::new();
    context.insert("id", &row.id.to_string());
    context.insert("name", &row.name.to_string());
    context.insert("serial", &row.serial);
    context.insert("group", &row.group.as_ref().map(ToString::to_string));
    context.insert("model", &row.model);
    context.insert("android", &row.android_release);
    context.insert("status", row.status.as_str());
    context.insert("online", &console.app.gateway.is_online(&row.id));
    context.insert("enrolled_at", &row.enrolled_at.to_string());
    context.insert("last_seen", &row.last_seen_at.map(|t| t.to_string()));
    context.insert("profile", &row.profile.as_ref().map(ToString::to_string));
    context.insert(
        "desired_version",
        &row.desired_version.as_ref().map(ToString::to_string),
    );
    context.insert(
        "applied_version",
        &row.applied_version.as_ref().map(ToString::to_string),
    );
    context.insert(
        "in_sync",
        &(row.desired_version.is_some() && row.desired_version == row.applied_version),
    );
    context
}

/// The phone, which must still be active to act on.
async fn active(console: &ConsoleState, id: &str) -> Result<FleetRow, ConsoleError> {
    let id = device_id(id)?;
    let row = console.app.store.fleet_row(&id).await?;
    if row.status == DeviceStatus::Revoked {
        return Err(ConsoleError::Conflict(format!(
            "{} is revoked; enroll the phone again to manage it",
            row.name
        )));
    }
    Ok(row)
}

fn confirm_page(
    console: &ConsoleState,
    session: &Session,
    row: &FleetRow,
    action: &str,
) -> Response {
    let mut context = phone_context(console, row);
    context.insert("action", action);
    render::page(session, "fleet", "confirm.html", context)
}

/// A command the phone page sends, each after a confirmation page (`confirm.html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneCommand {
    Resync,
    Reboot,
    CollectLogs,
    /// Admin only, as in the fleet's bulk actions: it deletes the phone's work data.
    RemoveWorkProfile,
}

impl PhoneCommand {
    const ALL: [PhoneCommand; 4] = [
        PhoneCommand::Resync,
        PhoneCommand::Reboot,
        PhoneCommand::CollectLogs,
        PhoneCommand::RemoveWorkProfile,
    ];

    /// The last segment of its routes, `/phones/{id}/<path>`, and its `?done=` value.
    pub fn path(self) -> &'static str {
        match self {
            PhoneCommand::Resync => "resync",
            PhoneCommand::Reboot => "reboot",
            PhoneCommand::CollectLogs => "collect-logs",
            PhoneCommand::RemoveWorkProfile => "remove-work-profile",
        }
    }

    fn kind(self) -> CommandKind {
        match self {
            PhoneCommand::Resync => CommandKind::ReSync,
            PhoneCommand::Reboot => CommandKind::Reboot,
            PhoneCommand::CollectLogs => CommandKind::CollectLogs,
            PhoneCommand::RemoveWorkProfile => CommandKind::RemoveWorkProfile,
        }
    }

    /// The confirmation page: question (before the phone's name), what happens, button.
    fn wording(self) -> (&'static str, &'static str, &'static str) {
        match self {
            PhoneCommand::Resync => (
                "Re-sync",
                "The phone reports its state again and re-applies its profile version as soon as it is connected.",
                "Re-sync",
            ),
            PhoneCommand::Reboot => (
                "Reboot",
                "The phone restarts as soon as it is connected; the agent starts again with it and reconnects.",
                "Reboot",
            ),
            PhoneCommand::CollectLogs => (
                "Collect the agent's log from",
                "The agent sends its recent log (at most 64 KiB) as soon as the phone is connected; it is listed under Commands on the phone's page.",
                "Collect logs from",
            ),
            PhoneCommand::RemoveWorkProfile => (
                "Remove the work profile of",
                "The work profile and everything in it — the messenger, its chats and the work contacts — are deleted from the phone as soon as it is connected. Assign or re-sync a profile to create it again. This cannot be undone.",
                "Remove the work profile of",
            ),
        }
    }

    fn done(self) -> &'static str {
        match self {
            PhoneCommand::Resync => "Re-sync queued; the phone gets it as soon as it is connected.",
            PhoneCommand::Reboot => "Reboot queued; the phone gets it as soon as it is connected.",
            PhoneCommand::CollectLogs => {
                "Log collection queued; the log appears under Commands once the phone has sent it."
            }
            PhoneCommand::RemoveWorkProfile => {
                "Work-profile removal queued; the phone gets it as soon as it is connected."
            }
        }
    }

    fn from_path(path: &str) -> Option<PhoneCommand> {
        PhoneCommand::ALL.into_iter().find(|c| c.path() == path)
    }
}

fn confirm_command(
    console: &ConsoleState,
    session: &Session,
    row: &FleetRow,
    command: PhoneCommand,
) -> Response {
    let (question, explanation, button) = command.wording();
    let mut context = phone_context(console, row);
    context.insert("action", "command");
    context.insert("command_path", command.path());
    context.insert("question", question);
    context.insert("explanation", explanation);
    context.insert("button", button);
    context.insert("danger", &(command == PhoneCommand::RemoveWorkProfile));
    render::page(session, "fleet", "confirm.html", context)
}

/// Queues `command` for the phone (audited as `device.command_queued` with the actor);
/// online phones get it at once, offline ones when they reconnect.
async fn send_command(
    console: &ConsoleState,
    actor: &str,
    id: &str,
    command: PhoneCommand,
) -> Result<Response, ConsoleError> {
    let row = active(console, id).await?;
    console
        .app
        .gateway
        .queue_command_as(&row.id, command.kind(), actor, Timestamp::now())
        .await?;
    Ok(Redirect::to(&format!("/phones/{}?done={}", row.id, command.path())).into_response())
}

/// The pair of handlers of one [`PhoneCommand`]: `GET` answers its confirmation page,
/// `POST` queues it; `$role` is the capability both need.
macro_rules! command_routes {
    ($(#[$confirm_doc:meta])* $confirm:ident, $(#[$send_doc:meta])* $send:ident, $role:ident, $command:expr) => {
        $(#[$confirm_doc])*
        pub async fn $confirm(
            who: $role,
            State(console): State<ConsoleState>,
            Path(id): Path<String>,
        ) -> Result<Response, ConsoleError> {
            let row = active(&console, &id).await?;
            Ok(confirm_command(&console, &who.0, &row, $command))
        }

        $(#[$send_doc])*
        pub async fn $send(
            who: $role,
            State(console): State<ConsoleState>,
            Path(id): Path<String>,
        ) -> Result<Response, ConsoleError> {
            send_command(&console, &who.actor(), &id, $command).await
        }
    };
}

command_routes!(
    /// `GET /phones/{id}/resync`: asks before queuing a re-sync.
    confirm_resync,
    /// `POST /phones/{id}/resync`: queues a re-sync command (audited).
    resync,
    Operator,
    PhoneCommand::Resync
);
command_routes!(
    /// `GET /phones/{id}/reboot`: asks before queuing a reboot.
    confirm_reboot,
    /// `POST /phones/{id}/reboot`: queues a reboot (audited).
    reboot,
    Operator,
    PhoneCommand::Reboot
);
command_routes!(
    /// `GET /phones/{id}/collect-logs`: asks before asking the agent for its log.
    confirm_collect_logs,
    /// `POST /phones/{id}/collect-logs`: queues a log collection (audited); the output
    /// is shown at `/phones/{id}/commands/{command}`.
    collect_logs,
    Operator,
    PhoneCommand::CollectLogs
);
command_routes!(
    /// `GET /phones/{id}/remove-work-profile`: asks before removing the work profile.
    confirm_remove_work_profile,
    /// `POST /phones/{id}/remove-work-profile`: queues the removal (admin only, audited).
    remove_work_profile,
    Admin,
    PhoneCommand::RemoveWorkProfile
);

/// `GET /phones/{id}/revoke`: asks for a reason before revoking.
pub async fn confirm_revoke(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let row = active(&console, &id).await?;
    Ok(confirm_page(&console, &admin.0, &row, "revoke"))
}

/// The revoke form (`csrf` is checked by the guard).
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    pub reason: String,
}

/// `POST /phones/{id}/revoke`: revokes the phone and its certificates and drops its
/// live session; the `device.revoked` event names the admin and the reason.
pub async fn revoke(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, ConsoleError> {
    let row = active(&console, &id).await?;
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ConsoleError::BadRequest(
            "the reason must be 1 to 500 characters (it is kept in the audit log)".into(),
        ));
    }
    console
        .app
        .gateway
        .revoke_device(&row.id, reason, &admin.actor(), Timestamp::now())
        .await?;
    Ok(Redirect::to(&format!("/phones/{}?done=revoked", row.id)).into_response())
}
