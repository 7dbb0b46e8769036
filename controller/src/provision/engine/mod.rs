//! The provisioning engine, the I/O edge: runs the steps for one phone through
//! [`crate::adb`], records every step through the [`ControllerLink`], and provisions many
//! phones in parallel with bounded concurrency.
//!
//! **Resume rule:** every run starts again from preflight, and every step looks at the
//! phone before it acts, so a step that was done (by an earlier run or by hand) records
//! `unchanged` and costs one round trip; a step a fault cut short is done again. The phone
//! is the truth; the record is the history.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use corral_agent::enforce;
use corral_agent::observe::sections;
use corral_agent::observe::{Interest, ObserveError, Observer};
use corral_agent::reconcile::Target;
use corral_agent::shell::{PhoneShell, ShellError, ShellOutput};
use corral_profiles::{Action, ObservedPhone, Plan, UserId, Users, plan};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};

use super::ProvisionError;

mod agent;
use super::link::{ControllerLink, LinkError};
use super::preflight::{self, Facts};
use super::steps::{self, ProfileVerdict};
use crate::adb::{self, AdbError, PhoneAddress, Station};
use crate::domain::{DeviceId, ProfileName, ProvisionStep, RunOutcome, StepOutcome, hex};

/// One agent build: its bytes and their SHA-256.
#[derive(Debug, Clone)]
pub struct AgentBuild {
    pub bytes: Arc<Vec<u8>>,
    pub sha256: String,
}

impl AgentBuild {
    /// Reads the build at `path`.
    pub fn load(path: &Path) -> std::io::Result<AgentBuild> {
        let bytes = std::fs::read(path)?;
        Ok(AgentBuild {
            sha256: hex(&Sha256::digest(&bytes)),
            bytes: Arc::new(bytes),
        })
    }
}

/// What to provision the phones with.
#[derive(Clone)]
pub struct ProvisionSpec {
    /// The station's adb server and key.
    pub station: Station,
    /// The profile the phones enroll into.
    pub profile: ProfileName,
    /// Its current version (`sha256:…`) and canonical text.
    pub version: String,
    pub canonical_toml: String,
    /// `corral-agent` builds by ABI (`arm64-v8a`).
    pub agent_builds: BTreeMap<String, AgentBuild>,
    /// Where the APKs a profile names (`messenger.apk`) are, by their file name.
    pub apk_dir: Option<PathBuf>,
    /// The controller.
    pub link: Arc<dyn ControllerLink>,
    /// How long to wait for the agent to enroll and apply the profile.
    pub enroll_timeout: Duration,
}

impl std::fmt::Debug for ProvisionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionSpec")
            .field("profile", &self.profile)
            .field("version", &self.version)
            .field("abis", &self.agent_builds.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Where a phone is: a step started or finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub phone: String,
    pub step: ProvisionStep,
    pub state: ProgressState,
}

/// A step's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressState {
    Started,
    Finished(StepOutcome),
}

/// How one phone's run ended.
#[derive(Debug)]
pub struct PhoneResult {
    pub phone: PhoneAddress,
    /// The run's id in the record (`None`: the record could not even be started).
    pub run: Option<i64>,
    /// The enrolled device, or why not.
    pub outcome: Result<DeviceId, ProvisionError>,
}

/// Provisions `phones`, at most `concurrency` at a time; results in the order given.
pub async fn provision_all(
    spec: Arc<ProvisionSpec>,
    phones: Vec<PhoneAddress>,
    concurrency: usize,
    progress: Option<mpsc::UnboundedSender<Progress>>,
) -> Vec<PhoneResult> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, phone) in phones.iter().cloned().enumerate() {
        let (spec, permits, progress) = (Arc::clone(&spec), Arc::clone(&permits), progress.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, provision_phone(&spec, &phone, progress).await)
        });
    }
    let mut results: Vec<Option<PhoneResult>> = phones.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, r)) = joined {
            results[i] = Some(r);
        }
    }
    results
        .into_iter()
        .zip(phones)
        .map(|(r, phone)| {
            r.unwrap_or_else(|| PhoneResult {
                outcome: Err(ProvisionError::Adb(AdbError::Broken {
                    phone: phone.to_string(),
                    reason: "the provisioning task panicked".into(),
                })),
                phone,
                run: None,
            })
        })
        .collect()
}

/// Provisions one phone: one recorded run.
pub async fn provision_phone(
    spec: &ProvisionSpec,
    phone: &PhoneAddress,
    progress: Option<mpsc::UnboundedSender<Progress>>,
) -> PhoneResult {
    let serial = phone.serial();
    let name = phone.to_string();
    let run = match spec.link.start_run(&serial, &spec.profile).await {
        Ok(run) => run,
        Err(source) => {
            return PhoneResult {
                phone: phone.clone(),
                run: None,
                outcome: Err(ProvisionError::Controller {
                    phone: name,
                    source,
                }),
            };
        }
    };
    let target = Target::resolve(
        &spec.canonical_toml,
        &spec.version,
        Some(&serial),
        &Default::default(),
    );
    let mut job = Job {
        spec,
        name: name.clone(),
        serial,
        address: phone.clone(),
        run,
        progress,
        shell: adb::phone_shell(&spec.station, phone),
        observer: Observer::new(),
        target: None,
        facts: None,
        verdict: None,
        by_step: BTreeMap::new(),
        work: None,
    };
    let outcome = match target {
        Ok(t) => {
            job.target = Some(t);
            job.run_steps().await
        }
        Err(e) => Err(ProvisionError::Unexpected {
            phone: name.clone(),
            step: ProvisionStep::Preflight,
            detail: e.to_string(),
        }),
    };
    let (result, error) = match &outcome {
        Ok(_) => (RunOutcome::Done, None),
        Err(e) => (RunOutcome::Failed, Some(e.to_string())),
    };
    let device = outcome.as_ref().ok();
    if let Err(source) = spec
        .link
        .finish_run(run, result, error.as_deref(), device)
        .await
    {
        tracing::warn!(phone = %name, error = %source, "could not record the end of the provisioning run");
    }
    PhoneResult {
        phone: phone.clone(),
        run: Some(run),
        outcome,
    }
}

/// What one step did.
struct Report {
    changed: bool,
    detail: String,
}

impl Report {
    fn unchanged(detail: impl Into<String>) -> Report {
        Report {
            changed: false,
            detail: detail.into(),
        }
    }
    fn done(detail: impl Into<String>) -> Report {
        Report {
            changed: true,
            detail: detail.into(),
        }
    }
}

/// One phone's run in progress.
struct Job<'a> {
    spec: &'a ProvisionSpec,
    name: String,
    serial: String,
    address: PhoneAddress,
    run: i64,
    progress: Option<mpsc::UnboundedSender<Progress>>,
    shell: PhoneShell,
    observer: Observer,
    target: Option<Target>,
    facts: Option<Facts>,
    verdict: Option<ProfileVerdict>,
    by_step: BTreeMap<ProvisionStep, Plan>,
    work: Option<UserId>,
}

impl Job<'_> {
    async fn run_steps(&mut self) -> Result<DeviceId, ProvisionError> {
        for step in ProvisionStep::ALL {
            tracing::debug!(phone = %self.name, %step, "step started");
            self.announce(step, ProgressState::Started);
            self.spec
                .link
                .start_step(self.run, step)
                .await
                .map_err(|e| self.controller(e))?;
            let result = match step {
                ProvisionStep::Preflight => self.preflight().await,
                ProvisionStep::WorkProfile => self.work_profile().await,
                ProvisionStep::StartProfile
                | ProvisionStep::Messenger
                | ProvisionStep::PersonalCopy
                | ProvisionStep::ProfileSettings => self.enforce_step(step).await,
                ProvisionStep::PushAgent => self.push_agent().await,
                ProvisionStep::StartAgent => self.start_agent().await,
                ProvisionStep::AwaitEnrollment => self.await_enrollment().await,
            };
            let (outcome, detail, error) = match &result {
                Ok(r) if r.changed => (StepOutcome::Done, Some(r.detail.as_str()), None),
                Ok(r) => (StepOutcome::Unchanged, Some(r.detail.as_str()), None),
                Err(e) => (StepOutcome::Failed, None, Some(e.to_string())),
            };
            self.spec
                .link
                .finish_step(self.run, step, outcome, detail, error.as_deref())
                .await
                .map_err(|e| self.controller(e))?;
            tracing::debug!(phone = %self.name, %step, outcome = outcome.as_str(), "step finished");
            self.announce(step, ProgressState::Finished(outcome));
            result?;
        }
        self.device_id().await
    }

    fn announce(&self, step: ProvisionStep, state: ProgressState) {
        if let Some(p) = &self.progress {
            let _ = p.send(Progress {
                phone: self.name.clone(),
                step,
                state,
            });
        }
    }

    fn controller(&self, source: LinkError) -> ProvisionError {
        ProvisionError::Controller {
            phone: self.name.clone(),
            source,
        }
    }

    fn broken(&self, e: &ShellError) -> ProvisionError {
        ProvisionError::Adb(AdbError::Broken {
            phone: self.name.clone(),
            reason: e.to_string(),
        })
    }

    fn unexpected(&self, step: ProvisionStep, detail: impl Into<String>) -> ProvisionError {
        ProvisionError::Unexpected {
            phone: self.name.clone(),
            step,
            detail: detail.into(),
        }
    }

    fn failed(&self, step: ProvisionStep, command: &str, out: &ShellOutput) -> ProvisionError {
        ProvisionError::StepFailed {
            phone: self.name.clone(),
            step,
            command: command.to_owned(),
            reason: format!("exit status {}: {}", out.exit, out.output.trim()),
        }
    }

    fn target(&self) -> Result<&Target, ProvisionError> {
        self.target
            .as_ref()
            .ok_or_else(|| self.unexpected(ProvisionStep::Preflight, "no target profile"))
    }

    async fn sh(&mut self, script: &str) -> Result<ShellOutput, ProvisionError> {
        self.shell.run(script).await.map_err(|e| self.broken(&e))
    }

    async fn observe(&mut self, step: ProvisionStep) -> Result<ObservedPhone, ProvisionError> {
        let interest = Interest::of(&self.target()?.profile.settings);
        match self.observer.observe(&mut self.shell, &interest).await {
            Ok(o) => Ok(o),
            Err(ObserveError::Shell(e)) => Err(self.broken(&e)),
            Err(ObserveError::Parse(e)) => Err(self.unexpected(step, e.to_string())),
        }
    }

    /// Observes and plans; the plan's actions are kept by step.
    async fn replan(
        &mut self,
        step: ProvisionStep,
    ) -> Result<(ObservedPhone, Plan), ProvisionError> {
        let observed = self.observe(step).await?;
        let target = self.target()?;
        let p = plan(&target.profile, &target.allow, &observed);
        self.by_step = steps::by_step(&p, &target.profile.settings);
        self.work = observed.work.as_ref().map(|w| w.user);
        Ok((observed, p))
    }

    async fn preflight(&mut self) -> Result<Report, ProvisionError> {
        const STEP: ProvisionStep = ProvisionStep::Preflight;
        adb::ready(&self.spec.station, &self.address).await?;
        let secs = preflight::sections();
        let nonce: u64 = rand::random();
        let out = self.sh(&sections::script(&secs, nonce)).await?;
        let parts = sections::split(&secs, nonce, &out.output)
            .map_err(|e| self.unexpected(STEP, e.to_string()))?;
        let (release, sdk, facts) =
            preflight::parse(&parts).map_err(|e| self.unexpected(STEP, e.to_string()))?;
        let Some(facts) = facts else {
            return Err(ProvisionError::AndroidTooOld {
                phone: self.name.clone(),
                release,
                sdk,
            });
        };
        let (observed, p) = self.replan(STEP).await?;
        if let Some(package) = steps::missing_package(&p) {
            return Err(ProvisionError::MessengerMissing {
                phone: self.name.clone(),
                package: package.to_string(),
            });
        }
        let mut apk_bytes = 0;
        for (package, file) in apk_files(&p) {
            match self.apk_path(&file).and_then(|f| std::fs::metadata(f).ok()) {
                Some(m) => apk_bytes += m.len(),
                None => {
                    return Err(ProvisionError::MessengerMissing {
                        phone: self.name.clone(),
                        package,
                    });
                }
            }
        }
        let verdict = steps::judge_profiles(&self.name, &observed)?;
        let agent = self.spec.agent_builds.get(&facts.abi);
        preflight::check(
            &self.name,
            &facts,
            agent.map(|a| a.bytes.len() as u64),
            apk_bytes,
        )?;
        let detail = format!(
            "Android {} (API {}), {}, {} MiB free on /data, users {:?}, work profile {}, accounts {:?}",
            facts.release,
            facts.sdk,
            facts.abi,
            facts.free_bytes / (1024 * 1024),
            observed.users.iter().map(|u| u.id.0).collect::<Vec<_>>(),
            match (&verdict.reuse, verdict.remove.is_empty()) {
                (Some(u), true) => format!("user {u} (corral's or unowned: reused)"),
                (Some(u), false) => format!(
                    "user {u} reused, half-created {:?} to remove",
                    verdict.remove
                ),
                (None, true) => "none".to_owned(),
                (None, false) => format!("half-created {:?} to remove", verdict.remove),
            },
            facts.account_types,
        );
        self.facts = Some(facts);
        self.verdict = Some(verdict);
        Ok(Report::unchanged(detail))
    }

    fn apk_path(&self, file: &str) -> Option<PathBuf> {
        // Only a plain file name inside the APK directory: the profile cannot point the
        // station anywhere else.
        if file.contains('/') || file.starts_with('.') {
            return None;
        }
        self.spec.apk_dir.as_ref().map(|d| d.join(file))
    }

    async fn work_profile(&mut self) -> Result<Report, ProvisionError> {
        const STEP: ProvisionStep = ProvisionStep::WorkProfile;
        let verdict = self
            .verdict
            .clone()
            .ok_or_else(|| self.unexpected(STEP, "preflight did not run"))?;
        let mut done = Vec::new();
        for user in &verdict.remove {
            let command = format!("pm remove-user {user}");
            let out = self.sh(&command).await?;
            let ok = out.output.contains("Success: removed user")
                || out
                    .output
                    .contains(&format!("Success: user {user} removed"));
            if !ok {
                return Err(self.failed(STEP, &command, &out));
            }
            done.push(format!("removed the half-created profile {user}"));
        }
        if let Some(user) = verdict.reuse {
            self.replan(STEP).await?;
            return Ok(if done.is_empty() {
                Report::unchanged(format!("reusing work profile {user}"))
            } else {
                done.push(format!("reusing work profile {user}"));
                Report::done(done.join("; "))
            });
        }
        let name = self.target()?.profile.settings.work_profile.name.clone();
        let create = [Action::CreateWorkProfile { name }];
        let users = Users {
            personal: UserId(0),
            work: None,
        };
        let result = enforce::enforce(&mut self.shell, &[&create[..]], users).await;
        if let Some(f) = result.failure {
            return Err(self.enforce_failure(STEP, f));
        }
        let created = result
            .created_user
            .ok_or_else(|| self.unexpected(STEP, "pm create-user printed no user id"))?;
        done.push(format!("created work profile {created}"));
        self.replan(STEP).await?;
        Ok(Report::done(done.join("; ")))
    }

    fn enforce_failure(&self, step: ProvisionStep, f: enforce::Failure) -> ProvisionError {
        match f.action {
            None => ProvisionError::Adb(AdbError::Broken {
                phone: self.name.clone(),
                reason: f.reason,
            }),
            Some(_) => ProvisionError::StepFailed {
                phone: self.name.clone(),
                step,
                command: f.command,
                reason: f.reason,
            },
        }
    }

    /// Runs the step's share of the plan.
    async fn enforce_step(&mut self, step: ProvisionStep) -> Result<Report, ProvisionError> {
        let Some(actions) = self.by_step.get(&step).cloned() else {
            return Ok(Report::unchanged("nothing to do"));
        };
        if step == ProvisionStep::Messenger {
            self.stage_apks(&actions).await?;
        }
        let users = Users {
            personal: UserId(0),
            work: self.work,
        };
        let result = enforce::enforce(&mut self.shell, &actions.batches(), users).await;
        if let Some(f) = result.failure {
            return Err(self.enforce_failure(step, f));
        }
        let done: Vec<String> = result.done.iter().map(|d| d.description.clone()).collect();
        Ok(Report::done(done.join("; ")))
    }

    /// Pushes the APKs the messenger step installs to the planner's staging path.
    async fn stage_apks(&mut self, actions: &Plan) -> Result<(), ProvisionError> {
        for (package, file) in apk_files(actions) {
            let Some(path) = self.apk_path(&file) else {
                return Err(ProvisionError::MessengerMissing {
                    phone: self.name.clone(),
                    package,
                });
            };
            let Ok(build) = AgentBuild::load(&path) else {
                return Err(ProvisionError::MessengerMissing {
                    phone: self.name.clone(),
                    package,
                });
            };
            let staged = format!(
                "{}/{}.apk",
                corral_profiles::plan::APK_STAGING_DIR,
                build.sha256
            );
            self.sh(&format!(
                "mkdir -p {}",
                corral_profiles::plan::APK_STAGING_DIR
            ))
            .await?;
            adb::push(&self.spec.station, &self.address, build.bytes, &staged).await?;
        }
        Ok(())
    }
}

/// The (package, APK file) pairs a plan installs from APKs.
fn apk_files(p: &Plan) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::InstallApk { package, apk, .. } => {
                Some((package.to_string(), apk.file.clone()))
            }
            _ => None,
        })
        .filter(|pair| seen.insert(pair.clone()))
        .collect()
}
