//! The outbox: every report and result the agent sends, written to disk (fsync'd) before
//! it is sent, numbered, and kept until the controller acknowledges it — so a report
//! survives `kill -9`, a reboot or a week offline, and reaches the controller exactly once
//! (the controller de-duplicates by number; see [`ledger`]).
//!
//! One append-only file, `outbox/log`, of length-and-checksum framed JSON records
//! ([`record`]): reports (`{"kind":"report","message":{…}}`) and floors
//! (`{"kind":"floor","next_seq":N}`). Opening it drops a torn last record (cut by a crash
//! mid-write) and carries on. When the acknowledged records are worth dropping, the file
//! is rewritten — floor first, then the pending records — to a temporary file, fsync'd and
//! renamed over the old one, so a crash during compaction leaves one of the two.
//!
//! Must never: send a report that is not on disk, reuse a number, or drop an
//! unacknowledged report.

pub mod ledger;
pub mod record;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use corral_wire::AgentMessage;
use serde::{Deserialize, Serialize};

use ledger::Ledger;

/// Why the outbox failed. The agent cannot report without it: it stops and says why.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Reading or writing the file failed.
    #[error("outbox {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A record is intact but not understood (written by a newer agent?).
    #[error("outbox {path}: record {index} is not a report: {reason}")]
    Corrupt {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    /// A number went backwards (a bug; the file is not touched).
    #[error("outbox: report number {seq} is below the next number {next}")]
    OutOfOrder { seq: u64, next: u64 },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry {
    Report { message: AgentMessage },
    Floor { next_seq: u64 },
}

/// The sequence number a report carries.
pub fn seq_of(message: &AgentMessage) -> Option<u64> {
    match message {
        AgentMessage::ApplyResult(r) => Some(r.seq),
        AgentMessage::StateReport(r) => Some(r.seq),
        AgentMessage::DriftReport(r) => Some(r.seq),
        AgentMessage::CommandResult(r) => Some(r.seq),
        AgentMessage::ContactsResult(r) => Some(r.seq),
        _ => None,
    }
}

/// What opening found besides the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Why a torn tail was cut off, and how many bytes it had.
    pub torn: Option<(String, usize)>,
    /// Reports read back that are still unacknowledged.
    pub pending: usize,
}

/// What [`Outbox::peek`] sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peek {
    /// Reports in the file (acknowledged ones not yet compacted away included).
    pub records: usize,
    /// Everything below the file's floor was acknowledged and compacted away.
    pub floor: u64,
    /// The number the next report gets.
    pub next_seq: u64,
}

/// The open outbox.
#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    file: File,
    ledger: Ledger,
    messages: BTreeMap<u64, AgentMessage>,
}

const LOG: &str = "log";

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Outbox {
    /// Opens (or creates) the outbox in `dir`, cutting off a torn last record.
    pub fn open(dir: &Path) -> Result<(Outbox, Recovery), OutboxError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOG);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(&path))?;
        let scan = record::scan(&bytes);
        let mut ledger = Ledger::default();
        let mut messages = BTreeMap::new();
        for (index, payload) in scan.payloads.iter().enumerate() {
            let corrupt = |reason: String| OutboxError::Corrupt {
                path: path.clone(),
                index,
                reason,
            };
            match serde_json::from_slice::<Entry>(payload).map_err(|e| corrupt(e.to_string()))? {
                Entry::Floor { next_seq } => ledger.floor(next_seq),
                Entry::Report { message } => {
                    let seq =
                        seq_of(&message).ok_or_else(|| corrupt("no sequence number".into()))?;
                    ledger
                        .record(seq)
                        .map_err(|next| OutboxError::OutOfOrder { seq, next })?;
                    messages.insert(seq, message);
                }
            }
        }
        let torn = scan.torn.map(|why| (why, bytes.len() - scan.valid_len));
        if torn.is_some() {
            file.set_len(scan.valid_len as u64).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
        }
        let pending = messages.len();
        Ok((
            Outbox {
                path,
                file,
                ledger,
                messages,
            },
            Recovery { torn, pending },
        ))
    }

    /// Reads the outbox in `dir` without changing it (a torn tail is left alone): what a
    /// status command or a test may look at while the agent runs.
    pub fn peek(dir: &Path) -> Result<Peek, OutboxError> {
        let path = dir.join(LOG);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut ledger = Ledger::default();
        for (index, payload) in record::scan(&bytes).payloads.iter().enumerate() {
            match serde_json::from_slice::<Entry>(payload) {
                Ok(Entry::Floor { next_seq }) => ledger.floor(next_seq),
                Ok(Entry::Report { message }) => {
                    let seq = seq_of(&message).unwrap_or(0);
                    ledger
                        .record(seq)
                        .map_err(|next| OutboxError::OutOfOrder { seq, next })?;
                }
                Err(e) => {
                    return Err(OutboxError::Corrupt {
                        path,
                        index,
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(Peek {
            records: ledger.pending().count(),
            floor: ledger.acked(),
            next_seq: ledger.next_seq(),
        })
    }

    /// The number the next report gets.
    pub fn next_seq(&self) -> u64 {
        self.ledger.next_seq()
    }

    /// The highest number the controller acknowledged.
    pub fn acked(&self) -> u64 {
        self.ledger.acked()
    }

    /// Unacknowledged reports.
    pub fn pending(&self) -> usize {
        self.messages.len()
    }

    /// Writes the report `make(seq)` with the next number and fsyncs; returns the number.
    pub fn append(&mut self, make: impl FnOnce(u64) -> AgentMessage) -> Result<u64, OutboxError> {
        let seq = self.ledger.next_seq();
        self.append_at(seq, make(seq))?;
        Ok(seq)
    }

    /// Writes `message`, which carries the number `seq` reserved earlier with
    /// [`Outbox::next_seq`]. Returns `false` (and writes nothing) when that number is
    /// already used — the report was written before a crash.
    pub fn append_at(&mut self, seq: u64, message: AgentMessage) -> Result<bool, OutboxError> {
        if seq < self.ledger.next_seq() {
            return Ok(false);
        }
        if seq_of(&message) != Some(seq) {
            return Err(OutboxError::OutOfOrder {
                seq,
                next: self.ledger.next_seq(),
            });
        }
        let payload = serde_json::to_vec(&Entry::Report {
            message: message.clone(),
        })
        .map_err(|e| OutboxError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        self.file
            .write_all(&record::encode(&payload))
            .map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))?;
        self.ledger
            .record(seq)
            .map_err(|next| OutboxError::OutOfOrder { seq, next })?;
        self.messages.insert(seq, message);
        Ok(true)
    }

    /// The controller stored everything through `upto`.
    pub fn ack(&mut self, upto: u64) -> Result<(), OutboxError> {
        if self.ledger.ack(upto) > 0 {
            self.messages.retain(|s, _| *s > upto);
            self.compact_if_worth_it()?;
        }
        Ok(())
    }

    /// A new connection: the controller has everything through `acked`.
    ///
    /// A controller that has more than this outbox ever numbered (the state directory was
    /// restored from an old copy) would take new reports for re-sends of old ones and drop
    /// them; numbering jumps past what it has instead, durably (a floor record).
    pub fn welcome(&mut self, acked: u64) -> Result<(), OutboxError> {
        if acked >= self.ledger.next_seq() {
            let floor = serde_json::to_vec(&Entry::Floor {
                next_seq: acked + 1,
            })
            .map_err(|e| OutboxError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            self.file
                .write_all(&record::encode(&floor))
                .map_err(io(&self.path))?;
            self.file.sync_data().map_err(io(&self.path))?;
            self.ledger.floor(acked + 1);
        }
        if self.ledger.welcome(acked) > 0 {
            self.messages.retain(|s, _| *s > acked);
            self.compact_if_worth_it()?;
        }
        Ok(())
    }

    /// The connection is gone; unacknowledged reports will be sent again.
    pub fn disconnected(&mut self) {
        self.ledger.disconnected();
    }

    /// The reports not yet sent on this connection, in order (marked sent).
    pub fn take_unsent(&mut self) -> Vec<AgentMessage> {
        self.ledger
            .take_unsent()
            .into_iter()
            .filter_map(|s| self.messages.get(&s).cloned())
            .collect()
    }

    fn compact_if_worth_it(&mut self) -> Result<(), OutboxError> {
        if !self.ledger.should_compact() {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!("{LOG}.tmp"));
        let mut bytes = Vec::new();
        let floor = serde_json::to_vec(&Entry::Floor {
            next_seq: self.ledger.next_seq(),
        })
        .map_err(|e| OutboxError::Io {
            path: tmp.clone(),
            source: std::io::Error::other(e),
        })?;
        bytes.extend(record::encode(&floor));
        for message in self.messages.values() {
            let payload = serde_json::to_vec(&Entry::Report {
                message: message.clone(),
            })
            .map_err(|e| OutboxError::Io {
                path: tmp.clone(),
                source: std::io::Error::other(e),
            })?;
            bytes.extend(record::encode(&payload));
        }
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        self.ledger.compacted();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
