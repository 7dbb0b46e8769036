//! The audit log: every admin action and device event, newest first, filterable by kind
//! (exact, or a prefix ending in `.` such as `device.`), actor and phone, paged by id.
//!
//! Must never: write anything (reading the log is not itself logged).

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::ConsoleState;
use super::error::ConsoleError;
use super::phone::EventView;
use super::render;
use super::session::Viewer;
use crate::store::EventFilter;

/// Entries per page.
const PAGE: u32 = 100;

/// `GET /audit?kind=&actor=&device=&before=`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let mut filter = EventFilter::default();
    let mut before = None;
    let bad = |name: &str, value: &str| {
        ConsoleError::BadRequest(format!(
            "query parameter `{name}`: `{value}` is not accepted"
        ))
    };
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "kind" => filter.kind = Some(v.chars().take(100).collect()),
            "actor" => filter.actor = Some(v.chars().take(100).collect()),
            "device" => filter.device = Some(v.parse().map_err(|_| bad("device", v))?),
            "before" => before = Some(v.parse::<i64>().map_err(|_| bad("before", v))?),
            other => {
                return Err(ConsoleError::BadRequest(format!(
                    "unknown query parameter `{other}`"
                )));
            }
        }
    }
    let events: Vec<EventView> = console
        .app
        .store
        .events_newest_first(&filter, before, PAGE)
        .await?
        .iter()
        .map(EventView::from)
        .collect();
    let older = (events.len() == PAGE as usize).then(|| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("kind", filter.kind.clone()),
            ("actor", filter.actor.clone()),
            ("device", filter.device.as_ref().map(ToString::to_string)),
        ] {
            if let Some(value) = value {
                s.append_pair(key, &value);
            }
        }
        if let Some(last) = events.last() {
            s.append_pair("before", &last.id.to_string());
        }
        format!("/audit?{}", s.finish())
    });
    let mut context = tera::Context::new();
    context.insert("events", &events);
    context.insert("kind", &filter.kind);
    context.insert("actor", &filter.actor);
    context.insert("device", &filter.device.as_ref().map(ToString::to_string));
    context.insert("older", &older);
    Ok(render::page(&viewer.0, "audit", "audit.html", context))
}
