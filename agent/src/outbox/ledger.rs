//! The outbox's bookkeeping: which sequence numbers exist, which the controller has
//! acknowledged, which were sent on the current connection, and when the file is worth
//! compacting. Pure; [`super::Outbox`] does the file I/O around it.
//!
//! Sequence numbers start at 1 and only grow, across restarts and compactions (a compacted
//! file starts with a floor record holding the next number). The controller acknowledges
//! a prefix (`Ack { agent_seq }`: everything up to and including it is stored) and
//! de-duplicates by number, so re-sending an unacknowledged report is always safe and
//! delivery is exactly once.

use std::collections::VecDeque;

/// Where the outbox stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// Sequence numbers in the file not yet acknowledged, ascending.
    pending: VecDeque<u64>,
    /// Everything up to here is acknowledged.
    acked: u64,
    /// The number the next report gets.
    next_seq: u64,
    /// Everything up to here was sent on the current connection.
    sent_through: u64,
    /// Acknowledged records still in the file.
    acked_in_file: usize,
}

/// Compact once this many acknowledged records sit in the file (or when none is pending).
pub const COMPACT_AFTER: usize = 64;

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new(1)
    }
}

impl Ledger {
    /// An empty ledger whose next number is `next_seq` (at least 1).
    pub fn new(next_seq: u64) -> Self {
        Ledger {
            pending: VecDeque::new(),
            acked: next_seq.max(1) - 1,
            next_seq: next_seq.max(1),
            sent_through: next_seq.max(1) - 1,
            acked_in_file: 0,
        }
    }

    /// The number the next report gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The highest acknowledged number (0: none).
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Numbers not yet acknowledged.
    pub fn pending(&self) -> impl Iterator<Item = u64> + '_ {
        self.pending.iter().copied()
    }

    /// A record read back from the file, or just written: `seq` must be the next number
    /// or later (a gap is allowed, a step back is not).
    pub fn record(&mut self, seq: u64) -> Result<(), u64> {
        if seq < self.next_seq {
            return Err(self.next_seq);
        }
        self.pending.push_back(seq);
        self.next_seq = seq + 1;
        Ok(())
    }

    /// A floor record: numbering continues at least at `next_seq`; everything below was
    /// acknowledged before the file was compacted.
    pub fn floor(&mut self, next_seq: u64) {
        if next_seq > self.next_seq {
            self.next_seq = next_seq;
        }
        let below = next_seq.saturating_sub(1);
        self.acked = self.acked.max(below);
        self.sent_through = self.sent_through.max(self.acked);
    }

    /// The controller stored everything through `upto`. Returns how many pending records
    /// this acknowledged.
    pub fn ack(&mut self, upto: u64) -> usize {
        let mut n = 0;
        while self.pending.front().is_some_and(|s| *s <= upto) {
            self.pending.pop_front();
            n += 1;
        }
        self.acked = self.acked.max(upto.min(self.next_seq.saturating_sub(1)));
        self.acked_in_file += n;
        n
    }

    /// A new connection's Welcome: `acked` is what the controller has; everything after it
    /// is sent again.
    pub fn welcome(&mut self, acked: u64) -> usize {
        let n = self.ack(acked);
        self.sent_through = self.acked;
        n
    }

    /// The connection is gone: nothing counts as sent any more.
    pub fn disconnected(&mut self) {
        self.sent_through = self.acked;
    }

    /// Pending numbers not yet sent on this connection, in order; marks them sent.
    pub fn take_unsent(&mut self) -> Vec<u64> {
        let from = self.sent_through;
        let out: Vec<u64> = self.pending.iter().copied().filter(|s| *s > from).collect();
        if let Some(last) = out.last() {
            self.sent_through = *last;
        }
        out
    }

    /// Whether rewriting the file without its acknowledged records is worth it now.
    pub fn should_compact(&self) -> bool {
        self.acked_in_file > 0 && (self.pending.is_empty() || self.acked_in_file >= COMPACT_AFTER)
    }

    /// The file was rewritten with only the pending records.
    pub fn compacted(&mut self) {
        self.acked_in_file = 0;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn with(seqs: &[u64]) -> Ledger {
        let mut l = Ledger::default();
        for s in seqs {
            l.record(*s).unwrap();
        }
        l
    }

    #[test]
    fn numbers_only_grow() {
        let mut l = with(&[1, 2, 3]);
        assert_eq!(l.next_seq(), 4);
        assert_eq!(l.record(3), Err(4));
        l.record(7).unwrap();
        assert_eq!(l.next_seq(), 8);
    }

    #[test]
    fn acks_take_a_prefix() {
        let mut l = with(&[1, 2, 3, 4]);
        assert_eq!(l.ack(2), 2);
        assert_eq!(l.pending().collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(l.ack(2), 0);
        assert_eq!(l.ack(1), 0);
        assert_eq!(l.acked(), 2);
        // An ack beyond what exists acknowledges what exists, no more.
        assert_eq!(l.ack(99), 2);
        assert_eq!(l.acked(), 4);
    }

    #[test]
    fn each_report_is_sent_once_per_connection_and_again_after_reconnect() {
        let mut l = with(&[1, 2, 3]);
        assert_eq!(l.welcome(1), 1);
        assert_eq!(l.take_unsent(), vec![2, 3]);
        assert_eq!(l.take_unsent(), Vec::<u64>::new());
        l.record(4).unwrap();
        assert_eq!(l.take_unsent(), vec![4]);
        l.ack(2);
        l.disconnected();
        // The controller stored 3 but its Ack was lost: it says so in Welcome.
        l.welcome(3);
        assert_eq!(l.take_unsent(), vec![4]);
    }

    #[test]
    fn compaction_when_nothing_is_pending_or_much_is_acked() {
        let mut l = with(&[1, 2]);
        assert!(!l.should_compact());
        l.ack(1);
        assert!(!l.should_compact());
        l.ack(2);
        assert!(l.should_compact());
        l.compacted();
        assert!(!l.should_compact());
        let mut l = Ledger::default();
        for s in 1..=(COMPACT_AFTER as u64 + 1) {
            l.record(s).unwrap();
        }
        l.ack(COMPACT_AFTER as u64);
        assert!(l.should_compact());
    }

    #[test]
    fn a_floor_keeps_numbering_going() {
        let mut l = Ledger::default();
        l.floor(10);
        assert_eq!(l.next_seq(), 10);
        assert_eq!(l.acked(), 9);
        assert_eq!(l.take_unsent(), Vec::<u64>::new());
        l.record(10).unwrap();
        assert_eq!(l.take_unsent(), vec![10]);
    }
}
