//! The fleet page: every phone with its status (online, offline since, drift, revoked),
//! profile and version, group, Android version and last-seen time; search, filters, sort
//! and pages, all done by the database (`Store::fleet_page`); above them the phones being
//! provisioned or whose provisioning failed (`Store::pending_phones`), which the status
//! filter can also list alone; check boxes and the bulk-action bar for roles that may
//! act (the actions are in [`super::bulk`]).
//!
//! Must never: load the whole fleet; change anything.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use std::sync::Arc;

use super::ConsoleState;
use super::error::ConsoleError;
use super::fleet_query::{FleetParams, filter_string, link, parse_params, sort_name};
use super::fleet_rows;
use super::hot_cache::FleetData;
use super::render;
use super::session::Viewer;
use super::session::{Admin, Operator};
use crate::domain::{DeviceStatus, ProfileName, Timestamp};
use crate::store::{FleetPage, FleetSort, PendingPage, PendingPhone, PendingState, Presence};

/// Pending phones shown above the fleet (the status filter lists them all).
const PENDING_PREVIEW: u32 = 10;

/// `GET /`: the fleet is the start page.
pub async fn home(_: Viewer) -> Response {
    Redirect::to("/fleet").into_response()
}

/// A version hash shortened for tables (`sha256:` and the first 12 hex digits).
pub fn short_version(v: &impl std::fmt::Display) -> String {
    let text = v.to_string();
    text.chars().take(19).collect()
}

/// A phone being provisioned, as the template shows it.
#[derive(Debug, Serialize)]
struct PendingView {
    run: i64,
    serial: String,
    profile: String,
    status: &'static str,
    step: Option<&'static str>,
    error: Option<String>,
    started: String,
    finished: Option<String>,
}

fn pending_view(p: &PendingPhone) -> PendingView {
    PendingView {
        run: p.run,
        serial: p.serial.clone(),
        profile: p.profile.to_string(),
        status: p.state.as_str(),
        step: p.step.map(|s| s.as_str()),
        error: p.error.clone(),
        started: p.started_at.to_string(),
        finished: p.finished_at.map(|t| t.to_string()),
    }
}

/// The message after a bulk action (`?done=ACTION&count=N`).
fn done_message(action: &str, count: u64) -> Option<String> {
    let phones = if count == 1 { "phone" } else { "phones" };
    let what = match action {
        "resync" => "Re-sync queued for",
        "reboot" => "Reboot queued for",
        "remove_work_profile" => "Work-profile removal queued for",
        "assign_profile" => "Profile assigned to",
        "set_group" => "Group changed for",
        _ => return None,
    };
    Some(format!(
        "{what} {count} {phones}; offline phones get it when they reconnect."
    ))
}

/// The store's answer for this page's query: from [`ConsoleState::fleet`] when read
/// within [`ConsoleOptions::fleet_cache_ttl`](super::ConsoleOptions), else from the store.
async fn fleet_data(
    console: &ConsoleState,
    params: &FleetParams,
    device_filter: bool,
) -> Result<Arc<FleetData>, ConsoleError> {
    let page_size = console.options.page_size;
    let ttl = console.options.fleet_cache_ttl;
    // The query as the store sees it; `page` and `done` are already in it or irrelevant.
    let key = format!("{:?}|{:?}", params.query, params.pending);
    let store = &console.app.store;
    let online_window = console.options.online_window;
    console
        .fleet
        .get_or_load(key, ttl, || async move {
            if params.pending.is_some() {
                return Ok(FleetData {
                    page: FleetPage {
                        rows: Vec::new(),
                        total: 0,
                    },
                    pending: store
                        .pending_phones(&params.pending_query(page_size))
                        .await?,
                });
            }
            let online_since = Timestamp::now().minus(online_window);
            let page = store.fleet_page(&params.query, online_since).await?;
            let pending = if device_filter {
                PendingPage {
                    rows: Vec::new(),
                    total: 0,
                }
            } else {
                store
                    .pending_phones(&params.pending_query(PENDING_PREVIEW))
                    .await?
            };
            Ok(FleetData { page, pending })
        })
        .await
}

/// `GET /fleet`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let page_size = console.options.page_size;
    let params = parse_params(raw.as_deref(), page_size)?;
    let store = &console.app.store;
    let q = &params.query;
    // The pending phones have no status, connection, drift, profile or group yet: any of
    // those filters hides them; the search applies to their serial and profile.
    let device_filter = q.status.is_some()
        || q.connection.is_some()
        || q.drifting
        || q.profile.is_some()
        || q.group.is_some();
    let data = fleet_data(&console, &params, device_filter).await?;
    let (rows, total, pending) = if params.pending.is_some() {
        (String::new(), data.pending.total, &data.pending)
    } else {
        let gateway = &console.app.gateway;
        let rows = fleet_rows::rows_html(
            data.page.rows.iter().map(|r| (r, gateway.is_online(&r.id))),
            Operator::ACCESS.allows(viewer.0.user.role),
        );
        (rows, data.page.total, &data.pending)
    };
    let choices = console
        .choices
        .get(store, console.options.choices_ttl)
        .await?;
    let pages = u32::try_from(total.div_ceil(u64::from(page_size)))
        .unwrap_or(u32::MAX)
        .max(1);
    let sort_links: Vec<(&str, &str, String)> = [
        ("name", "Name", FleetSort::Name),
        ("profile", "Profile", FleetSort::Profile),
        ("android", "Android", FleetSort::Android),
        ("last_seen", "Last seen", FleetSort::LastSeen),
        ("enrolled", "Enrolled", FleetSort::Enrolled),
    ]
    .into_iter()
    .map(|(key, label, sort)| {
        let descending = q.sort == sort && !q.descending;
        (key, label, link(&params, 1, sort, descending))
    })
    .collect();
    let mut context = tera::Context::new();
    // Pre-escaped by `fleet_rows` (the page's hot loop, kept out of tera).
    context.insert("rows_html", &rows);
    context.insert("total", &total);
    context.insert("pending_mode", &params.pending.is_some());
    context.insert(
        "pending",
        &pending.rows.iter().map(pending_view).collect::<Vec<_>>(),
    );
    context.insert("pending_total", &pending.total);
    context.insert("page", &params.page);
    context.insert("pages", &pages);
    context.insert(
        "prev",
        &(params.page > 1).then(|| link(&params, params.page - 1, q.sort, q.descending)),
    );
    context.insert(
        "next",
        &(params.page < pages).then(|| link(&params, params.page + 1, q.sort, q.descending)),
    );
    context.insert("sort_links", &sort_links);
    context.insert("sort", sort_name(q.sort));
    context.insert("descending", &q.descending);
    context.insert("q", &q.search);
    context.insert(
        "status",
        &params
            .pending
            .map(PendingState::as_str)
            .or(q.status.map(DeviceStatus::as_str)),
    );
    context.insert(
        "connection",
        &q.connection.map(|c| match c {
            Presence::Online => "online",
            Presence::Offline => "offline",
        }),
    );
    context.insert("drift", &q.drifting);
    context.insert("profile", &q.profile.as_ref().map(ProfileName::as_str));
    context.insert("group", &q.group.as_ref().map(|g| g.as_str()));
    context.insert("profiles", &choices.profiles);
    context.insert("groups", &choices.groups);
    context.insert("filter", &filter_string(&params));
    context.insert(
        "done",
        &params
            .done
            .as_ref()
            .and_then(|(action, count)| done_message(action, *count)),
    );
    context.insert("can_operate", &Operator::ACCESS.allows(viewer.0.user.role));
    context.insert("can_admin", &Admin::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(&viewer.0, "fleet", "fleet.html", context))
}
