//! Short-lived in-memory caches on the console's hot path (the fleet page's), so a page
//! view does not need the database for what it read a moment ago:
//!
//! - [`SessionCache`]: a session's user and its timeout times, by the SHA-256 of the
//!   session secret, reused for [`ConsoleOptions::session_cache_ttl`](super::ConsoleOptions)
//!   (1 s). Timeouts are still checked at every request from the cached times, and an
//!   entry is only used while the database would not have to write the session's
//!   last-seen time (so idle timeouts end sessions exactly as without the cache).
//! - [`FleetCache`]: the store's answer for one fleet-page query (its rows, total and the
//!   pending section), by the normalised query, reused for
//!   [`ConsoleOptions::fleet_cache_ttl`](super::ConsoleOptions) (1 s).
//!
//! Every state change the console itself makes (any request that is not GET or HEAD:
//! logout, login, disabling a user, a role change, bulk actions, assignments…) clears
//! both when it is done ([`super::session::guard`]). Changes made elsewhere — another
//! replica, the API, the gateway's last-seen times — show within the TTL.
//!
//! Must never: hold a lock across a database call; grow without bound (a full cache is
//! cleared).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::domain::AdminUser;
use crate::store::{FleetPage, PendingPage, SESSION_TOUCH_MS};

/// Entries a cache holds before it is cleared.
const SESSION_CAPACITY: usize = 4096;
const FLEET_CAPACITY: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A session as the database last confirmed it.
#[derive(Debug, Clone)]
pub struct CachedSession {
    pub user: AdminUser,
    /// The session's last-seen time in the database (ms since the epoch).
    pub last_seen_ms: i64,
    /// The absolute expiry (ms since the epoch).
    pub expires_ms: i64,
    read: Instant,
}

/// Sessions by the hex SHA-256 of their secret.
#[derive(Debug, Default)]
pub struct SessionCache {
    /// The entries and the generation (how many clears so far).
    map: Mutex<(HashMap<String, CachedSession>, u64)>,
}

impl SessionCache {
    /// The cached user of session `key` if the entry is younger than `ttl` and the
    /// session is still live at `now_ms` by the same rules the database applies: before
    /// its absolute expiry, used within `idle_ms`, and not yet due for a last-seen write.
    pub fn get(&self, key: &str, ttl: Duration, idle_ms: i64, now_ms: i64) -> Option<AdminUser> {
        if ttl.is_zero() {
            return None;
        }
        let map = lock(&self.map);
        let entry = map.0.get(key)?;
        let fresh = entry.read.elapsed() < ttl
            && now_ms < entry.expires_ms
            && entry.last_seen_ms > now_ms.saturating_sub(idle_ms)
            && entry.last_seen_ms > now_ms.saturating_sub(SESSION_TOUCH_MS);
        fresh.then(|| entry.user.clone())
    }

    /// The generation to pass to [`SessionCache::put`]: taken before asking the database.
    pub fn generation(&self) -> u64 {
        lock(&self.map).1
    }

    /// Remembers what the database said about session `key` — unless the cache was
    /// cleared since `generation` (a logout meanwhile must not be undone).
    pub fn put(
        &self,
        key: String,
        generation: u64,
        user: AdminUser,
        last_seen_ms: i64,
        expires_ms: i64,
    ) {
        let mut guard = lock(&self.map);
        let (map, current) = &mut *guard;
        if *current != generation {
            return;
        }
        if map.len() >= SESSION_CAPACITY && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(
            key,
            CachedSession {
                user,
                last_seen_ms,
                expires_ms,
                read: Instant::now(),
            },
        );
    }

    /// Forgets every session (after a state change on this replica).
    pub fn clear(&self) {
        let mut guard = lock(&self.map);
        guard.0.clear();
        guard.1 = guard.1.wrapping_add(1);
    }
}

/// What the store answered for one fleet-page query.
#[derive(Debug)]
pub struct FleetData {
    pub page: FleetPage,
    pub pending: PendingPage,
}

/// One fleet-page query's entry: when its read began and the data once read. Requests
/// that miss while it is being read wait for that one read (no stampede of identical
/// queries when an entry expires under load).
type FleetSlot = (Instant, Arc<OnceCell<Arc<FleetData>>>);

/// Fleet-page data by the normalised query.
#[derive(Debug, Default)]
pub struct FleetCache {
    map: Mutex<HashMap<String, FleetSlot>>,
}

impl FleetCache {
    /// The data for `key`: the entry's if its read began less than `ttl` ago (`ZERO`:
    /// never cached), else read by `load` — once, however many requests ask meanwhile.
    pub async fn get_or_load<F, Fut, E>(
        &self,
        key: String,
        ttl: Duration,
        load: F,
    ) -> Result<Arc<FleetData>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FleetData, E>>,
    {
        if ttl.is_zero() {
            return load().await.map(Arc::new);
        }
        let cell = {
            let mut map = lock(&self.map);
            match map.get(&key) {
                Some((read, cell)) if read.elapsed() < ttl => Arc::clone(cell),
                _ => {
                    if map.len() >= FLEET_CAPACITY && !map.contains_key(&key) {
                        map.retain(|_, (read, _)| read.elapsed() < ttl);
                        if map.len() >= FLEET_CAPACITY {
                            map.clear();
                        }
                    }
                    let cell = Arc::new(OnceCell::new());
                    map.insert(key, (Instant::now(), Arc::clone(&cell)));
                    cell
                }
            }
        };
        cell.get_or_try_init(|| async { load().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Forgets every page (after a state change on this replica). A read under way
    /// finishes for the requests already waiting on it; later requests read again.
    pub fn clear(&self) {
        lock(&self.map).clear();
    }
}
