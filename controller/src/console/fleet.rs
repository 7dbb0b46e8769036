//! The fleet page: every phone with its status (online, offline since, drift, revoked),
//! profile and version, Android version and last-seen time; search, filters, sort and
//! pages, all done by the database (`Store::fleet_page`).
//!
//! Must never: load the whole fleet; change anything.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::Viewer;
use crate::domain::{DeviceStatus, ProfileName, Timestamp};
use crate::store::{FleetQuery, FleetRow, FleetSort, Presence};

/// `GET /`: the fleet is the start page.
pub async fn home(_: Viewer) -> Response {
    Redirect::to("/fleet").into_response()
}

/// The fleet page's query string, parsed: the store's query plus the page number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetParams {
    pub query: FleetQuery,
    pub page: u32,
}

const PARAMS: &[&str] = &[
    "q",
    "status",
    "connection",
    "drift",
    "profile",
    "sort",
    "dir",
    "page",
];

/// Parses `?q=&status=&connection=&drift=&profile=&sort=&dir=&page=`. Empty values mean
/// "any"; anything else unknown is a 400 naming the parameter.
pub fn parse_params(raw: Option<&str>, page_size: u32) -> Result<FleetParams, ConsoleError> {
    let mut query = FleetQuery {
        limit: page_size,
        ..FleetQuery::default()
    };
    let mut page = 1u32;
    let bad = |name: &str, value: &str| {
        ConsoleError::BadRequest(format!(
            "query parameter `{name}`: `{value}` is not accepted"
        ))
    };
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let value = value.trim();
        if !PARAMS.contains(&name.as_ref()) {
            return Err(ConsoleError::BadRequest(format!(
                "unknown query parameter `{name}`"
            )));
        }
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "q" => query.search = Some(value.chars().take(100).collect()),
            "status" => {
                query.status = Some(DeviceStatus::parse(value).map_err(|_| bad("status", value))?)
            }
            "connection" => {
                query.connection = Some(match value {
                    "online" => Presence::Online,
                    "offline" => Presence::Offline,
                    _ => return Err(bad("connection", value)),
                })
            }
            "drift" => query.drifting = value == "yes",
            "profile" => {
                query.profile = Some(ProfileName::parse(value).map_err(|_| bad("profile", value))?)
            }
            "sort" => {
                query.sort = match value {
                    "name" => FleetSort::Name,
                    "last_seen" => FleetSort::LastSeen,
                    "enrolled" => FleetSort::Enrolled,
                    "android" => FleetSort::Android,
                    "profile" => FleetSort::Profile,
                    _ => return Err(bad("sort", value)),
                }
            }
            "dir" => {
                query.descending = match value {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(bad("dir", value)),
                }
            }
            "page" => {
                page = value
                    .parse()
                    .ok()
                    .filter(|p| (1..=1_000_000).contains(p))
                    .ok_or_else(|| bad("page", value))?
            }
            _ => {}
        }
    }
    query.offset = (page - 1).saturating_mul(page_size);
    Ok(FleetParams { query, page })
}

fn sort_name(sort: FleetSort) -> &'static str {
    match sort {
        FleetSort::Name => "name",
        FleetSort::LastSeen => "last_seen",
        FleetSort::Enrolled => "enrolled",
        FleetSort::Android => "android",
        FleetSort::Profile => "profile",
    }
}

/// The query string for `params` with the page and sort given.
fn link(params: &FleetParams, page: u32, sort: FleetSort, descending: bool) -> String {
    let q = &params.query;
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(search) = &q.search {
        s.append_pair("q", search);
    }
    if let Some(status) = q.status {
        s.append_pair("status", status.as_str());
    }
    match q.connection {
        Some(Presence::Online) => {
            s.append_pair("connection", "online");
        }
        Some(Presence::Offline) => {
            s.append_pair("connection", "offline");
        }
        None => {}
    }
    if q.drifting {
        s.append_pair("drift", "yes");
    }
    if let Some(p) = &q.profile {
        s.append_pair("profile", p.as_str());
    }
    s.append_pair("sort", sort_name(sort));
    s.append_pair("dir", if descending { "desc" } else { "asc" });
    s.append_pair("page", &page.to_string());
    format!("/fleet?{}", s.finish())
}

/// One row as the template shows it.
#[derive(Debug, Serialize)]
struct RowView {
    id: String,
    name: String,
    serial: Option<String>,
    group: Option<String>,
    status: &'static str,
    status_detail: String,
    drifting: bool,
    in_sync: bool,
    profile: Option<String>,
    applied_version: Option<String>,
    desired_version: Option<String>,
    model: Option<String>,
    android: Option<String>,
    last_seen: Option<String>,
    enrolled: String,
}

/// A version hash shortened for tables (`sha256:` and the first 12 hex digits).
pub fn short_version(v: &impl std::fmt::Display) -> String {
    let text = v.to_string();
    text.chars().take(19).collect()
}

fn row_view(console: &ConsoleState, row: &FleetRow) -> RowView {
    let online = console.app.gateway.is_online(&row.id);
    let (status, status_detail) = match (row.status, online) {
        (DeviceStatus::Revoked, _) => ("revoked", "revoked".to_owned()),
        (DeviceStatus::Active, true) => ("online", "online".to_owned()),
        (DeviceStatus::Active, false) => (
            "offline",
            match row.last_seen_at {
                Some(t) => format!("offline since {t}"),
                None => "never connected".to_owned(),
            },
        ),
    };
    RowView {
        id: row.id.to_string(),
        name: row.name.to_string(),
        serial: row.serial.clone(),
        group: row.group.as_ref().map(ToString::to_string),
        status,
        status_detail,
        drifting: row.drifting(),
        in_sync: row.desired_version.is_some() && row.desired_version == row.applied_version,
        profile: row.profile.as_ref().map(ToString::to_string),
        applied_version: row.applied_version.as_ref().map(short_version),
        desired_version: row.desired_version.as_ref().map(short_version),
        model: row.model.clone(),
        android: row.android_release.clone(),
        last_seen: row.last_seen_at.map(|t| t.to_string()),
        enrolled: row.enrolled_at.to_string(),
    }
}

/// `GET /fleet`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let page_size = console.options.page_size;
    let params = parse_params(raw.as_deref(), page_size)?;
    let online_since = Timestamp::now().minus(console.options.online_window);
    let page = console
        .app
        .store
        .fleet_page(&params.query, online_since)
        .await?;
    let profiles = console.app.store.profiles().await?;
    let pages = u32::try_from(page.total.div_ceil(u64::from(page_size)))
        .unwrap_or(u32::MAX)
        .max(1);
    let q = &params.query;
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
    context.insert(
        "rows",
        &page
            .rows
            .iter()
            .map(|r| row_view(&console, r))
            .collect::<Vec<_>>(),
    );
    context.insert("total", &page.total);
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
    context.insert("status", &q.status.map(DeviceStatus::as_str));
    context.insert(
        "connection",
        &q.connection.map(|c| match c {
            Presence::Online => "online",
            Presence::Offline => "offline",
        }),
    );
    context.insert("drift", &q.drifting);
    context.insert("profile", &q.profile.as_ref().map(ProfileName::as_str));
    context.insert(
        "profiles",
        &profiles
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>(),
    );
    Ok(render::page(&viewer.0, "fleet", "fleet.html", context))
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(raw: &str, expect: Expect) {
        let shown = match parse_params(Some(raw), 50) {
            Ok(p) => format!("{:?} page {}", p.query, p.page),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&shown);
    }

    #[test]
    fn parses_the_fleet_query_string() {
        check(
            "",
            expect![[
                r#"FleetQuery { search: None, status: None, connection: None, drifting: false, profile: None, sort: Name, descending: false, offset: 0, limit: 50 } page 1"#
            ]],
        );
        check(
            "q=Till+1&status=active&connection=offline&drift=yes&profile=base&sort=last_seen&dir=desc&page=3",
            expect![[
                r#"FleetQuery { search: Some("Till 1"), status: Some(Active), connection: Some(Offline), drifting: true, profile: Some(ProfileName("base")), sort: LastSeen, descending: true, offset: 100, limit: 50 } page 3"#
            ]],
        );
        check(
            "status=&connection=&profile=",
            expect![[
                r#"FleetQuery { search: None, status: None, connection: None, drifting: false, profile: None, sort: Name, descending: false, offset: 0, limit: 50 } page 1"#
            ]],
        );
        check(
            "sort=serial",
            expect!["error: query parameter `sort`: `serial` is not accepted"],
        );
        check(
            "page=0",
            expect!["error: query parameter `page`: `0` is not accepted"],
        );
        check(
            "status=lost",
            expect!["error: query parameter `status`: `lost` is not accepted"],
        );
        check("order=1", expect!["error: unknown query parameter `order`"]);
    }
}
