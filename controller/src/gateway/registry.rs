//! Live agent sessions by device: one per device (a newer connection replaces an older
//! one), each with a close signal and a queue of pushes to send.
//!
//! Owns: the device id → session map, closing a session (revocation, replacement,
//! shutdown) and handing pushes to it.
//! Must never: await while holding the lock, or do I/O.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, watch};

use crate::domain::{CertSerial, DeviceId};
use corral_wire::{Command, ContactsPush, PreparedProfile};

/// Something for a session to send.
#[derive(Debug, Clone)]
pub(super) enum Outgoing {
    /// A profile version as push `seq` (the text is shared by every session).
    Profile { seq: u64, profile: PreparedProfile },
    /// A command (its `push_seq` is the push's seq).
    Command(Command),
    /// A contact allow-list (its `push_seq` is the push's seq).
    Contacts(Box<ContactsPush>),
}

impl Outgoing {
    pub(super) fn seq(&self) -> u64 {
        match self {
            Outgoing::Profile { seq, .. } => *seq,
            Outgoing::Command(c) => c.push_seq,
            Outgoing::Contacts(c) => c.push_seq,
        }
    }
}

/// The receiving half a session task keeps.
#[derive(Debug)]
pub(super) struct Registration {
    pub(super) id: u64,
    /// Becomes `Some(reason)` when the session must close.
    pub(super) close: watch::Receiver<Option<String>>,
    pub(super) pushes: mpsc::UnboundedReceiver<Vec<Outgoing>>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    serial: CertSerial,
    close: watch::Sender<Option<String>>,
    pushes: mpsc::UnboundedSender<Vec<Outgoing>>,
}

impl Entry {
    fn close(&self, reason: &str) {
        self.close.send_replace(Some(reason.to_owned()));
    }
}

/// Device id → live session. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(super) struct SessionRegistry {
    sessions: Arc<Mutex<HashMap<DeviceId, Entry>>>,
}

impl SessionRegistry {
    fn lock(&self) -> MutexGuard<'_, HashMap<DeviceId, Entry>> {
        // A panic elsewhere while holding the lock leaves a consistent map (every update
        // is a single insert or remove), so keep going.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers session `id` for `device`; an older session of the device is told to
    /// close (the newer connection wins: the phone reconnected).
    pub(super) fn register(&self, device: &DeviceId, serial: &CertSerial, id: u64) -> Registration {
        let (close_tx, close) = watch::channel(None);
        let (push_tx, pushes) = mpsc::unbounded_channel();
        let entry = Entry {
            id,
            serial: serial.clone(),
            close: close_tx,
            pushes: push_tx,
        };
        if let Some(old) = self.lock().insert(device.clone(), entry) {
            old.close("replaced by a newer connection of the same device");
        }
        Registration { id, close, pushes }
    }

    /// Removes session `id` of `device` if it is still the registered one. Returns whether
    /// another (newer) session of the device is live.
    pub(super) fn remove(&self, device: &DeviceId, id: u64) -> bool {
        let mut sessions = self.lock();
        match sessions.get(device) {
            Some(entry) if entry.id == id => {
                sessions.remove(device);
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Tells the device's live session to close. Returns whether there was one.
    pub(super) fn close(&self, device: &DeviceId, reason: &str) -> bool {
        match self.lock().remove(device) {
            Some(entry) => {
                entry.close(reason);
                true
            }
            None => false,
        }
    }

    /// Tells the sessions using any of `serials` to close.
    pub(super) fn close_serials(&self, serials: &[(DeviceId, CertSerial)], reason: &str) {
        let mut sessions = self.lock();
        for (device, serial) in serials {
            if sessions.get(device).is_some_and(|e| &e.serial == serial)
                && let Some(entry) = sessions.remove(device)
            {
                entry.close(reason);
            }
        }
    }

    /// Tells every session to close.
    pub(super) fn close_all(&self, reason: &str) {
        for (_, entry) in self.lock().drain() {
            entry.close(reason);
        }
    }

    /// Hands pushes to the device's session. Returns false when it has none.
    pub(super) fn deliver(&self, device: &DeviceId, pushes: Vec<Outgoing>) -> bool {
        self.lock()
            .get(device)
            .is_some_and(|entry| entry.pushes.send(pushes).is_ok())
    }

    /// Whether the device has a live session.
    pub(super) fn contains(&self, device: &DeviceId) -> bool {
        self.lock().contains_key(device)
    }

    /// How many sessions are live.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The devices with a live session.
    pub(super) fn devices(&self) -> Vec<DeviceId> {
        self.lock().keys().cloned().collect()
    }

    /// Every live session's device and certificate serial.
    pub(super) fn serials(&self) -> Vec<(DeviceId, CertSerial)> {
        self.lock()
            .iter()
            .map(|(d, e)| (d.clone(), e.serial.clone()))
            .collect()
    }
}
