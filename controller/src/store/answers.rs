//! Set-based recording of the common answers in a group-committed batch: a push's
//! acknowledgement and an apply result saying "applied". A fleet-wide push brings
//! thousands of these at once; recorded one by one they cost six statements each, here a
//! handful of statements per batch (`… WHERE (device_id, seq) IN (VALUES …)`,
//! `UPDATE … FROM (VALUES …)`, multi-row `INSERT`s of events chained in Rust), on both engines.
//!
//! Owns: deciding which answers of a batch may take this path, and recording them with
//! exactly the effects [`Store::ack_push`](super::Store::ack_push) and
//! [`Store::record_report`](super::Store::record_report) have one by one.
//! Must never: take an answer whose device has another answer in the same batch (the
//! order of one device's answers matters; those go one by one, in order), or commit
//! anything itself (it runs inside the batch's transaction).

use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, AssertSqlSafe};

use super::rows::{int, ms, opt_int, seq, text};
use super::{AgentAnswer, AnswerReport, Result, StoreError};
use crate::domain::{ApplyOutcome, DeviceId, DeviceReport, NewEvent, Timestamp};

/// One answer on the set-based path: its index in the batch, the push it acknowledges and
/// the report seq and version it says were applied.
#[derive(Debug)]
pub(super) struct Simple<'a> {
    pub(super) index: usize,
    device: &'a DeviceId,
    push_seq: Option<i64>,
    applied: Option<(i64, &'a str)>,
}

/// Splits a batch: answers that can be recorded set-based, and the indexes of the rest
/// (recorded one by one, in order).
pub(super) fn partition(answers: &[AgentAnswer]) -> (Vec<Simple<'_>>, Vec<usize>) {
    let mut per_device: HashMap<&DeviceId, usize> = HashMap::new();
    for answer in answers {
        *per_device.entry(&answer.device).or_default() += 1;
    }
    let mut simple = Vec::new();
    let mut rest = Vec::new();
    for (index, answer) in answers.iter().enumerate() {
        match simple_answer(index, answer) {
            Some(s) if per_device[&answer.device] == 1 => simple.push(s),
            _ => rest.push(index),
        }
    }
    (simple, rest)
}

fn simple_answer(index: usize, answer: &AgentAnswer) -> Option<Simple<'_>> {
    let push_seq = match answer.push_seq {
        Some(n) => Some(seq(n).ok()?),
        None => None,
    };
    let applied = match &answer.report {
        None => None,
        Some(AnswerReport::Device(DeviceReport {
            seq: report_seq,
            observed_state: None,
            drift: None,
            applied,
        })) => match applied.as_slice() {
            [result] if result.outcome == ApplyOutcome::Applied => {
                Some((seq(*report_seq).ok()?, result.version.as_str()))
            }
            _ => return None,
        },
        Some(_) => return None,
    };
    Some(Simple {
        index,
        device: &answer.device,
        push_seq,
        applied,
    })
}

/// `(${first}, ${first+1}), …` for `rows` rows of `width` values.
fn values(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (0..width)
                .map(|c| format!("${}", first + r * width + c))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records `simple` answers inside the batch's transaction; returns, per answer (by
/// batch index), its error if it was refused on its own. A refused acknowledgement (no
/// such push) writes nothing for its answer; a revoked device's acknowledgement stays
/// recorded and its report is refused, as one by one.
pub(super) async fn record_simple_in(
    conn: &mut AnyConnection,
    simple: &[Simple<'_>],
    now: Timestamp,
) -> Result<Vec<(usize, StoreError)>> {
    let mut refused = Vec::new();
    let mut failed_ack: HashSet<usize> = HashSet::new();

    // Acknowledgements: one UPDATE; a push not updated was acknowledged before or does
    // not exist (told apart only for those, by one SELECT).
    let acks: Vec<&Simple> = simple.iter().filter(|s| s.push_seq.is_some()).collect();
    if !acks.is_empty() {
        let sql = format!(
            "UPDATE outbox SET acked_at = $1 WHERE (device_id, seq) IN (VALUES {}) \
             AND acked_at IS NULL RETURNING device_id, seq, delivery_id",
            values(2, acks.len(), 2)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
        for s in &acks {
            query = query.bind(s.device.as_str()).bind(s.push_seq);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let mut acked: HashSet<(String, i64)> = HashSet::with_capacity(rows.len());
        let mut deliveries = Vec::new();
        for row in &rows {
            acked.insert((text(row, "device_id")?, int(row, "seq")?));
            deliveries.extend(opt_int(row, "delivery_id")?);
        }
        let unacked: Vec<&&Simple> = acks
            .iter()
            .filter(|s| !acked.contains(&(s.device.to_string(), s.push_seq.unwrap_or(0))))
            .collect();
        if !unacked.is_empty() {
            let sql = format!(
                "SELECT device_id, seq FROM outbox WHERE (device_id, seq) IN (VALUES {})",
                values(1, unacked.len(), 2)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for s in &unacked {
                query = query.bind(s.device.as_str()).bind(s.push_seq);
            }
            let known: HashSet<(String, i64)> = query
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| Ok((text(r, "device_id")?, int(r, "seq")?)))
                .collect::<Result<_>>()?;
            for s in unacked {
                let n = s.push_seq.unwrap_or(0);
                if !known.contains(&(s.device.to_string(), n)) {
                    failed_ack.insert(s.index);
                    refused.push((
                        s.index,
                        StoreError::NotFound(format!("push {n} of device {}", s.device)),
                    ));
                }
            }
        }
        if !deliveries.is_empty() {
            let sql = format!(
                "UPDATE deliveries SET delivered_at = $1 WHERE id IN ({}) AND delivered_at IS NULL",
                super::placeholders(2, deliveries.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
            for id in &deliveries {
                query = query.bind(*id);
            }
            query.execute(&mut *conn).await?;
        }
    }

    // Apply results: the seq check and "applied version" in one UPDATE of the devices;
    // a report not taken is a re-send (nothing to do) or comes from a revoked device.
    let reports: Vec<(&Simple, i64, &str)> = simple
        .iter()
        .filter(|s| !failed_ack.contains(&s.index))
        .filter_map(|s| s.applied.map(|(n, v)| (s, n, v)))
        .collect();
    if reports.is_empty() {
        return Ok(refused);
    }
    let sql = format!(
        "UPDATE devices SET last_report_seq = v.column2, last_seen_at = $1, applied_version = v.column3 \
         FROM (VALUES {}) AS v \
         WHERE devices.id = v.column1 AND devices.status = 'active' AND devices.last_report_seq < v.column2 \
         RETURNING id",
        values(2, reports.len(), 3)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
    for (s, n, version) in &reports {
        query = query.bind(s.device.as_str()).bind(*n).bind(*version);
    }
    let fresh: HashSet<String> = query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| text(r, "id"))
        .collect::<Result<_>>()?;
    let (fresh, stale): (Vec<_>, Vec<_>) = reports
        .into_iter()
        .partition(|(s, _, _)| fresh.contains(s.device.as_str()));
    if !stale.is_empty() {
        let sql = format!(
            "SELECT id, status FROM devices WHERE id IN ({})",
            super::placeholders(1, stale.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (s, _, _) in &stale {
            query = query.bind(s.device.as_str());
        }
        let status: HashMap<String, String> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((text(r, "id")?, text(r, "status")?)))
            .collect::<Result<_>>()?;
        for (s, _, _) in &stale {
            match status.get(s.device.as_str()).map(String::as_str) {
                None => refused.push((
                    s.index,
                    StoreError::NotFound(format!("device {}", s.device)),
                )),
                Some("active") => {} // a re-sent report: nothing changes
                Some(_) => refused.push((s.index, StoreError::Forbidden("the device is revoked"))),
            }
        }
    }
    if fresh.is_empty() {
        return Ok(refused);
    }
    let sql = format!(
        "UPDATE deliveries SET applied_at = COALESCE(applied_at, $1), failed_at = NULL, error = NULL \
         WHERE id IN (SELECT MAX(id) FROM deliveries WHERE (device_id, version) IN (VALUES {}) \
         GROUP BY device_id, version)",
        values(2, fresh.len(), 2)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
    for (s, _, version) in &fresh {
        query = query.bind(s.device.as_str()).bind(*version);
    }
    query.execute(&mut *conn).await?;
    let events: Vec<NewEvent> = fresh
        .iter()
        .map(|(s, _, version)| NewEvent {
            device: Some(s.device.clone()),
            actor: "device".into(),
            kind: "profile.applied".into(),
            detail: serde_json::json!({ "version": version }),
        })
        .collect();
    super::events::append_all_in(&mut *conn, &events, now).await?;
    Ok(refused)
}
