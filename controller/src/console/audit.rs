//! The audit log: every admin action and device event, newest first, filterable by kind
//! (exact, or a prefix ending in `.` such as `device.`), actor, phone and time range,
//! paged by id, and exported (the filtered view, every page) as CSV or JSON.
//!
//! Must never: write anything (reading the log is not itself logged).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::ConsoleState;
use super::error::ConsoleError;
use super::export;
use super::phone::EventView;
use super::render;
use super::session::Viewer;
use crate::domain::{Event, Timestamp};
use crate::store::EventFilter;

/// Entries per page.
const PAGE: u32 = 100;

/// Entries read per query when exporting.
const EXPORT_PAGE: u32 = 5000;

/// At most this many entries in one export (narrow the filter for more).
const EXPORT_LIMIT: usize = 200_000;

/// The filters and page of an audit request.
#[derive(Debug, Default, PartialEq, Eq)]
struct AuditQuery {
    filter: EventFilter,
    before: Option<i64>,
    /// The time fields as typed, to show them back in the form.
    from_text: Option<String>,
    to_text: Option<String>,
}

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (a trailing `Z` allowed; a
/// space may stand for the `T`), read as UTC.
fn parse_utc(text: &str) -> Option<Timestamp> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, clock) = match text.split_once(['T', ' ']) {
        Some((d, c)) => (d, Some(c)),
        None => (text, None),
    };
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        number(parts.next()?, 4)?,
        number(parts.next()?, 2)?,
        number(parts.next()?, 2)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (hh, mm, ss) = match clock {
        None => (0, 0, 0),
        Some(c) => {
            let mut parts = c.split(':');
            let hh = number(parts.next()?, 2)?;
            let mm = number(parts.next()?, 2)?;
            let ss = match parts.next() {
                Some(s) => number(s, 2)?,
                None => 0,
            };
            if parts.next().is_some() || hh > 23 || mm > 59 || ss > 59 {
                return None;
            }
            (hh, mm, ss)
        }
    };
    // Days from civil (Howard Hinnant's algorithm), the inverse of `Timestamp`'s display.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(Timestamp::from_unix_seconds(
        days * 86_400 + hh * 3600 + mm * 60 + ss,
    ))
}

fn parse_query(raw: Option<&str>) -> Result<AuditQuery, ConsoleError> {
    let mut query = AuditQuery::default();
    let bad = |name: &str, value: &str| {
        ConsoleError::BadRequest(format!(
            "query parameter `{name}`: `{value}` is not accepted"
        ))
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "kind" => query.filter.kind = Some(v.chars().take(100).collect()),
            "actor" => query.filter.actor = Some(v.chars().take(100).collect()),
            "device" => query.filter.device = Some(v.parse().map_err(|_| bad("device", v))?),
            "from" => {
                query.filter.since = Some(parse_utc(v).ok_or_else(|| bad("from", v))?);
                query.from_text = Some(v.to_owned());
            }
            "to" => {
                query.filter.until = Some(parse_utc(v).ok_or_else(|| bad("to", v))?);
                query.to_text = Some(v.to_owned());
            }
            "before" => query.before = Some(v.parse::<i64>().map_err(|_| bad("before", v))?),
            other => {
                return Err(ConsoleError::BadRequest(format!(
                    "unknown query parameter `{other}`"
                )));
            }
        }
    }
    Ok(query)
}

/// The query string of the filters (without the page), for links.
fn filter_query(query: &AuditQuery) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("kind", query.filter.kind.clone()),
        ("actor", query.filter.actor.clone()),
        (
            "device",
            query.filter.device.as_ref().map(ToString::to_string),
        ),
        ("from", query.from_text.clone()),
        ("to", query.to_text.clone()),
    ] {
        if let Some(value) = value {
            s.append_pair(key, &value);
        }
    }
    s.finish()
}

/// `GET /audit?kind=&actor=&device=&from=&to=&before=`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let query = parse_query(raw.as_deref())?;
    let events: Vec<EventView> = console
        .app
        .store
        .events_newest_first(&query.filter, query.before, PAGE)
        .await?
        .iter()
        .map(EventView::from)
        .collect();
    let filters = filter_query(&query);
    let older = (events.len() == PAGE as usize).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        if filters.is_empty() {
            format!("/audit?before={last}")
        } else {
            format!("/audit?{filters}&before={last}")
        }
    });
    let export = |format: &str| {
        if filters.is_empty() {
            format!("/audit/export.{format}")
        } else {
            format!("/audit/export.{format}?{filters}")
        }
    };
    let mut context = tera::Context::new();
    context.insert("events", &events);
    context.insert("kind", &query.filter.kind);
    context.insert("actor", &query.filter.actor);
    context.insert(
        "device",
        &query.filter.device.as_ref().map(ToString::to_string),
    );
    context.insert("from", &query.from_text);
    context.insert("to", &query.to_text);
    context.insert("older", &older);
    context.insert("export_csv", &export("csv"));
    context.insert("export_json", &export("json"));
    Ok(render::page(&viewer.0, "audit", "audit.html", context))
}

/// Every entry the filters match, newest first, up to [`EXPORT_LIMIT`].
async fn matching(console: &ConsoleState, query: &AuditQuery) -> Result<Vec<Event>, ConsoleError> {
    let mut all = Vec::new();
    let mut before = query.before;
    loop {
        let page = console
            .app
            .store
            .events_newest_first(&query.filter, before, EXPORT_PAGE)
            .await?;
        let full = page.len() == EXPORT_PAGE as usize;
        before = page.last().map(|e| e.id);
        all.extend(page);
        if !full || all.len() >= EXPORT_LIMIT {
            all.truncate(EXPORT_LIMIT);
            return Ok(all);
        }
    }
}

fn download(content_type: &'static str, file: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static(file)),
        ],
        body,
    )
        .into_response()
}

/// `GET /audit/export.csv?…`: the filtered log as CSV.
pub async fn export_csv(
    _viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let query = parse_query(raw.as_deref())?;
    let events = matching(&console, &query).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        "attachment; filename=\"corral-audit.csv\"",
        export::csv(&events),
    ))
}

/// `GET /audit/export.json?…`: the filtered log as a JSON array.
pub async fn export_json(
    _viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let query = parse_query(raw.as_deref())?;
    let events = matching(&console, &query).await?;
    Ok(download(
        "application/json",
        "attachment; filename=\"corral-audit.json\"",
        export::json(&events),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_utc() {
        let at = |s: &str| parse_utc(s).map(|t| t.to_string());
        assert_eq!(
            at("2026-11-22").as_deref(),
            Some("2026-11-22T00:00:00.000Z")
        );
        assert_eq!(
            at("2026-11-22T07:05").as_deref(),
            Some("2026-11-22T07:05:00.000Z")
        );
        assert_eq!(
            at("2024-02-29 23:59:58Z").as_deref(),
            Some("2024-02-29T23:59:58.000Z")
        );
        assert_eq!(
            at("1970-01-01T00:00:00").as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-1-01",
            "2026-11-22T24:00",
            "yesterday",
            "2026-11-22T07",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_filters_round_trip_through_links() {
        let query = parse_query(Some(
            "kind=device.&actor=user%3Aa&from=2026-11-22&to=2026-11-23T10:00",
        ))
        .unwrap();
        assert_eq!(
            filter_query(&query),
            "kind=device.&actor=user%3Aa&from=2026-11-22&to=2026-11-23T10%3A00"
        );
        assert!(parse_query(Some("from=soon")).is_err());
        assert!(parse_query(Some("color=red")).is_err());
    }
}
