//! The retention job: erases contacts that have had no lawful basis for
//! `retention.ended_contacts`, redacts the detail of event-log entries older than
//! `retention.audit_detail`, deletes entries older than `retention.events` through a
//! checkpoint (so `corral audit verify` still passes), and records each run with its
//! counts (`retention_runs` and a `retention.ran` event). `corral serve` runs it every
//! `retention.every`; `corral retention run` runs it once.
//!
//! Must never: delete an event except through `Store::prune_events_through`, or read the
//! wall clock itself (the periodic runner takes a [`Clock`], so tests move time by hand).

use std::future::Future;

use crate::config::Retention;
use crate::console::clock::Clock;
use crate::domain::Timestamp;
use crate::store::{ErasureReason, QueuedAllowList, RetentionCounts, Store, StoreError};

/// How the job names itself in the audit log.
pub const ACTOR: &str = "system:retention";

/// Runs the job once at `now` as `actor`: erasures first (their events are new and stay),
/// then redaction, then pruning, then the record of the run. Returns the counts and the
/// allow-lists queued by the erasures (for the gateway to send).
pub async fn run_once(
    store: &Store,
    policy: &Retention,
    now: Timestamp,
    actor: &str,
) -> Result<(RetentionCounts, Vec<QueuedAllowList>), StoreError> {
    let mut counts = RetentionCounts::default();
    let mut queued = Vec::new();
    for id in store
        .ended_contacts(now.minus(policy.ended_contacts))
        .await?
    {
        let lists = crate::allow_lists::plan(store, Some(&id)).await?;
        match store
            .erase_contact_everywhere(&id, ErasureReason::Erasure, &lists, actor, now)
            .await
        {
            Ok((_, q)) => {
                counts.contacts_erased += 1;
                queued.extend(q);
            }
            // Erased by someone else meanwhile.
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    counts.details_redacted = store
        .redact_event_details(now.minus(policy.audit_detail), now)
        .await?;
    if let Some(through) = store.prune_horizon(now.minus(policy.events)).await? {
        counts.events_pruned = store.prune_events_through(through, actor, now).await?;
    }
    store.record_retention_run(&counts, actor, now).await?;
    Ok((counts, queued))
}

/// Runs the job every `policy.every` (the first run right away) until `shutdown`
/// resolves; hands queued allow-lists to the gateway and logs failures.
pub async fn run_periodic(
    state: crate::serve::AppState,
    clock: Clock,
    shutdown: impl Future<Output = ()>,
) {
    let policy = state.config.retention.clone();
    let mut timer = tokio::time::interval(policy.every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = timer.tick() => {
                match run_once(&state.store, &policy, clock.now(), ACTOR).await {
                    Ok((counts, queued)) => {
                        for list in &queued {
                            state.gateway.notify(&list.device);
                        }
                        tracing::info!(
                            contacts_erased = counts.contacts_erased,
                            events_pruned = counts.events_pruned,
                            details_redacted = counts.details_redacted,
                            "Retention job ran."
                        );
                    }
                    Err(e) => tracing::warn!(error = %e, "Retention job failed."),
                }
            }
        }
    }
}
