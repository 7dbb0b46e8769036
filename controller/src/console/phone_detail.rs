//! The phone page's derived sections — what the profile wants against what the phone
//! reports (`phone_state`), drift history, the work profile's contacts and the phone's
//! commands — and the page of one command's output (`collect_logs`).
//!
//! Must never: change anything (reads only), or show a work contact's name or number
//! (counts only; the agent blanks the others before reporting).

use axum::extract::{Path, State};
use axum::response::Response;
use corral_profiles::{DeviceSerial, ObservedPhone};
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::phone_state::{self, StateRow};
use super::render;
use super::session::Viewer;
use crate::domain::{Device, DeviceId, Timestamp};
use crate::store::{CommandRecord, EventFilter, FleetRow};

/// Drift events shown; the rest are in the audit log (linked).
pub const DRIFT_HISTORY: u32 = 20;
/// Commands shown.
pub const COMMANDS: u32 = 20;

/// One drift event as the history lists it.
#[derive(Debug, Serialize)]
struct DriftView {
    at: String,
    what: &'static str,
    items: u64,
    kinds: Vec<String>,
}

/// One command as the table lists it.
#[derive(Debug, Serialize)]
struct CommandView {
    id: String,
    kind: String,
    state: &'static str,
    queued_at: String,
    sent_at: Option<String>,
    attempts: u64,
    finished_at: Option<String>,
    error: Option<String>,
    has_output: bool,
}

impl From<&CommandRecord> for CommandView {
    fn from(c: &CommandRecord) -> Self {
        CommandView {
            id: c.command_id.clone(),
            kind: c.kind.replace('_', " "),
            state: c.state.as_str(),
            queued_at: c.queued_at.to_string(),
            sent_at: c.sent_at.map(|t| t.to_string()),
            attempts: c.attempts,
            finished_at: c.finished_at.map(|t| t.to_string()),
            error: c.error.clone(),
            has_output: c.output.is_some(),
        }
    }
}

/// The work profile's contacts as the page states them.
#[derive(Debug, Serialize)]
struct ContactsView {
    /// Allow-listed contacts in the work profile (from the last report).
    count: Option<usize>,
    /// Contacts outside the list still on the phone.
    pending_removals: usize,
    /// The allow-list version the phone confirmed, and when.
    confirmed_version: Option<String>,
    confirmed_at: Option<String>,
    /// A newer list is queued and not confirmed yet.
    queued_version: Option<String>,
    error: Option<String>,
}

/// Adds the sections to the phone page's `context`.
pub async fn insert_sections(
    console: &ConsoleState,
    row: &FleetRow,
    device: &Device,
    context: &mut tera::Context,
) -> Result<(), ConsoleError> {
    let store = &console.app.store;
    let observed: Option<ObservedPhone> = device
        .observed_state
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let target = match (&row.profile, &row.desired_version) {
        (Some(p), Some(v)) => {
            let version = store.profile_version(p, v).await?;
            let resolved = version.resolve().map_err(|e| {
                tracing::error!(profile = %p, error = %e, "Stored profile version no longer resolves.");
                ConsoleError::Internal
            })?;
            let serial = row
                .serial
                .as_deref()
                .and_then(|s| DeviceSerial::parse(s).ok());
            Some(resolved.for_device(serial.as_ref()))
        }
        _ => None,
    };
    let rows: Vec<StateRow> = target
        .as_ref()
        .map(|t| phone_state::compare(t, observed.as_ref()))
        .unwrap_or_default();
    context.insert("state_rows", &rows);
    context.insert(
        "state_drift",
        &rows
            .iter()
            .filter(|r| r.status == phone_state::RowStatus::Drift)
            .count(),
    );
    context.insert(
        "observed_unreadable",
        &(device.observed_state.is_some() && observed.is_none()),
    );

    let filter = EventFilter {
        device: Some(device.id.clone()),
        kind: Some("drift.".into()),
        ..EventFilter::default()
    };
    let history: Vec<DriftView> = store
        .events_newest_first(&filter, None, DRIFT_HISTORY)
        .await?
        .iter()
        .map(|e| DriftView {
            at: e.at.to_string(),
            what: match e.kind.as_str() {
                "drift.cleared" => "cleared",
                "drift.repaired" => "found and repaired",
                _ => "detected",
            },
            items: e.detail.get("items").and_then(|v| v.as_u64()).unwrap_or(0),
            kinds: e
                .detail
                .get("kinds")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(|k| k.replace('_', " ")))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    context.insert("drift_history", &history);
    context.insert("drift_history_limit", &DRIFT_HISTORY);

    let list = store.device_allow_list(&device.id).await?;
    let counts = observed.as_ref().and_then(|o| o.work.as_ref()).map(|w| {
        let allowed = target
            .as_ref()
            .map(|t| {
                t.settings
                    .messenger
                    .packages
                    .iter()
                    .map(|p| p.as_str())
                    .chain(
                        t.settings
                            .privacy
                            .allowed_accounts
                            .iter()
                            .map(String::as_str),
                    )
                    .collect()
            })
            .unwrap_or_default();
        phone_state::contact_counts(w, &allowed)
    });
    let contacts = ContactsView {
        count: counts.map(|c| c.allow_listed),
        pending_removals: counts.map_or(0, |c| c.foreign),
        confirmed_version: list.as_ref().and_then(|l| l.applied_version.clone()),
        confirmed_at: list
            .as_ref()
            .and_then(|l| l.applied_at)
            .map(|t: Timestamp| t.to_string()),
        queued_version: list
            .as_ref()
            .filter(|l| l.applied_version.as_ref() != Some(&l.version))
            .map(|l| l.version.clone()),
        error: list.as_ref().and_then(|l| l.error.clone()),
    };
    context.insert("contacts", &contacts);

    let commands: Vec<CommandView> = store
        .device_commands(&device.id, COMMANDS)
        .await?
        .iter()
        .map(CommandView::from)
        .collect();
    context.insert("commands", &commands);
    Ok(())
}

/// `GET /phones/{id}/commands/{command}`: one command with what it printed.
pub async fn command_output(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path((id, command)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let not_found = || ConsoleError::NotFound(format!("no command `{command}` of phone `{id}`"));
    let device_id: DeviceId = id.parse().map_err(|_| not_found())?;
    let store = &console.app.store;
    let row = store.fleet_row(&device_id).await?;
    // Bounded like the page: an older command's output is in the audit log.
    let found = store
        .device_commands(&device_id, COMMANDS)
        .await?
        .into_iter()
        .find(|c| c.command_id == command)
        .ok_or_else(not_found)?;
    let mut context = tera::Context::new();
    context.insert("id", &row.id.to_string());
    context.insert("name", &row.name.to_string());
    context.insert("command", &CommandView::from(&found));
    context.insert("output", &found.output);
    context.insert("output_truncated", &found.output_truncated);
    Ok(render::page(&viewer.0, "fleet", "command.html", context))
}
