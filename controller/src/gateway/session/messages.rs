//! What a session does with each message from its agent: every store call names the
//! session's own device, reports are recorded exactly once (the agent's `seq`) and
//! acknowledged only after their group commit, pushes are acknowledged by the agent's
//! answers (the acknowledgement and the apply result commit together).

use corral_wire::{
    Ack, AgentMessage, ApplyOutcome as WireOutcome, CommandOutcome, ControllerMessage, Hello,
    PROTOCOL_VERSION, Renewed, Welcome,
};

use super::{End, Session};
use crate::domain::{ApplyOutcome, ApplyResult, DeviceReport, Timestamp, VersionHash};
use crate::gateway::commit::Refused;
use crate::store::{AgentAnswer, AnswerReport, StoreError};

impl Session<'_> {
    /// Answers Hello: tells the agent how far its outbox is stored, acknowledges the pushes
    /// it already acted on, and asks the dispatcher for the rest.
    pub(super) async fn welcome(&mut self, hello: Hello) -> Result<(), End> {
        if hello.protocol_version != PROTOCOL_VERSION {
            return Err(End::Protocol(format!(
                "unsupported protocol version {} (the controller speaks {PROTOCOL_VERSION})",
                hello.protocol_version
            )));
        }
        let record = self
            .gw
            .store
            .device(&self.device)
            .await
            .map_err(End::from_store)?;
        if hello.outbox_next_seq <= record.last_report_seq {
            // Reports numbered up to `last_report_seq` would be taken for re-sends; the
            // agent must continue after `acked_agent_seq` (docs/wire.md).
            tracing::warn!(
                device = %self.device,
                outbox_next_seq = hello.outbox_next_seq,
                acked = record.last_report_seq,
                "The agent's outbox is behind what the controller stored."
            );
        }
        self.processed = hello.last_push_seq_processed;
        tracing::debug!(
            device = %self.device,
            agent_version = %hello.agent_version,
            applied = ?hello.last_applied_version,
            "Agent said hello."
        );
        self.send(&ControllerMessage::Welcome(Welcome {
            device_id: self.device.to_string(),
            server_time: Timestamp::now().unix_millis(),
            acked_agent_seq: record.last_report_seq,
        }))
        .await?;
        self.gw.mark_seen(&self.device);
        self.gw.pending.mark(&self.device);
        Ok(())
    }

    pub(super) async fn handle(&mut self, msg: AgentMessage) -> Result<(), End> {
        match msg {
            AgentMessage::Hello(_) => Err(End::Protocol("hello sent twice".into())),
            AgentMessage::Heartbeat {} => self.send(&ControllerMessage::HeartbeatAck {}).await,
            AgentMessage::ApplyResult(result) => {
                let version = VersionHash::parse(&result.version)
                    .map_err(|e| End::Protocol(e.to_string()))?;
                if !result.actions.is_empty() {
                    tracing::debug!(device = %self.device, version = %version, actions = ?result.actions, "Profile actions.");
                }
                let outcome = match result.outcome {
                    WireOutcome::Applied => ApplyOutcome::Applied,
                    WireOutcome::Failed { errors } => ApplyOutcome::Failed(errors.join("; ")),
                };
                let report = DeviceReport {
                    seq: result.seq,
                    applied: vec![ApplyResult { version, outcome }],
                    ..DeviceReport::default()
                };
                self.answer(Some(result.push_seq), Some(AnswerReport::Device(report)))
                    .await?;
                self.ack_report(result.seq).await
            }
            AgentMessage::StateReport(report) => {
                let report = DeviceReport {
                    seq: report.seq,
                    observed_state: Some(report.observed),
                    ..DeviceReport::default()
                };
                self.record(report).await
            }
            AgentMessage::DriftReport(report) => {
                let drift =
                    serde_json::json!({ "items": report.items, "repaired": report.repaired });
                self.record(DeviceReport {
                    seq: report.seq,
                    drift: Some(drift),
                    ..DeviceReport::default()
                })
                .await
            }
            AgentMessage::CommandResult(result) => {
                let error = match result.outcome {
                    CommandOutcome::Done => None,
                    CommandOutcome::Failed { error } => Some(error),
                };
                let report = AnswerReport::Command {
                    seq: result.seq,
                    command_id: result.command_id,
                    error,
                    output: result.output,
                };
                self.answer(Some(result.push_seq), Some(report)).await?;
                self.ack_report(result.seq).await
            }
            AgentMessage::ContactsResult(result) => {
                let error = match result.outcome {
                    WireOutcome::Applied => None,
                    WireOutcome::Failed { errors } => Some(errors.join("; ")),
                };
                let report = AnswerReport::Contacts {
                    seq: result.seq,
                    push_seq: result.push_seq,
                    version: result.version,
                    error,
                };
                self.answer(Some(result.push_seq), Some(report)).await?;
                self.ack_report(result.seq).await
            }
            AgentMessage::RenewRequest(request) => {
                let now = Timestamp::now();
                let issued = self
                    .gw
                    .ca
                    .issue_device_certificate(
                        request.csr_pem.as_bytes(),
                        &self.device,
                        self.gw.device_cert_lifetime,
                        now,
                    )
                    .map_err(|e| End::Protocol(format!("renewal refused: {e}")))?;
                let turn = self.gw.write_turn().await;
                self.gw
                    .store
                    .record_certificate(&self.device, &issued.record, now)
                    .await
                    .map_err(End::from_store)?;
                drop(turn);
                tracing::info!(device = %self.device, serial = %issued.record.serial, "Certificate renewed.");
                self.send(&ControllerMessage::Renewed(Renewed {
                    certificate_pem: issued.pem,
                }))
                .await
            }
        }
    }

    /// The agent has the push `seq`: record it delivered (once) and stop tracking it.
    pub(super) async fn ack_push(&mut self, seq: u64) -> Result<(), End> {
        self.answer(Some(seq), None).await
    }

    /// Records a report exactly once and acknowledges it (a re-send is acknowledged too).
    async fn record(&mut self, report: DeviceReport) -> Result<(), End> {
        let seq = report.seq;
        self.answer(None, Some(AnswerReport::Device(report)))
            .await?;
        self.ack_report(seq).await
    }

    /// Stores what the agent answered — the push it acknowledges and/or its report — with
    /// the gateway's group commit; returns once it is committed.
    async fn answer(
        &mut self,
        push_seq: Option<u64>,
        report: Option<AnswerReport>,
    ) -> Result<(), End> {
        let answer = AgentAnswer {
            device: self.device.clone(),
            push_seq,
            report,
        };
        match self.gw.answers.record(answer).await {
            Ok(()) => {
                if let Some(seq) = push_seq {
                    self.in_flight.retain(|s| *s != seq);
                    self.processed = self.processed.max(seq);
                }
                Ok(())
            }
            Err(Refused::Answer(StoreError::NotFound(_))) if push_seq.is_some() => {
                Err(End::Protocol(format!(
                    "answered push {}, which does not exist",
                    push_seq.unwrap_or_default()
                )))
            }
            Err(Refused::Answer(e)) => Err(End::from_store(e)),
            Err(Refused::Batch(reason)) => Err(End::Store(reason)),
        }
    }

    async fn ack_report(&mut self, agent_seq: u64) -> Result<(), End> {
        self.send(&ControllerMessage::Ack(Ack { agent_seq })).await
    }
}
