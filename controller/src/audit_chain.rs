//! The event log's hash chain: the canonical encoding of an event, its hash, and the
//! check that walks a chain and names the first entry that does not fit.
//!
//! Owns: the byte-exact definition of what an event's hash covers (`docs/console.md`,
//! "The audit log's hash chain") and the verification rules.
//! Must never: do I/O. The store feeds it rows in chain order; `corral audit verify`
//! prints what it says.
//!
//! **Canonical encoding, version 1.** An event's hash is the lowercase hex SHA-256 of the
//! concatenation of these fields, each written as a netstring (`<decimal byte length>:`,
//! the bytes, `,`): the label `corral-event-v1`; the chain position `seq` (decimal, the
//! first event is 1); the previous event's hash (64 hex digits; [`GENESIS`], 64 zeros,
//! before the first event); the time `at` (decimal milliseconds since the Unix epoch,
//! `-` for negative); the device id (empty when the event names no device — a device id is
//! never empty); the actor; the kind; and the detail exactly as stored (the JSON text,
//! byte for byte, never re-serialised). Lengths make the encoding unambiguous whatever
//! bytes a field holds. The row's database `id` is not covered: `seq` is the position.
//!
//! **Version 2** (events appended since migration 0011): the same fields under the label
//! `corral-event-v2`, except that the last one is the lowercase hex SHA-256 of the detail
//! text (stored beside it as `detail_sha256`) instead of the detail itself. The retention
//! job may then replace an old entry's detail by `{"redacted":true}` (marking it
//! redacted) and the chain still verifies through the stored digest; an entry that is not
//! marked redacted must still hash to its digest. Version-1 entries are never redacted,
//! only pruned through a checkpoint.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first event of a chain that starts from nothing.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The label that starts every encoded event; a new encoding gets a new label.
const LABEL: &str = "corral-event-v1";
/// The label of version 2, whose last field is the detail's SHA-256.
const LABEL_V2: &str = "corral-event-v2";

/// What a redacted entry's detail reads.
pub const REDACTED_DETAIL: &str = r#"{"redacted":true}"#;

/// The hashed content of one event, borrowed from a new or a stored row.
#[derive(Debug, Clone, Copy)]
pub struct ChainedEvent<'a> {
    pub seq: i64,
    pub prev_hash: &'a str,
    pub at_ms: i64,
    pub device: Option<&'a str>,
    pub actor: &'a str,
    pub kind: &'a str,
    /// The detail JSON as stored.
    pub detail: &'a str,
    /// Version 2: the detail's SHA-256 (hex), hashed instead of the detail. `None` for
    /// version 1.
    pub detail_sha256: Option<&'a str>,
}

/// Lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The digest a version-2 entry stores for its detail text.
pub fn detail_digest(detail: &str) -> String {
    sha256_hex(detail.as_bytes())
}

fn netstring(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(field.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(field);
    out.push(b',');
}

/// The canonical bytes of an event (see the module documentation).
pub fn canonical(event: &ChainedEvent<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + event.detail.len());
    let label = if event.detail_sha256.is_some() {
        LABEL_V2
    } else {
        LABEL
    };
    netstring(&mut out, label.as_bytes());
    netstring(&mut out, event.seq.to_string().as_bytes());
    netstring(&mut out, event.prev_hash.as_bytes());
    netstring(&mut out, event.at_ms.to_string().as_bytes());
    netstring(&mut out, event.device.unwrap_or("").as_bytes());
    netstring(&mut out, event.actor.as_bytes());
    netstring(&mut out, event.kind.as_bytes());
    netstring(
        &mut out,
        event.detail_sha256.unwrap_or(event.detail).as_bytes(),
    );
    out
}

/// The event's hash: lowercase hex SHA-256 of [`canonical`].
pub fn hash(event: &ChainedEvent<'_>) -> String {
    sha256_hex(&canonical(event))
}

/// One stored event as the verifier reads it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The database row id (reported, not hashed).
    pub id: i64,
    /// `None` for a row that was never sealed into the chain.
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    pub at_ms: i64,
    pub device: Option<String>,
    pub actor: String,
    pub kind: String,
    pub detail: String,
    /// Version 2: the detail's digest as stored.
    pub detail_sha256: Option<String>,
    /// The retention job replaced the detail (version 2 only).
    pub redacted: bool,
}

/// The first entry that does not fit the chain, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The database row id of the entry (`None` when the break is a missing tail).
    pub id: Option<i64>,
    /// Its chain position, when it has one.
    pub seq: Option<i64>,
    /// What differs, in words.
    pub what: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.id, self.seq) {
            (Some(id), Some(seq)) => write!(f, "event id {id} (seq {seq}): {}", self.what),
            (Some(id), None) => write!(f, "event id {id}: {}", self.what),
            (None, _) => write!(f, "{}", self.what),
        }
    }
}

/// Where the chain starts: from nothing, or after a prune's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The seq of the last event before the first stored one (0 from nothing).
    pub seq: i64,
    /// That event's hash ([`GENESIS`] from nothing).
    pub hash: String,
}

impl Start {
    /// A chain that starts from nothing.
    pub fn genesis() -> Start {
        Start {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// Walks a chain fed in `seq` order, one page at a time; stops at the first break.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    last_id: Option<i64>,
    checked: u64,
}

impl Verifier {
    /// A verifier for a chain starting at `start`.
    pub fn new(start: Start) -> Verifier {
        Verifier {
            expected_seq: start.seq + 1,
            prev_hash: start.hash,
            last_id: None,
            checked: 0,
        }
    }

    /// How many events fitted so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the next event; the first break is returned and the walk should stop.
    pub fn check(&mut self, event: &StoredEvent) -> Result<(), Break> {
        let fail = |what: String| Break {
            id: Some(event.id),
            seq: event.seq,
            what,
        };
        let (Some(seq), Some(prev_hash), Some(stored_hash)) =
            (event.seq, event.prev_hash.as_deref(), event.hash.as_deref())
        else {
            return Err(fail(
                "the entry is not sealed into the chain (no hash)".into(),
            ));
        };
        if seq != self.expected_seq {
            return Err(fail(format!(
                "expected seq {} here: entries {} to {} are missing",
                self.expected_seq,
                self.expected_seq,
                seq - 1
            )));
        }
        if let Some(last) = self.last_id
            && event.id <= last
        {
            return Err(fail(format!(
                "its id is not above the previous entry's id {last} (rows were renumbered)"
            )));
        }
        if prev_hash != self.prev_hash {
            return Err(fail(format!(
                "its previous-hash {prev_hash} is not the previous entry's hash {}",
                self.prev_hash
            )));
        }
        if let Some(digest) = event.detail_sha256.as_deref()
            && !event.redacted
            && detail_digest(&event.detail) != digest
        {
            return Err(fail(format!(
                "its content (the detail) was changed: it no longer hashes to its stored digest {digest}"
            )));
        }
        if event.redacted && event.detail_sha256.is_none() {
            return Err(fail(
                "it is marked redacted but has no detail digest (only version-2 entries can be redacted)".into(),
            ));
        }
        let computed = hash(&ChainedEvent {
            seq,
            prev_hash,
            at_ms: event.at_ms,
            device: event.device.as_deref(),
            actor: &event.actor,
            kind: &event.kind,
            detail: &event.detail,
            detail_sha256: event.detail_sha256.as_deref(),
        });
        if computed != stored_hash {
            return Err(fail(format!(
                "its content (time, device, actor, kind or detail) was changed: the stored hash is {stored_hash}, the content hashes to {computed}"
            )));
        }
        self.expected_seq = seq + 1;
        self.prev_hash = computed;
        self.last_id = Some(event.id);
        self.checked += 1;
        Ok(())
    }

    /// After the last event: the chain head the store recorded must be the last entry
    /// seen, or entries were cut off the end.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<u64, Break> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || head_hash != self.prev_hash {
            return Err(Break {
                id: None,
                seq: Some(head_seq),
                what: format!(
                    "the chain head records seq {head_seq} (hash {head_hash}) but the log ends at seq {last_seq} (hash {}): entries were cut off the end",
                    self.prev_hash
                ),
            });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn event(seq: i64, prev: &str) -> ChainedEvent<'_> {
        ChainedEvent {
            seq,
            prev_hash: prev,
            at_ms: 1_700_000_000_000,
            device: Some("dev-1"),
            actor: "user:alice",
            kind: "device.revoked",
            detail: r#"{"reason":"lost"}"#,
            detail_sha256: None,
        }
    }

    #[test]
    fn the_canonical_encoding_is_netstrings_in_a_fixed_order() {
        let bytes = canonical(&event(1, GENESIS));
        expect![[r#"15:corral-event-v1,1:1,64:0000000000000000000000000000000000000000000000000000000000000000,13:1700000000000,5:dev-1,10:user:alice,14:device.revoked,17:{"reason":"lost"},"#]]
            .assert_eq(&String::from_utf8(bytes).unwrap());
    }

    #[test]
    fn an_absent_device_is_the_empty_field() {
        let mut e = event(2, GENESIS);
        e.device = None;
        let text = String::from_utf8(canonical(&e)).unwrap();
        assert!(
            text.contains(",13:1700000000000,0:,10:user:alice,"),
            "{text}"
        );
    }

    #[test]
    fn the_hash_is_sha256_of_the_canonical_bytes() {
        expect!["264a7e5da9cbfb2324e14bb761e54eb2d93e410959338b52d1b66c2b9797d697"]
            .assert_eq(&hash(&event(1, GENESIS)));
    }

    fn stored(id: i64, seq: i64, prev: &str, actor: &str) -> StoredEvent {
        let chained = ChainedEvent {
            actor,
            ..event(seq, prev)
        };
        StoredEvent {
            id,
            seq: Some(seq),
            prev_hash: Some(prev.to_owned()),
            hash: Some(hash(&chained)),
            at_ms: chained.at_ms,
            device: chained.device.map(str::to_owned),
            actor: actor.to_owned(),
            kind: chained.kind.to_owned(),
            detail: chained.detail.to_owned(),
            detail_sha256: None,
            redacted: false,
        }
    }

    fn chain(n: i64) -> Vec<StoredEvent> {
        let mut out: Vec<StoredEvent> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .and_then(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS.to_owned());
            out.push(stored(seq * 10, seq, &prev, "user:alice"));
        }
        out
    }

    fn verify(events: &[StoredEvent]) -> Result<u64, Break> {
        let head = events.last().map_or((0, GENESIS.to_owned()), |e| {
            (e.seq.unwrap_or(0), e.hash.clone().unwrap_or_default())
        });
        let mut verifier = Verifier::new(Start::genesis());
        for e in events {
            verifier.check(e)?;
        }
        verifier.finish(head.0, &head.1)
    }

    #[test]
    fn an_intact_chain_verifies_with_its_count() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn a_changed_field_is_named_at_its_entry() {
        let mut events = chain(5);
        events[2].actor = "user:mallory".into();
        let found = verify(&events).unwrap_err();
        assert_eq!((found.id, found.seq), (Some(30), Some(3)));
        assert!(found.what.starts_with("its content"), "{found}");
    }

    #[test]
    fn a_deleted_entry_is_named_at_the_entry_after_the_gap() {
        let mut events = chain(5);
        events.remove(1);
        let found = verify(&events).unwrap_err();
        expect!["event id 30 (seq 3): expected seq 2 here: entries 2 to 2 are missing"]
            .assert_eq(&found.to_string());
    }

    #[test]
    fn a_rehashed_entry_breaks_the_link_to_the_next() {
        let mut events = chain(4);
        let prev = events[0].hash.clone().unwrap();
        events[1] = stored(20, 2, &prev, "user:mallory");
        let found = verify(&events).unwrap_err();
        assert_eq!(found.seq, Some(3));
        assert!(found.what.contains("previous-hash"), "{found}");
    }

    #[test]
    fn a_cut_off_tail_is_caught_by_the_head() {
        let events = chain(4);
        let head_hash = events[3].hash.clone().unwrap();
        let mut verifier = Verifier::new(Start::genesis());
        for e in &events[..2] {
            verifier.check(e).unwrap();
        }
        let found = verifier.finish(4, &head_hash).unwrap_err();
        assert_eq!(found.id, None);
        assert!(found.what.contains("cut off the end"), "{found}");
    }

    fn chain_v2(n: i64) -> Vec<StoredEvent> {
        let mut out: Vec<StoredEvent> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .and_then(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS.to_owned());
            let detail = format!(r#"{{"n":{seq}}}"#);
            let digest = detail_digest(&detail);
            let chained = ChainedEvent {
                detail: &detail,
                detail_sha256: Some(&digest),
                ..event(seq, &prev)
            };
            out.push(StoredEvent {
                id: seq,
                seq: Some(seq),
                prev_hash: Some(prev.clone()),
                hash: Some(hash(&chained)),
                at_ms: chained.at_ms,
                device: chained.device.map(str::to_owned),
                actor: chained.actor.to_owned(),
                kind: chained.kind.to_owned(),
                detail: detail.clone(),
                detail_sha256: Some(digest.clone()),
                redacted: false,
            });
        }
        out
    }

    #[test]
    fn version_2_hashes_the_detail_digest_under_its_own_label() {
        let digest = detail_digest(r#"{"reason":"lost"}"#);
        let e = ChainedEvent {
            detail_sha256: Some(&digest),
            ..event(1, GENESIS)
        };
        let text = String::from_utf8(canonical(&e)).unwrap();
        assert!(text.starts_with("15:corral-event-v2,"), "{text}");
        assert!(text.ends_with(&format!("64:{digest},")), "{text}");
        assert_ne!(hash(&e), hash(&event(1, GENESIS)));
    }

    #[test]
    fn a_redacted_version_2_entry_still_verifies() {
        let mut events = chain_v2(3);
        events[0].detail = REDACTED_DETAIL.into();
        events[0].redacted = true;
        assert_eq!(verify(&events), Ok(3));
    }

    #[test]
    fn a_changed_version_2_detail_is_named_unless_marked_redacted() {
        let mut events = chain_v2(3);
        events[1].detail = r#"{"n":99}"#.into();
        let found = verify(&events).unwrap_err();
        assert_eq!(found.seq, Some(2));
        assert!(found.what.contains("the detail) was changed"), "{found}");
    }

    #[test]
    fn a_version_1_entry_cannot_pass_as_redacted() {
        let mut events = chain(2);
        events[0].detail = REDACTED_DETAIL.into();
        events[0].redacted = true;
        assert!(
            verify(&events)
                .unwrap_err()
                .what
                .contains("no detail digest")
        );
    }

    #[test]
    fn an_unsealed_entry_is_a_break() {
        let mut events = chain(2);
        events[1].hash = None;
        assert!(verify(&events).unwrap_err().what.contains("not sealed"));
    }
}
