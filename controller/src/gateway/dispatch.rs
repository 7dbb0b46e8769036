//! Fan-out: turns "these pushes were just committed" into pushes handed to live sessions
//! straight from memory (recorded sent afterwards), and "this device (or every device) has
//! new pushes" into pushes claimed from the durable outbox and handed over — in batches,
//! never by polling per connection.
//!
//! Owns: the pushes and devices to look at, the batched claim with this gateway's lease,
//! the bookkeeping of pushes sent from memory, the cache of prepared profile versions (each version's text is read and escaped once, then
//! shared by every session), and the periodic chores: a sweep for claimable pushes
//! (leases that ran out, pushes queued by another process), flushing "last seen", and
//! re-checking the certificates of live sessions.
//! Must never: send anything itself (sessions do), claim for a device without a live
//! session, or hand over a push whose transaction has not committed.

use std::collections::{HashMap, HashSet};
use std::mem;
use std::sync::{Mutex, MutexGuard, PoisonError};

use corral_wire::{Command, CommandKind, PreparedProfile};
use tokio::sync::{Notify, watch};
use tokio::time::{MissedTickBehavior, interval};

use super::Inner;
use super::registry::Outgoing;
use crate::domain::{DeviceId, ProfileName, Timestamp, VersionHash};
use crate::store::{ClaimedPush, Lease, PushContent, QueuedPush};

/// The push kind of commands; the body is a [`CommandBody`] as JSON.
pub const COMMAND_KIND: &str = "command";

/// How a command is stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandBody {
    pub command_id: String,
    pub kind: CommandKind,
}

/// How many prepared profile versions are kept (a fleet uses a handful at a time).
const CACHED_VERSIONS: usize = 16;

/// Devices waiting to be looked at, and the signal that there are some.
#[derive(Debug, Default)]
pub(super) struct Pending {
    dirty: Mutex<Dirty>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct Dirty {
    all: bool,
    devices: HashSet<DeviceId>,
    /// Pushes just committed, to send from memory without a claim first.
    queued: Vec<QueuedPush>,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Dirty> {
        self.dirty.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn mark(&self, device: &DeviceId) {
        self.lock().devices.insert(device.clone());
        self.wake.notify_one();
    }

    pub(super) fn queued(&self, pushes: &[QueuedPush]) {
        self.lock().queued.extend_from_slice(pushes);
        self.wake.notify_one();
    }

    pub(super) fn mark_all(&self) {
        self.lock().all = true;
        self.wake.notify_one();
    }

    fn take(&self) -> Dirty {
        mem::take(&mut *self.lock())
    }
}

/// Runs until `shutdown` turns true.
pub(super) async fn run(gw: &Inner, mut shutdown: watch::Receiver<bool>) {
    let mut cache = ProfileCache::default();
    let mut sweep = interval(gw.options.sweep_every);
    let mut flush = interval(gw.options.seen_flush_every);
    let mut recheck = interval(gw.options.certificate_recheck_every);
    for timer in [&mut sweep, &mut flush, &mut recheck] {
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            () = crate::gateway::stopped(&mut shutdown) => break,
            () = gw.pending.wake.notified() => {}
            _ = sweep.tick() => sweep_claimable(gw).await,
            _ = flush.tick() => {
                flush_seen(gw).await;
                continue;
            }
            _ = recheck.tick() => {
                recheck_certificates(gw).await;
                continue;
            }
        }
        let dirty = gw.pending.take();
        if !dirty.queued.is_empty() {
            send_queued(gw, dirty.queued, &mut cache).await;
        }
        let devices: Vec<DeviceId> = if dirty.all {
            gw.registry.devices()
        } else {
            dirty
                .devices
                .into_iter()
                .filter(|d| gw.registry.contains(d))
                .collect()
        };
        if !devices.is_empty() {
            dispatch(gw, &devices, &mut cache).await;
        }
    }
    flush_seen(gw).await;
}

/// Devices claimed per round (one transaction each): the sessions of a round start
/// writing while the next round is claimed.
const ROUND: usize = 500;

/// Claims the pending pushes of `devices` and hands them to their sessions, a round of
/// devices at a time. The gateway's write turn is held throughout, so the agents' answers
/// to the first rounds wait for the last claim instead of delaying it.
async fn dispatch(gw: &Inner, devices: &[DeviceId], cache: &mut ProfileCache) {
    let _turn = gw.claiming.lock().await;
    for round in devices.chunks(ROUND) {
        dispatch_round(gw, round, cache).await;
    }
}

async fn dispatch_round(gw: &Inner, devices: &[DeviceId], cache: &mut ProfileCache) {
    let now = Timestamp::now();
    let lease = Lease {
        owner: gw.instance.clone(),
        until: now.plus(gw.options.lease),
    };
    let claimed = match gw.store.claim_pushes_for(devices, &lease, now).await {
        Ok(claimed) => claimed,
        Err(e) => {
            // The sweep tries again; nothing was claimed (each chunk is one transaction).
            tracing::warn!(error = %e, devices = devices.len(), "Cannot claim pushes.");
            return;
        }
    };
    let mut by_device: HashMap<DeviceId, Vec<Outgoing>> = HashMap::new();
    for push in claimed {
        let device = push.device.clone();
        if let Some(outgoing) = outgoing(gw, push, cache).await {
            by_device.entry(device).or_default().push(outgoing);
        }
    }
    for (device, pushes) in by_device {
        if !gw.registry.deliver(&device, pushes) {
            // The session ended meanwhile: give the lease back for its next connection.
            if let Err(e) = gw.store.release_pushes(&device, &gw.instance).await {
                tracing::warn!(%device, error = %e, "Cannot release pushes.");
            }
        }
    }
}

/// Pushes in one bookkeeping statement (and one write turn): the committer's batches
/// of answers get their turns in between.
const BOOKKEEPING: usize = 500;

/// Sends pushes a committed transaction just queued straight to the devices' live
/// sessions, then records them sent (lease, attempts, last sent) in batches. No claim
/// precedes the send: the push is durable already, a session never sends one `seq`
/// twice, and the agent acts on a `seq` at most once, so the only cost of a crash before
/// the bookkeeping commits is a re-send on the next connection. Offline devices get
/// theirs when they connect.
async fn send_queued(gw: &Inner, queued: Vec<QueuedPush>, cache: &mut ProfileCache) {
    let started = std::time::Instant::now();
    let mut by_device: HashMap<DeviceId, Vec<Outgoing>> = HashMap::new();
    for push in queued {
        let Some(profile) = cache.get(gw, &push.profile, &push.version).await else {
            continue;
        };
        by_device
            .entry(push.device)
            .or_default()
            .push(Outgoing::Profile {
                seq: push.seq,
                profile,
            });
    }
    let mut sent = Vec::with_capacity(by_device.len());
    for (device, pushes) in by_device {
        let seqs: Vec<u64> = pushes.iter().map(Outgoing::seq).collect();
        if gw.registry.deliver(&device, pushes) {
            sent.extend(seqs.into_iter().map(|seq| (device.clone(), seq)));
        }
    }
    let handed = started.elapsed();
    // Let the sessions just woken write before this task turns to the store.
    tokio::task::yield_now().await;
    let now = Timestamp::now();
    let lease = Lease {
        owner: gw.instance.clone(),
        until: now.plus(gw.options.lease),
    };
    for chunk in sent.chunks(BOOKKEEPING) {
        let _turn = gw.claiming.lock().await;
        if let Err(e) = gw.store.record_sent(chunk, &lease, now).await {
            // Harmless: the pushes stay unleased and the sweep offers them again; the
            // sessions that have them already will not send them twice.
            tracing::warn!(error = %e, pushes = chunk.len(), "Cannot record pushes sent.");
        }
    }
    tracing::info!(
        pushes = sent.len(),
        handed_ms = handed.as_millis(),
        recorded_ms = (started.elapsed() - handed).as_millis(),
        "Sent queued pushes from memory."
    );
}

async fn outgoing(gw: &Inner, push: ClaimedPush, cache: &mut ProfileCache) -> Option<Outgoing> {
    let ClaimedPush {
        device,
        seq,
        kind,
        content,
    } = push;
    match content {
        PushContent::Profile { profile, version } => {
            let prepared = cache.get(gw, &profile, &version).await?;
            Some(Outgoing::Profile {
                seq,
                profile: prepared,
            })
        }
        PushContent::Body(body) if kind.as_str() == COMMAND_KIND => {
            match serde_json::from_str::<CommandBody>(&body) {
                Ok(c) => Some(Outgoing::Command(Command {
                    push_seq: seq,
                    command_id: c.command_id,
                    kind: c.kind,
                })),
                Err(e) => {
                    tracing::error!(%device, seq, error = %e, "Stored command is unreadable; not sent.");
                    None
                }
            }
        }
        PushContent::Body(body) if kind.as_str() == crate::store::CONTACTS_KIND => {
            match crate::allow_lists::push_from_body(seq, &body) {
                Ok(list) => Some(Outgoing::Contacts(Box::new(list))),
                Err(e) => {
                    tracing::error!(%device, seq, error = %e, "Stored allow-list is unreadable; not sent.");
                    None
                }
            }
        }
        PushContent::Body(_) => {
            tracing::warn!(%device, seq, kind = kind.as_str(), "No agent message for this push kind; not sent.");
            None
        }
    }
}

/// Profile versions prepared for sending, by version hash. Versions are immutable, so an
/// entry never goes stale; the cache only forgets to stay small.
#[derive(Debug, Default)]
struct ProfileCache {
    versions: HashMap<VersionHash, PreparedProfile>,
}

impl ProfileCache {
    async fn get(
        &mut self,
        gw: &Inner,
        profile: &ProfileName,
        version: &VersionHash,
    ) -> Option<PreparedProfile> {
        if let Some(prepared) = self.versions.get(version) {
            return Some(prepared.clone());
        }
        let stored = match gw.store.profile_version(profile, version).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(%profile, %version, error = %e, "Cannot read the profile version to push.");
                return None;
            }
        };
        let prepared = match PreparedProfile::new(version.as_str(), &stored.canonical_toml) {
            Ok(prepared) => prepared,
            Err(e) => {
                tracing::error!(%profile, %version, error = %e, "Profile version cannot be sent.");
                return None;
            }
        };
        if self.versions.len() >= CACHED_VERSIONS {
            self.versions.clear();
        }
        self.versions.insert(version.clone(), prepared.clone());
        Some(prepared)
    }
}

/// Marks online devices that have claimable pushes: leases that ran out (a push the agent
/// never answered, or one leased by a gateway that crashed) and pushes queued by another
/// process that could not notify this one.
async fn sweep_claimable(gw: &Inner) {
    match gw
        .store
        .devices_with_claimable_pushes(Timestamp::now())
        .await
    {
        Ok(devices) => {
            let mut dirty = gw.pending.lock();
            dirty
                .devices
                .extend(devices.into_iter().filter(|d| gw.registry.contains(d)));
        }
        Err(e) => tracing::warn!(error = %e, "Cannot look for pending pushes."),
    }
}

/// Writes "last seen" for every device heard from since the last flush, in one batch.
async fn flush_seen(gw: &Inner) {
    let seen: Vec<DeviceId> = mem::take(&mut *gw.lock_seen()).into_iter().collect();
    if seen.is_empty() {
        return;
    }
    let _turn = gw.claiming.lock().await;
    if let Err(e) = gw.store.touch_devices(&seen, Timestamp::now()).await {
        tracing::warn!(error = %e, devices = seen.len(), "Cannot record last seen.");
    }
}

/// Closes live sessions whose certificate stopped being acceptable (revoked by another
/// process, expired during the connection, device revoked).
async fn recheck_certificates(gw: &Inner) {
    let live = gw.registry.serials();
    if live.is_empty() {
        return;
    }
    let serials: Vec<_> = live.iter().map(|(_, s)| s.clone()).collect();
    match gw
        .store
        .certificates_in_force(&serials, Timestamp::now())
        .await
    {
        Ok(good) => {
            let good: HashSet<_> = good.into_iter().collect();
            let bad: Vec<_> = live
                .into_iter()
                .filter(|(_, s)| !good.contains(s))
                .collect();
            for (device, serial) in &bad {
                tracing::info!(%device, %serial, "Closing a session whose certificate is no longer valid.");
            }
            gw.registry
                .close_serials(&bad, "the certificate is no longer valid");
        }
        Err(e) => tracing::warn!(error = %e, "Cannot re-check live certificates."),
    }
}
