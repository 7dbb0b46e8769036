//! The fleet page's query string: parsed into the store's [`FleetQuery`] (or, for the
//! `enrolling` and `failed` statuses, a [`PendingQuery`]) and written back for links.
//! The bulk actions carry the same string to act on "every phone matching this filter".
//!
//! Must never: accept a parameter it does not know (a typo is a 400 naming it).

use crate::domain::{DeviceStatus, GroupName, ProfileName};
use crate::store::{FleetQuery, FleetSort, PendingQuery, PendingState, Presence};

use super::error::ConsoleError;

/// The fleet page's query string, parsed: the store's query plus the page number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetParams {
    pub query: FleetQuery,
    /// `status=enrolling|failed`: the phones being provisioned instead of the fleet.
    pub pending: Option<PendingState>,
    pub page: u32,
    /// After a bulk action: which one and how many phones (for the message).
    pub done: Option<(String, u64)>,
}

impl FleetParams {
    /// The pending phones this page's search and status ask for.
    pub fn pending_query(&self, limit: u32) -> PendingQuery {
        PendingQuery {
            state: self.pending,
            search: self.query.search.clone(),
            offset: if self.pending.is_some() {
                self.query.offset
            } else {
                0
            },
            limit,
        }
    }
}

const PARAMS: &[&str] = &[
    "q",
    "status",
    "connection",
    "drift",
    "profile",
    "group",
    "sort",
    "dir",
    "page",
    "done",
    "count",
];

/// Parses `?q=&status=&connection=&drift=&profile=&group=&sort=&dir=&page=`. Empty values
/// mean "any"; anything else unknown is a 400 naming the parameter.
pub fn parse_params(raw: Option<&str>, page_size: u32) -> Result<FleetParams, ConsoleError> {
    let mut query = FleetQuery {
        limit: page_size,
        ..FleetQuery::default()
    };
    let mut pending = None;
    let mut page = 1u32;
    let mut done = None;
    let mut count = 0u64;
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
            "status" => match value {
                "enrolling" => pending = Some(PendingState::Enrolling),
                "failed" => pending = Some(PendingState::Failed),
                _ => {
                    query.status =
                        Some(DeviceStatus::parse(value).map_err(|_| bad("status", value))?)
                }
            },
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
            "group" => {
                query.group = Some(GroupName::parse(value).map_err(|_| bad("group", value))?)
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
            "done"
                if value.len() <= 32
                    && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                done = Some(value.to_owned());
            }
            "count" => count = value.parse().map_err(|_| bad("count", value))?,
            _ => {}
        }
    }
    query.offset = (page - 1).saturating_mul(page_size);
    Ok(FleetParams {
        query,
        pending,
        page,
        done: done.map(|d| (d, count)),
    })
}

/// The name of a sort in the query string.
pub fn sort_name(sort: FleetSort) -> &'static str {
    match sort {
        FleetSort::Name => "name",
        FleetSort::LastSeen => "last_seen",
        FleetSort::Enrolled => "enrolled",
        FleetSort::Android => "android",
        FleetSort::Profile => "profile",
    }
}

/// The filter part of the query string (search, status, connection, drift, profile,
/// group), without sort and page: what "every phone matching this filter" means.
pub fn filter_string(params: &FleetParams) -> String {
    let q = &params.query;
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(search) = &q.search {
        s.append_pair("q", search);
    }
    if let Some(state) = params.pending {
        s.append_pair("status", state.as_str());
    } else if let Some(status) = q.status {
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
    if let Some(g) = &q.group {
        s.append_pair("group", g.as_str());
    }
    s.finish()
}

/// The fleet page's link for `params` with the page and sort given.
pub fn link(params: &FleetParams, page: u32, sort: FleetSort, descending: bool) -> String {
    let mut s = form_urlencoded::Serializer::new(filter_string(params));
    s.append_pair("sort", sort_name(sort));
    s.append_pair("dir", if descending { "desc" } else { "asc" });
    s.append_pair("page", &page.to_string());
    format!("/fleet?{}", s.finish())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(raw: &str, expect: Expect) {
        let shown = match parse_params(Some(raw), 50) {
            Ok(p) => format!(
                "{:?} pending {:?} page {} | {}",
                p.query,
                p.pending,
                p.page,
                link(&p, p.page, p.query.sort, p.query.descending)
            ),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&shown);
    }

    #[test]
    fn parses_the_fleet_query_string() {
        check(
            "",
            expect![[
                r#"FleetQuery { search: None, status: None, connection: None, drifting: false, profile: None, group: None, sort: Name, descending: false, offset: 0, limit: 50 } pending None page 1 | /fleet?sort=name&dir=asc&page=1"#
            ]],
        );
        check(
            "q=Till+1&status=active&connection=offline&drift=yes&profile=base&group=tills&sort=last_seen&dir=desc&page=3",
            expect![[
                r#"FleetQuery { search: Some("Till 1"), status: Some(Active), connection: Some(Offline), drifting: true, profile: Some(ProfileName("base")), group: Some(GroupName("tills")), sort: LastSeen, descending: true, offset: 100, limit: 50 } pending None page 3 | /fleet?q=Till+1&status=active&connection=offline&drift=yes&profile=base&group=tills&sort=last_seen&dir=desc&page=3"#
            ]],
        );
        check(
            "status=&connection=&profile=&group=",
            expect![[
                r#"FleetQuery { search: None, status: None, connection: None, drifting: false, profile: None, group: None, sort: Name, descending: false, offset: 0, limit: 50 } pending None page 1 | /fleet?sort=name&dir=asc&page=1"#
            ]],
        );
        check(
            "status=failed&q=R58",
            expect![[
                r#"FleetQuery { search: Some("R58"), status: None, connection: None, drifting: false, profile: None, group: None, sort: Name, descending: false, offset: 0, limit: 50 } pending Some(Failed) page 1 | /fleet?q=R58&status=failed&sort=name&dir=asc&page=1"#
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
        check(
            "group=a%20b%2Fc",
            expect!["error: query parameter `group`: `a b/c` is not accepted"],
        );
        check("order=1", expect!["error: unknown query parameter `order`"]);
    }
}
