//! What the fleet's filter selects offer — the profile names and the groups with their
//! active phone counts — read from the store at most once per
//! [`ConsoleOptions::choices_ttl`](super::ConsoleOptions) and shared by every request
//! meanwhile. Counting the groups walks the group index of the whole fleet, which would
//! otherwise be most of a fleet page's database time; the selects may lag a few seconds
//! behind changes made elsewhere, and the console's own group changes clear the cache.
//!
//! Must never: hold the lock across a database call (concurrent misses each read).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::store::{Store, StoreError};

/// A group in the filter's select.
#[derive(Debug, Clone, Serialize)]
pub struct GroupChoice {
    pub name: String,
    /// Active phones in it.
    pub phones: u64,
}

/// The filter's choices.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetChoices {
    pub profiles: Vec<String>,
    pub groups: Vec<GroupChoice>,
}

/// The cached choices and when they were read.
#[derive(Debug, Default)]
pub struct ChoiceCache {
    slot: Mutex<Option<(Instant, Arc<FleetChoices>)>>,
}

impl ChoiceCache {
    /// The choices, read again when older than `ttl` (`ZERO`: always).
    pub async fn get(&self, store: &Store, ttl: Duration) -> Result<Arc<FleetChoices>, StoreError> {
        if let Some((at, choices)) = &*self.lock()
            && at.elapsed() < ttl
        {
            return Ok(Arc::clone(choices));
        }
        let read_at = Instant::now();
        let choices = Arc::new(FleetChoices {
            profiles: store
                .profiles()
                .await?
                .iter()
                .map(|p| p.name.to_string())
                .collect(),
            groups: store
                .groups()
                .await?
                .into_iter()
                .map(|g| GroupChoice {
                    name: g.name.to_string(),
                    phones: g.active,
                })
                .collect(),
        });
        *self.lock() = Some((read_at, Arc::clone(&choices)));
        Ok(choices)
    }

    /// Forgets the choices (after the console changed groups or assignments).
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Arc<FleetChoices>)>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
