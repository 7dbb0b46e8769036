//! Recording a result exactly once: the two-phase write of `applied.json` and the outbox
//! (see `state::applied`), and what the result changes about the applied profile.

use corral_wire::AgentMessage;

use super::{Change, Keeper, KeeperError, lock, status_of};
use crate::state::{PendingResult, Wanted};

impl Keeper {
    /// Records the result of push `push_seq` exactly once (see `state::applied`).
    pub(super) fn record(
        &mut self,
        push_seq: u64,
        make: impl FnOnce(u64) -> AgentMessage,
        change: Change,
    ) {
        if let Err(e) = self.try_record(push_seq, make, change) {
            tracing::error!(error = %e, push_seq, "Cannot record a result.");
        }
    }

    pub(super) fn try_record(
        &mut self,
        push_seq: u64,
        make: impl FnOnce(u64) -> AgentMessage,
        change: Change,
    ) -> Result<(), KeeperError> {
        let seq = lock(&self.outbox).next_seq();
        let message = make(seq);
        let mut next = self.applied.clone();
        next.push_seq = next.push_seq.max(push_seq);
        let mut target = self.target.clone();
        let mut wanted = self.wanted.clone();
        match change {
            Change::Keep => {}
            Change::Apply(t) => {
                next.version = Some(t.version.clone());
                next.profile = Some(t.text.clone());
                next.wanted = None;
                target = Some(*t);
                wanted = None;
            }
            Change::Want(t, push) => {
                next.wanted = Some(Wanted {
                    version: t.version.clone(),
                    profile: t.text.clone(),
                    push_seq: push,
                });
                wanted = Some((*t, push));
            }
            Change::Clear => {
                next.version = None;
                next.profile = None;
                next.wanted = None;
                target = None;
                wanted = None;
            }
        }
        next.pending = Some(PendingResult {
            seq,
            message: message.clone(),
        });
        self.state.write_applied(&next)?;
        lock(&self.outbox).append_at(seq, message)?;
        next.pending = None;
        self.state.write_applied(&next)?;
        self.applied = next;
        self.target = target;
        self.wanted = wanted;
        self.outbox_changed.notify_one();
        self.status
            .send_replace(status_of(&self.applied, self.target.as_ref()));
        Ok(())
    }
}
