//! Finding phones through the adb server: one listing ([`list`]) and live attach/detach
//! events ([`watch`]), by polling `host:devices` and diffing (see `super` for why not
//! `track-devices`). The diff is a pure function ([`changes`]).

use std::collections::BTreeMap;
use std::time::Duration;

use adb_client::server::{ADBServer, DeviceState};
use tokio::sync::mpsc;

use super::{AdbError, PhoneAddress, Station, blocking};

/// What the adb server says about a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneState {
    /// `device`: usable.
    Ready,
    /// `unauthorized`: waiting for the person to accept this station's key.
    Unauthorized,
    /// `offline`.
    Offline,
    /// Anything else (`authorizing`, `connecting`, `recovery`, …), as adb prints it.
    Other(String),
}

/// A phone the adb server lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPhone {
    /// How to reach it.
    pub address: PhoneAddress,
    /// Its state.
    pub state: PhoneState,
}

/// A change seen by [`watch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneEvent {
    /// A phone appeared, or its state changed.
    Attached(AttachedPhone),
    /// A phone is no longer listed.
    Detached(PhoneAddress),
    /// The adb server could not be asked (reported once per outage).
    ServerUnavailable(AdbError),
}

fn state_of(state: &DeviceState) -> PhoneState {
    match state {
        DeviceState::Device => PhoneState::Ready,
        DeviceState::Unauthorized => PhoneState::Unauthorized,
        DeviceState::Offline => PhoneState::Offline,
        other => PhoneState::Other(other.to_string()),
    }
}

/// `host:devices` as serial → state (blocking).
pub(super) fn server_states(station: &Station) -> Result<BTreeMap<String, PhoneState>, AdbError> {
    let mut server = ADBServer::new_from_path(station.server, station.adb_path.clone());
    let devices = server.devices().map_err(|e| AdbError::NoServer {
        server: station.server.to_string(),
        reason: e.to_string(),
    })?;
    Ok(devices
        .iter()
        .map(|d| (d.identifier.clone(), state_of(&d.state)))
        .collect())
}

/// Every phone the adb server lists, in serial order.
pub async fn list(station: &Station) -> Result<Vec<AttachedPhone>, AdbError> {
    let station = station.clone();
    let name = station.server.to_string();
    let timeout = station.timeout;
    let states = blocking(name, timeout, move || server_states(&station)).await?;
    Ok(states
        .into_iter()
        .map(|(serial, state)| AttachedPhone {
            address: PhoneAddress::Server { serial },
            state,
        })
        .collect())
}

/// The events that turn listing `before` into listing `after`.
pub fn changes(
    before: &BTreeMap<String, PhoneState>,
    after: &BTreeMap<String, PhoneState>,
) -> Vec<PhoneEvent> {
    let mut events: Vec<PhoneEvent> = before
        .keys()
        .filter(|s| !after.contains_key(*s))
        .map(|s| PhoneEvent::Detached(PhoneAddress::Server { serial: s.clone() }))
        .collect();
    events.extend(
        after
            .iter()
            .filter(|(s, st)| before.get(*s) != Some(*st))
            .map(|(s, st)| {
                PhoneEvent::Attached(AttachedPhone {
                    address: PhoneAddress::Server { serial: s.clone() },
                    state: st.clone(),
                })
            }),
    );
    events
}

/// Follows the adb server: an `Attached` event for every phone listed at the start and
/// whenever one appears or changes state, `Detached` when one goes away. Polls every
/// `interval`; ends when the receiver is dropped.
pub fn watch(station: &Station, interval: Duration) -> mpsc::Receiver<PhoneEvent> {
    let (tx, rx) = mpsc::channel(64);
    let station = station.clone();
    tokio::spawn(async move {
        let mut known = BTreeMap::new();
        let mut server_down = false;
        loop {
            let name = station.server.to_string();
            let polled = {
                let station = station.clone();
                blocking(name, station.timeout, move || server_states(&station)).await
            };
            match polled {
                Ok(now) => {
                    server_down = false;
                    for event in changes(&known, &now) {
                        if tx.send(event).await.is_err() {
                            return;
                        }
                    }
                    known = now;
                }
                Err(e) if !server_down => {
                    server_down = true;
                    if tx.send(PhoneEvent::ServerUnavailable(e)).await.is_err() {
                        return;
                    }
                }
                Err(_) => {}
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = tx.closed() => return,
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(items: &[(&str, PhoneState)]) -> BTreeMap<String, PhoneState> {
        items
            .iter()
            .map(|(s, st)| ((*s).to_owned(), st.clone()))
            .collect()
    }

    #[test]
    fn attach_state_change_and_detach_are_reported() {
        let before = listing(&[("A", PhoneState::Unauthorized), ("B", PhoneState::Ready)]);
        let after = listing(&[("A", PhoneState::Ready), ("C", PhoneState::Offline)]);
        let got: Vec<String> = changes(&before, &after)
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        expect_test::expect![[r#"
            [
                "Detached(Server { serial: \"B\" })",
                "Attached(AttachedPhone { address: Server { serial: \"A\" }, state: Ready })",
                "Attached(AttachedPhone { address: Server { serial: \"C\" }, state: Offline })",
            ]
        "#]]
        .assert_debug_eq(&got);
        assert!(changes(&after, &after).is_empty());
    }
}
