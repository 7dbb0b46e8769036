//! The agent's steps of a run: push the build for the phone's ABI (verified by SHA-256),
//! enroll it with a one-time token and start it, then wait until the controller records
//! that it applied the profile.

use std::sync::Arc;

use super::super::steps::{self, AGENT_BIN};
use super::{Job, Report};
use crate::adb;
use crate::domain::{DeviceId, ProvisionStep};
use crate::provision::ProvisionError;
use crate::provision::link::LinkError;

impl Job<'_> {
    pub(super) async fn push_agent(&mut self) -> Result<Report, ProvisionError> {
        const STEP: ProvisionStep = ProvisionStep::PushAgent;
        let abi = self
            .facts
            .as_ref()
            .map(|f| f.abi.clone())
            .unwrap_or_default();
        let build = self.spec.agent_builds.get(&abi).cloned().ok_or_else(|| {
            ProvisionError::NoAgentBuild {
                phone: self.name.clone(),
                abi: abi.clone(),
            }
        })?;
        let probe = steps::agent_probe_script();
        let out = self.sh(&probe).await?;
        let found = steps::parse_probe(&out.output).map_err(|e| self.unexpected(STEP, e))?;
        if found.as_deref() == Some(build.sha256.as_str()) {
            return Ok(Report::unchanged(format!(
                "corral-agent {} already there",
                &build.sha256[..12]
            )));
        }
        if found.is_some() {
            // A running older build keeps its file busy: stop it first.
            self.sh("if pidof corral-agent >/dev/null; then kill $(pidof corral-agent); fi; true")
                .await?;
        }
        adb::push(
            &self.spec.station,
            &self.address,
            Arc::clone(&build.bytes),
            AGENT_BIN,
        )
        .await?;
        let out = self.sh(&probe).await?;
        let after = steps::parse_probe(&out.output).map_err(|e| self.unexpected(STEP, e))?;
        if after.as_deref() != Some(build.sha256.as_str()) {
            return Err(ProvisionError::StepFailed {
                phone: self.name.clone(),
                step: STEP,
                command: format!("push {AGENT_BIN}"),
                reason: format!(
                    "SHA-256 on the phone is {after:?}, expected {}",
                    build.sha256
                ),
            });
        }
        Ok(Report::done(format!(
            "pushed corral-agent for {abi} ({} bytes, sha256 {})",
            build.bytes.len(),
            &build.sha256[..12]
        )))
    }

    async fn agent_status(&mut self) -> Result<(bool, bool), ProvisionError> {
        let out = self.sh(&steps::agent_status_script()).await?;
        steps::parse_agent_status(&out.output)
            .map_err(|e| self.unexpected(ProvisionStep::StartAgent, e))
    }

    pub(super) async fn start_agent(&mut self) -> Result<Report, ProvisionError> {
        const STEP: ProvisionStep = ProvisionStep::StartAgent;
        let (enrolled, running) = self.agent_status().await?;
        let mut done = Vec::new();
        if !enrolled {
            let token = self
                .spec
                .link
                .issue_token(&self.serial, &self.spec.profile)
                .await
                .map_err(|e| self.controller(e))?;
            let target = self.spec.link.enrollment();
            let command = steps::enroll_command(&target.address, &target.ca_fingerprint, &token);
            let out = self.sh(&command).await?;
            if out.exit != 0 {
                // The command line holds the token: it is never recorded.
                let shown = format!("corral-agent enroll --controller {} …", target.address);
                return Err(self.failed(STEP, &shown, &out));
            }
            done.push(format!("enrolled with {}", target.address));
        }
        if !running {
            self.sh(&steps::start_command()).await?;
            let (_, now_running) = self.agent_status().await?;
            if !now_running {
                let log = self
                    .sh(&format!("tail -n 5 {}/agent.log", steps::AGENT_DIR))
                    .await
                    .map(|o| o.output)
                    .unwrap_or_default();
                return Err(ProvisionError::StepFailed {
                    phone: self.name.clone(),
                    step: STEP,
                    command: "corral-agent run".into(),
                    reason: format!("the agent exited at once: {}", log.trim()),
                });
            }
            done.push("started corral-agent".into());
        }
        Ok(if done.is_empty() {
            Report::unchanged("corral-agent enrolled and running")
        } else {
            Report::done(done.join("; "))
        })
    }

    pub(super) async fn device_id(&mut self) -> Result<DeviceId, ProvisionError> {
        const STEP: ProvisionStep = ProvisionStep::AwaitEnrollment;
        let out = self.sh(&steps::agent_config_script()).await?;
        if out.exit != 0 {
            return Err(self.failed(STEP, &steps::agent_config_script(), &out));
        }
        let id = steps::parse_device_id(&out.output).map_err(|e| self.unexpected(STEP, e))?;
        DeviceId::parse(&id).map_err(|e| self.unexpected(STEP, e.to_string()))
    }

    pub(super) async fn await_enrollment(&mut self) -> Result<Report, ProvisionError> {
        let device = self.device_id().await?;
        let timeout = self.spec.enroll_timeout;
        match self
            .spec
            .link
            .wait_applied(&device, &self.spec.version, timeout)
            .await
        {
            Ok(()) => Ok(Report::done(format!(
                "device {device} enrolled and applied {}",
                self.spec.version
            ))),
            Err(LinkError::NotYet(reason)) => Err(ProvisionError::NotEnrolled {
                phone: self.name.clone(),
                waited: timeout,
                reason,
            }),
            Err(e) => Err(self.controller(e)),
        }
    }
}
