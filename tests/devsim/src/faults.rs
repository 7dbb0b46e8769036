//! Fault injection: what a test can make a phone do wrong.
//!
//! Faults are plain data held by each phone. The transport consults
//! [`Faults::packet_received`] for "drop after N packets"; the shell consults
//! [`Faults::take_command_fault`] for each simple command it is about to run.

use std::sync::Mutex;

/// What happens when a command matches a [`FaultRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// The ADB connection drops before the command runs (as if the cable was pulled).
    DropConnection,
    /// The command does not run; it prints `stderr` and exits with `exit`.
    Fail { stderr: String, exit: u8 },
    /// The phone reboots instead of running the command (profiles stop, processes die,
    /// the connection drops).
    Reboot,
}

/// One rule: commands containing `pattern` trigger `action`, `times` times
/// (`None` = every time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Substring matched against the simple command line (program and arguments,
    /// joined by single spaces, after quote removal).
    pub pattern: String,
    /// What to do.
    pub action: FaultAction,
    /// How many more times the rule fires; `None` fires forever.
    pub times: Option<u32>,
}

/// The set of faults armed on one phone.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    drop_after_packets: Option<u64>,
    rules: Vec<FaultRule>,
}

impl Faults {
    /// Drops the next connection after it has received `packets` more packets.
    pub fn drop_after_packets(&self, packets: u64) {
        self.lock().drop_after_packets = Some(packets);
    }

    /// Arms a command rule.
    pub fn add_rule(&self, rule: FaultRule) {
        self.lock().rules.push(rule);
    }

    /// Disarms everything.
    pub fn clear(&self) {
        *self.lock() = FaultState::default();
    }

    /// Called by the transport for every packet received; true means "drop now".
    pub fn packet_received(&self) -> bool {
        let mut state = self.lock();
        match state.drop_after_packets {
            Some(0) => {
                state.drop_after_packets = None;
                true
            }
            Some(n) => {
                state.drop_after_packets = Some(n - 1);
                false
            }
            None => false,
        }
    }

    /// Called by the shell before each simple command; returns the action of the first
    /// matching rule and uses up one of its firings.
    pub fn take_command_fault(&self, command_line: &str) -> Option<FaultAction> {
        let mut state = self.lock();
        let idx = state
            .rules
            .iter()
            .position(|r| command_line.contains(&r.pattern))?;
        let rule = &mut state.rules[idx];
        let action = rule.action.clone();
        match &mut rule.times {
            Some(1) => {
                state.rules.remove(idx);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(action)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        // A poisoned lock only means another thread panicked mid-update of plain data.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_the_given_number_of_times() {
        let f = Faults::default();
        f.add_rule(FaultRule {
            pattern: "pm install-existing".into(),
            action: FaultAction::Reboot,
            times: Some(2),
        });
        assert_eq!(f.take_command_fault("pm list users"), None);
        assert_eq!(
            f.take_command_fault("pm install-existing --user 10 com.whatsapp"),
            Some(FaultAction::Reboot)
        );
        assert_eq!(
            f.take_command_fault("pm install-existing --user 10 com.whatsapp"),
            Some(FaultAction::Reboot)
        );
        assert_eq!(
            f.take_command_fault("pm install-existing --user 10 com.whatsapp"),
            None
        );
    }

    #[test]
    fn drop_after_counts_packets() {
        let f = Faults::default();
        f.drop_after_packets(2);
        assert!(!f.packet_received());
        assert!(!f.packet_received());
        assert!(f.packet_received());
        assert!(!f.packet_received());
    }
}
