//! Contact pushes: the members of the profile's contact groups. The new directory is kept
//! (`contacts.json`) before anything else, the applied (and wanted) profile is resolved
//! against it, and the phone is reconciled at once, so a contact that left the list —
//! withdrawn or erased — leaves the work profile now, not at the next reconcile. The
//! `contacts_result` is the phone's confirmation: `applied` only when the work profile
//! holds exactly the list.

use corral_wire::{AgentMessage, ApplyOutcome, ContactsPush, ContactsResult};

use super::{Change, Keeper, descriptions};
use crate::reconcile::{self, Target};
use crate::state::Directory;

fn result(
    seq: u64,
    push_seq: u64,
    version: &str,
    outcome: ApplyOutcome,
    actions: Vec<String>,
) -> AgentMessage {
    AgentMessage::ContactsResult(ContactsResult {
        seq,
        push_seq,
        version: version.to_owned(),
        outcome,
        actions,
    })
}

impl Keeper {
    pub(super) async fn contacts(&mut self, push: ContactsPush) {
        let (push_seq, version) = (push.push_seq, push.version.clone());
        if push_seq <= self.applied.push_seq {
            return;
        }
        tracing::info!(push_seq, %version, contacts = push.len(), "Contacts push.");
        let directory = match Directory::from_push(&push) {
            Ok(d) => d.succeeding(&self.directory),
            Err(e) => {
                let failed = ApplyOutcome::Failed { errors: vec![e] };
                self.record(
                    push_seq,
                    |s| result(s, push_seq, &version, failed, Vec::new()),
                    Change::Keep,
                );
                return;
            }
        };
        if let Err(e) = self.state.write_directory(&directory) {
            // Not acted on: the push comes again with the next connection.
            tracing::error!(error = %e, "Cannot keep the pushed contacts.");
            return;
        }
        self.directory = directory;
        self.resolve_again();
        let Some(target) = self.current().cloned() else {
            // No profile yet: the work profile holds none of these contacts, nor anyone
            // who left the list.
            self.record(
                push_seq,
                |s| result(s, push_seq, &version, ApplyOutcome::Applied, Vec::new()),
                Change::Keep,
            );
            return;
        };
        let report = self.reconcile(&target).await;
        let (outcome, actions) = if report.clean() {
            self.contacts_pending = None;
            self.forget_retired();
            (ApplyOutcome::Applied, descriptions(&report))
        } else {
            tracing::warn!(errors = ?report.errors(), "The pushed contacts are not on the phone yet; retrying at every reconcile.");
            self.contacts_pending = Some((push_seq, version.clone()));
            (
                ApplyOutcome::Failed {
                    errors: report.errors(),
                },
                descriptions(&report),
            )
        };
        self.record(
            push_seq,
            |s| result(s, push_seq, &version, outcome, actions),
            Change::Keep,
        );
        self.report(&report, &target, true);
    }

    /// Resolves the applied and the wanted profile against the current directory.
    fn resolve_again(&mut self) {
        let serial = self.serial.clone();
        let again = |t: &Target| match Target::resolve(
            &t.text,
            &t.version,
            serial.as_deref(),
            &self.directory,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "The profile no longer resolves with the pushed contacts.");
                None
            }
        };
        if let Some(t) = self.target.as_ref().and_then(&again) {
            self.target = Some(t);
        }
        if let Some((t, seq)) = self
            .wanted
            .as_ref()
            .and_then(|(t, seq)| again(t).map(|t| (t, *seq)))
        {
            self.wanted = Some((t, seq));
        }
    }

    /// After a clean reconcile: a contacts push that had failed is on the phone now.
    pub(super) fn confirm_pending_contacts(&mut self, report: &reconcile::Report) {
        self.forget_retired();
        let Some((push_seq, version)) = self.contacts_pending.take() else {
            return;
        };
        let actions = descriptions(report);
        if let Err(e) =
            self.append(|s| result(s, push_seq, &version, ApplyOutcome::Applied, actions))
        {
            tracing::error!(error = %e, "Cannot report the pushed contacts applied.");
            self.contacts_pending = Some((push_seq, version));
        }
    }

    /// After a clean reconcile the contacts that left the list are off the phone: their
    /// names need not be kept any longer (minimisation). Kept when the file cannot be
    /// written, so the next clean reconcile tries again.
    fn forget_retired(&mut self) {
        if self.directory.retired.is_empty() {
            return;
        }
        let mut directory = self.directory.clone();
        directory.retired.clear();
        if let Err(e) = self.state.write_directory(&directory) {
            tracing::warn!(error = %e, "Cannot forget the contacts that left the list.");
            return;
        }
        self.directory = directory;
        self.resolve_again();
    }
}
