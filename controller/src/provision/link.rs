//! The seam between the provisioning engine and the controller: where the record of runs
//! and steps goes, where enrollment tokens come from, and how the engine learns that the
//! agent has enrolled and applied the profile. [`StoreLink`] is the in-process
//! implementation over [`Store`]; a station talking to a remote controller implements the
//! same trait over the REST API.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::domain::{
    DeviceId, EnrollmentBinding, EnrollmentTokenSecret, ProfileName, ProvisionStep, RunOutcome,
    StepOutcome, Timestamp,
};
use crate::store::{Store, StoreError};

/// A boxed future, so [`ControllerLink`] can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the controller could not do what the engine asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LinkError {
    /// The controller (its database, its API) failed; retrying later may help.
    #[error("the controller is unavailable: {0}")]
    Unavailable(String),
    /// The controller refused (unknown profile, revoked device, …).
    #[error("the controller refused: {0}")]
    Refused(String),
    /// Not there yet (the agent has not enrolled or applied).
    #[error("{0}")]
    NotYet(String),
}

impl From<StoreError> for LinkError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => LinkError::Unavailable(e.to_string()),
            other => LinkError::Refused(other.to_string()),
        }
    }
}

/// Where agents enroll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentTarget {
    /// `HOST:PORT` of the enrollment listener, as the phone reaches it.
    pub address: String,
    /// SHA-256 of the controller's CA certificate (what the agent pins).
    pub ca_fingerprint: String,
}

/// What the engine needs from the controller.
pub trait ControllerLink: Send + Sync {
    /// Where agents enroll.
    fn enrollment(&self) -> EnrollmentTarget;
    /// Starts a provisioning run for `serial`; returns its id.
    fn start_run<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<i64, LinkError>>;
    /// Records that a step started.
    fn start_step(&self, run: i64, step: ProvisionStep) -> BoxFuture<'_, Result<(), LinkError>>;
    /// Records how a step ended.
    fn finish_step<'a>(
        &'a self,
        run: i64,
        step: ProvisionStep,
        outcome: StepOutcome,
        detail: Option<&'a str>,
        error: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), LinkError>>;
    /// Ends a run.
    fn finish_run<'a>(
        &'a self,
        run: i64,
        outcome: RunOutcome,
        error: Option<&'a str>,
        device: Option<&'a DeviceId>,
    ) -> BoxFuture<'a, Result<(), LinkError>>;
    /// A one-time enrollment token bound to `profile`, for the phone `serial`.
    fn issue_token<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<String, LinkError>>;
    /// Waits until `device` has applied `version` (or `timeout` passes: `NotYet`).
    fn wait_applied<'a>(
        &'a self,
        device: &'a DeviceId,
        version: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<(), LinkError>>;
}

/// How the event log names the in-process station.
const ACTOR: &str = "provisioning";

/// The controller in this process: the store and the enrollment listener's address.
#[derive(Debug, Clone)]
pub struct StoreLink {
    pub store: Store,
    pub enrollment: EnrollmentTarget,
    /// How long an issued token is valid.
    pub token_ttl: Duration,
    /// How often `wait_applied` looks.
    pub poll: Duration,
}

impl ControllerLink for StoreLink {
    fn enrollment(&self) -> EnrollmentTarget {
        self.enrollment.clone()
    }

    fn start_run<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<i64, LinkError>> {
        Box::pin(async move {
            Ok(self
                .store
                .start_provisioning_run(serial, profile, ACTOR, Timestamp::now())
                .await?)
        })
    }

    fn start_step(&self, run: i64, step: ProvisionStep) -> BoxFuture<'_, Result<(), LinkError>> {
        Box::pin(async move {
            Ok(self
                .store
                .start_provisioning_step(run, step, Timestamp::now())
                .await?)
        })
    }

    fn finish_step<'a>(
        &'a self,
        run: i64,
        step: ProvisionStep,
        outcome: StepOutcome,
        detail: Option<&'a str>,
        error: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            Ok(self
                .store
                .finish_provisioning_step(run, step, outcome, detail, error, Timestamp::now())
                .await?)
        })
    }

    fn finish_run<'a>(
        &'a self,
        run: i64,
        outcome: RunOutcome,
        error: Option<&'a str>,
        device: Option<&'a DeviceId>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            Ok(self
                .store
                .finish_provisioning_run(run, outcome, error, device, ACTOR, Timestamp::now())
                .await?)
        })
    }

    fn issue_token<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<String, LinkError>> {
        Box::pin(async move {
            let token = EnrollmentTokenSecret::generate();
            let now = Timestamp::now();
            self.store
                .create_enrollment_token(
                    &token,
                    &EnrollmentBinding::Profile(profile.clone()),
                    now.plus(self.token_ttl),
                    Some(&format!("provisioning {serial}")),
                    now,
                )
                .await?;
            Ok(token.reveal())
        })
    }

    fn wait_applied<'a>(
        &'a self,
        device: &'a DeviceId,
        version: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        poll_applied(device, version, timeout, self.poll, move || async move {
            match self.store.device(device).await {
                Ok(d) => Ok(d.applied_version.map(|v| v.as_str().to_owned())),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// Waits until `read` (the device's applied version, `None` before any) says `device` has
/// applied `version`, asking every `poll`; after `timeout`, [`LinkError::NotYet`] says what
/// it has instead. The one waiting rule of every [`ControllerLink::wait_applied`].
pub fn poll_applied<'a, F, Fut>(
    device: &'a DeviceId,
    version: &'a str,
    timeout: Duration,
    poll: Duration,
    mut read: F,
) -> BoxFuture<'a, Result<(), LinkError>>
where
    F: FnMut() -> Fut + Send + 'a,
    Fut: Future<Output = Result<Option<String>, LinkError>> + Send + 'a,
{
    Box::pin(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let applied = read().await?;
            if applied.as_deref() == Some(version) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LinkError::NotYet(match applied {
                    Some(v) => format!("device {device} has applied {v}, not {version}"),
                    None => format!("device {device} has not applied a profile yet"),
                }));
            }
            tokio::time::sleep(poll).await;
        }
    })
}
