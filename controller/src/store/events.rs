//! The event log: append-only (the schema refuses UPDATE and DELETE) and hash-chained
//! (`chain.rs`), read oldest-first for agents and newest-first for the console.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::rows::{int, json, ms, opt_parsed, text, time};
use super::{Result, Store, chain};
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
/// describes or not at all. The event is chained (seq, previous hash, hash) under the
/// chain lock, which the transaction then holds until it ends.
pub(super) async fn append_in(
    conn: &mut AnyConnection,
    event: &NewEvent,
    now: Timestamp,
) -> Result<Event> {
    let head = chain::lock_head(conn).await?;
    let detail = event.detail.to_string();
    let digest = crate::audit_chain::detail_digest(&detail);
    let link = chain::link(&head, event, &detail, &digest, now);
    let row = sqlx::query(
        "INSERT INTO events (at, device_id, actor, kind, detail, seq, prev_hash, hash, detail_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id, at, device_id, actor, kind, detail",
    )
    .bind(ms(now))
    .bind(event.device.as_ref().map(DeviceId::as_str))
    .bind(event.actor.as_str())
    .bind(event.kind.as_str())
    .bind(detail.as_str())
    .bind(link.seq)
    .bind(head.hash.as_str())
    .bind(link.hash.as_str())
    .bind(digest.as_str())
    .fetch_one(&mut *conn)
    .await?;
    chain::set_head(conn, &link).await?;
    event_from_row(&row)
}

/// Appends many events in one multi-row INSERT per chunk (group-committed answers: a
/// fleet-wide push brings thousands), chained in order inside the caller's transaction.
pub(super) async fn append_all_in(
    conn: &mut AnyConnection,
    events: &[NewEvent],
    now: Timestamp,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut head = chain::lock_head(conn).await?;
    // Eight values a row: 500 rows stay far under both engines' bound-value limits.
    for chunk in events.chunks(super::CHUNK) {
        let mut rows = Vec::with_capacity(chunk.len());
        for event in chunk {
            let detail = event.detail.to_string();
            let digest = crate::audit_chain::detail_digest(&detail);
            let link = chain::link(&head, event, &detail, &digest, now);
            rows.push((event, detail, digest, head.hash.clone(), link.clone()));
            head = link;
        }
        let sql = format!(
            "INSERT INTO events (at, device_id, actor, kind, detail, seq, prev_hash, hash, detail_sha256) VALUES {}",
            (0..rows.len())
                .map(|i| {
                    let b = 2 + 8 * i;
                    format!(
                        "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b,
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
        for (event, detail, digest, prev_hash, link) in &rows {
            query = query
                .bind(event.device.as_ref().map(DeviceId::as_str))
                .bind(event.actor.as_str())
                .bind(event.kind.as_str())
                .bind(detail.as_str())
                .bind(link.seq)
                .bind(prev_hash.as_str())
                .bind(link.hash.as_str())
                .bind(digest.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    chain::set_head(conn, &head).await
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
    /// matches a prefix ending in `.`, e.g. `device.`; `since` ≤ time < `until`). For the
    /// console's audit log and its export.
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
             AND ($7 IS NULL OR at >= $7) AND ($8 IS NULL OR at < $8) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(filter.device.as_ref().map(DeviceId::as_str))
        .bind(filter.actor.as_deref())
        .bind(kind_exact)
        .bind(kind_prefix)
        .bind(i64::from(limit))
        .bind(filter.since.map(ms))
        .bind(filter.until.map(ms))
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
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Only events before this time.
    pub until: Option<Timestamp>,
}
