//! The event log: append-only (the schema refuses UPDATE and DELETE), read newest-last.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::rows::{int, json, ms, opt_parsed, text, time};
use super::{Result, Store};
use crate::domain::{DeviceId, Event, NewEvent, Timestamp};

fn event_from_row(row: &AnyRow) -> Result<Event> {
    Ok(Event {
        id: int(row, "id")?,
        at: time(row, "at")?,
        device: opt_parsed(row, "device_id")?,
        actor: text(row, "actor")?,
        kind: text(row, "kind")?,
        detail: json(row, "detail")?,
    })
}

/// Appends inside the caller's transaction, so the event commits with the change it
/// describes or not at all.
pub(super) async fn append_in(
    conn: &mut AnyConnection,
    event: &NewEvent,
    now: Timestamp,
) -> Result<Event> {
    let row = sqlx::query(
        "INSERT INTO events (at, device_id, actor, kind, detail) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, at, device_id, actor, kind, detail",
    )
    .bind(ms(now))
    .bind(event.device.as_ref().map(DeviceId::as_str))
    .bind(event.actor.as_str())
    .bind(event.kind.as_str())
    .bind(event.detail.to_string())
    .fetch_one(conn)
    .await?;
    event_from_row(&row)
}

impl Store {
    /// Appends one event on its own (for things that change nothing else, e.g. a login).
    pub async fn append_event(&self, event: &NewEvent, now: Timestamp) -> Result<Event> {
        let mut tx = self.begin_write().await?;
        let appended = append_in(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// Events with `id > after`, oldest first, at most `limit`; only one device's when
    /// `device` is given. Page by passing the last id seen as `after`.
    pub async fn events(
        &self,
        device: Option<&DeviceId>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT id, at, device_id, actor, kind, detail FROM events \
             WHERE id > $1 AND ($2 IS NULL OR device_id = $2) ORDER BY id LIMIT $3",
        )
        .bind(after)
        .bind(device.map(DeviceId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Newest first: events with `id < before` (all when `None`), at most `limit`,
    /// narrowed by the filters that are set (`kind` and `actor` match exactly; `kind` also
    /// matches a prefix ending in `.`, e.g. `device.`). For the console's audit log.
    pub async fn events_newest_first(
        &self,
        filter: &EventFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let kind_prefix = filter
            .kind
            .as_deref()
            .filter(|k| k.ends_with('.'))
            .map(|k| format!("{}%", super::fleet_page::like_escape(k)));
        let kind_exact = filter.kind.as_deref().filter(|k| !k.ends_with('.'));
        let rows = sqlx::query(
            "SELECT id, at, device_id, actor, kind, detail FROM events \
             WHERE id < $1 AND ($2 IS NULL OR device_id = $2) AND ($3 IS NULL OR actor = $3) \
             AND ($4 IS NULL OR kind = $4) AND ($5 IS NULL OR kind LIKE $5 ESCAPE '\\') \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(filter.device.as_ref().map(DeviceId::as_str))
        .bind(filter.actor.as_deref())
        .bind(kind_exact)
        .bind(kind_prefix)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}

/// What the audit log is narrowed to; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub device: Option<DeviceId>,
    pub actor: Option<String>,
    pub kind: Option<String>,
}
