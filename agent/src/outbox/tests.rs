//! Crash safety of the outbox: cut the file anywhere, reopen, nothing lost that was
//! written, nothing duplicated, numbering continues.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use corral_wire::{AgentMessage, StateReport};

use super::*;

fn report(seq: u64) -> AgentMessage {
    AgentMessage::StateReport(StateReport {
        seq,
        observed: serde_json::json!({ "n": seq, "text": "x".repeat(seq as usize % 7) }),
    })
}

fn seqs(messages: &[AgentMessage]) -> Vec<u64> {
    messages.iter().filter_map(seq_of).collect()
}

#[test]
fn reports_survive_reopening_and_are_sent_once_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, rec) = Outbox::open(dir.path()).unwrap();
    assert_eq!(rec.torn, None);
    for _ in 0..3 {
        o.append(report).unwrap();
    }
    o.welcome(0).unwrap();
    assert_eq!(seqs(&o.take_unsent()), vec![1, 2, 3]);
    assert!(o.take_unsent().is_empty());
    drop(o);
    let (mut o, rec) = Outbox::open(dir.path()).unwrap();
    assert_eq!(rec.pending, 3);
    o.welcome(1).unwrap();
    assert_eq!(seqs(&o.take_unsent()), vec![2, 3]);
    assert_eq!(o.next_seq(), 4);
}

#[test]
fn a_torn_last_record_is_dropped_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, _) = Outbox::open(dir.path()).unwrap();
    for _ in 0..4 {
        o.append(report).unwrap();
    }
    drop(o);
    let path = dir.path().join(LOG);
    let full = std::fs::read(&path).unwrap();
    let scan = record::scan(&full);
    let last_start = full.len() - (record::HEADER + scan.payloads[3].len());
    for cut in last_start..full.len() {
        std::fs::write(&path, &full[..cut]).unwrap();
        let (mut o, rec) = Outbox::open(dir.path()).unwrap();
        assert_eq!(rec.torn.is_some(), cut != last_start, "cut at {cut}");
        o.welcome(0).unwrap();
        assert_eq!(seqs(&o.take_unsent()), vec![1, 2, 3], "cut at {cut}");
        // The torn report was never sent (it was not on disk), so its number is reused.
        assert_eq!(o.next_seq(), 4);
        // The file is whole again: appending and reopening works.
        o.append(report).unwrap();
        drop(o);
        let (mut o, rec) = Outbox::open(dir.path()).unwrap();
        assert_eq!(rec.torn, None);
        o.welcome(0).unwrap();
        assert_eq!(seqs(&o.take_unsent()), vec![1, 2, 3, 4]);
        std::fs::write(&path, &full).unwrap();
    }
}

#[test]
fn acknowledged_reports_are_compacted_away_and_numbering_continues() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, _) = Outbox::open(dir.path()).unwrap();
    for _ in 0..5 {
        o.append(report).unwrap();
    }
    let before = std::fs::metadata(dir.path().join(LOG)).unwrap().len();
    o.ack(5).unwrap();
    let after = std::fs::metadata(dir.path().join(LOG)).unwrap().len();
    assert!(after < before / 2, "{after} vs {before}");
    assert_eq!(o.pending(), 0);
    drop(o);
    let (mut o, rec) = Outbox::open(dir.path()).unwrap();
    assert_eq!(rec.pending, 0);
    assert_eq!(o.next_seq(), 6);
    assert_eq!(o.acked(), 5);
    o.append(report).unwrap();
    o.welcome(5).unwrap();
    assert_eq!(seqs(&o.take_unsent()), vec![6]);
}

#[test]
fn a_reserved_number_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, _) = Outbox::open(dir.path()).unwrap();
    let seq = o.next_seq();
    assert!(o.append_at(seq, report(seq)).unwrap());
    // After a crash the same reservation is replayed: nothing is written twice.
    assert!(!o.append_at(seq, report(seq)).unwrap());
    assert_eq!(o.pending(), 1);
    // A report whose own number differs from the reserved one is refused.
    assert!(o.append_at(2, report(3)).is_err());
}

#[test]
fn garbage_in_the_middle_stops_reading_there() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, _) = Outbox::open(dir.path()).unwrap();
    for _ in 0..3 {
        o.append(report).unwrap();
    }
    drop(o);
    let path = dir.path().join(LOG);
    let mut bytes = std::fs::read(&path).unwrap();
    let first = record::HEADER + record::scan(&bytes).payloads[0].len();
    bytes[first + 3] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    let (mut o, rec) = Outbox::open(dir.path()).unwrap();
    assert!(rec.torn.is_some());
    o.welcome(0).unwrap();
    assert_eq!(seqs(&o.take_unsent()), vec![1]);
}

#[test]
fn a_controller_ahead_of_the_outbox_moves_numbering_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut o, _) = Outbox::open(dir.path()).unwrap();
    o.append(report).unwrap();
    // The controller already stored reports up to 40 (this state is an old copy).
    o.welcome(40).unwrap();
    assert_eq!(o.next_seq(), 41);
    assert_eq!(o.append(report).unwrap(), 41);
    assert_eq!(seqs(&o.take_unsent()), vec![41]);
    drop(o);
    let (o, _) = Outbox::open(dir.path()).unwrap();
    assert_eq!(o.next_seq(), 42);
}
