//! Login throttling, in memory: failed logins are counted per user name and per client
//! address within a window; while either count is at its limit, logins for that name or
//! from that address are refused before the password is even checked.
//!
//! Owns: the counting rule ([`Throttle::check`], [`Throttle::failed`],
//! [`Throttle::succeeded`]), pure over the `Instant` it is given so tests need no clock.
//! Must never: grow without bound (expired entries are pruned, and the table is capped),
//! or reset a client address on success (an attacker with one valid account could
//! otherwise keep guessing other accounts' passwords from the same address).
//!
//! Counts live in this process only: a restart forgets them, and two controllers behind
//! one load balancer count separately. Behind a reverse proxy every client shares the
//! proxy's address, so the per-address limit then acts as a global limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within [`Self::window`] that lock one user name.
    pub per_user: u32,
    /// Failures within [`Self::window`] that lock one client address.
    pub per_address: u32,
    /// How long failures are remembered, from the first one.
    pub window: Duration,
    /// Most entries kept; past it, expired ones are pruned and then the oldest dropped.
    pub capacity: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            per_user: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
            capacity: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// The failure counts.
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<Key, Failures>>,
}

/// Why a login is refused without checking the password: how long until it may be tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub retry_after: Duration,
}

impl Throttle {
    /// A throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keys(user: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        std::iter::once(Key::User(user.to_lowercase())).chain(address.map(Key::Address))
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::User(_) => self.policy.per_user,
            Key::Address(_) => self.policy.per_address,
        }
    }

    /// `Err` while the user name or the address is locked.
    pub fn check(&self, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Locked> {
        let table = self.lock();
        let mut wait = Duration::ZERO;
        for key in Self::keys(user, address) {
            if let Some(f) = table.get(&key) {
                let ends = f.since + self.policy.window;
                if f.count >= self.limit(&key) && ends > now {
                    wait = wait.max(ends - now);
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(Locked { retry_after: wait })
        }
    }

    /// Counts a failed login for the name and the address.
    pub fn failed(&self, user: &str, address: Option<IpAddr>, now: Instant) {
        let mut table = self.lock();
        if table.len() >= self.policy.capacity {
            let window = self.policy.window;
            table.retain(|_, f| f.since + window > now);
            while table.len() >= self.policy.capacity {
                let oldest = table
                    .iter()
                    .min_by_key(|(_, f)| f.since)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => table.remove(&k),
                    None => break,
                };
            }
        }
        for key in Self::keys(user, address) {
            let entry = table.entry(key).or_insert(Failures {
                count: 0,
                since: now,
            });
            if entry.since + self.policy.window <= now {
                *entry = Failures {
                    count: 0,
                    since: now,
                };
            }
            entry.count = entry.count.saturating_add(1);
        }
    }

    /// Forgets the user name's failures after a successful login (not the address's).
    pub fn succeeded(&self, user: &str) {
        self.lock().remove(&Key::User(user.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(ThrottlePolicy {
            per_user: 3,
            per_address: 5,
            window: Duration::from_secs(60),
            capacity: 4,
        })
    }

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn a_user_is_locked_after_the_limit_until_the_window_ends() {
        let t = throttle();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.check("alice", A, t0), Ok(()));
            t.failed("alice", A, t0);
        }
        let locked = t.check("ALICE", B, t0 + Duration::from_secs(10));
        assert_eq!(
            locked,
            Err(Locked {
                retry_after: Duration::from_secs(50)
            })
        );
        assert_eq!(t.check("bob", B, t0), Ok(()));
        assert_eq!(t.check("alice", B, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn an_address_is_locked_across_user_names_and_success_does_not_reset_it() {
        let t = throttle();
        let t0 = Instant::now();
        for name in ["a", "b", "c", "d", "e"] {
            t.failed(name, A, t0);
            t.succeeded(name);
        }
        assert!(t.check("f", A, t0).is_err());
        assert_eq!(t.check("f", B, t0), Ok(()));
    }

    #[test]
    fn success_forgets_the_user_names_failures() {
        let t = throttle();
        let t0 = Instant::now();
        t.failed("alice", A, t0);
        t.failed("alice", B, t0);
        t.succeeded("alice");
        t.failed("alice", A, t0);
        t.failed("alice", B, t0);
        assert_eq!(t.check("alice", None, t0), Ok(()));
    }

    #[test]
    fn the_table_stays_within_its_capacity() {
        let t = throttle();
        let t0 = Instant::now();
        for i in 0..50 {
            t.failed(&format!("user{i}"), None, t0 + Duration::from_millis(i));
        }
        assert!(t.lock().len() <= 4);
    }
}
