//! [`RestLink`]: the provisioning engine's [`ControllerLink`] to a controller running
//! elsewhere, over its REST API (`/api/v1/provisioning/...`, `/enrollment-tokens`,
//! `/devices/{id}`) with an API token — so any PC with a USB hub can be the station.
//!
//! Must never: record a step locally only (every record goes to the controller, or the
//! step fails with the controller named), or keep an enrollment token after handing it
//! to the engine.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use super::http::{Client, RestError};
use crate::domain::{DeviceId, ProfileName, ProvisionStep, RunOutcome, StepOutcome};
use crate::provision::link::{BoxFuture, poll_applied};
use crate::provision::{ControllerLink, EnrollmentTarget, LinkError};

impl From<RestError> for LinkError {
    fn from(e: RestError) -> Self {
        if e.is_transient() {
            LinkError::Unavailable(e.to_string())
        } else {
            LinkError::Refused(e.to_string())
        }
    }
}

/// The controller at the other end of a [`Client`].
#[derive(Debug, Clone)]
pub struct RestLink {
    client: Client,
    enrollment: EnrollmentTarget,
    /// How long an issued enrollment token is valid.
    pub token_ttl: Duration,
    /// How often `wait_applied` asks.
    pub poll: Duration,
}

/// The enrollment address as a phone reaches it: the listener's bound address, with an
/// unspecified IP (`0.0.0.0`, `::`) replaced by the host the station reaches the
/// controller at.
pub fn reachable_enrollment_address(bound: &str, controller_host: &str) -> String {
    match bound.parse::<SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            if controller_host.contains(':') {
                format!("[{controller_host}]:{}", addr.port())
            } else {
                format!("{controller_host}:{}", addr.port())
            }
        }
        _ => bound.to_owned(),
    }
}

impl RestLink {
    /// Asks the controller where agents enroll; `address` overrides the address phones
    /// are given (when they reach the controller by another name than the station).
    pub async fn connect(client: Client, address: Option<String>) -> Result<RestLink, RestError> {
        let target = client.get("/provisioning/enrollment").await?;
        let field = |name: &str| {
            target[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| RestError::BadAnswer {
                    url: client.url().to_owned(),
                    reason: format!("GET /provisioning/enrollment has no `{name}`"),
                })
        };
        let bound = field("address")?;
        let ca_fingerprint = field("ca_fingerprint")?;
        let address =
            address.unwrap_or_else(|| reachable_enrollment_address(&bound, client.host()));
        Ok(RestLink {
            client,
            enrollment: EnrollmentTarget {
                address,
                ca_fingerprint,
            },
            token_ttl: Duration::from_secs(3600),
            poll: Duration::from_millis(500),
        })
    }

    /// The client this link uses.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn bad(client: &Client, reason: impl Into<String>) -> LinkError {
    LinkError::Unavailable(
        RestError::BadAnswer {
            url: client.url().to_owned(),
            reason: reason.into(),
        }
        .to_string(),
    )
}

impl ControllerLink for RestLink {
    fn enrollment(&self) -> EnrollmentTarget {
        self.enrollment.clone()
    }

    fn start_run<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<i64, LinkError>> {
        Box::pin(async move {
            let body = json!({ "serial": serial, "profile": profile });
            let answer = self
                .client
                .call("POST", "/provisioning/runs", Some(&body))
                .await?;
            answer.body["id"]
                .as_i64()
                .ok_or_else(|| bad(&self.client, "POST /provisioning/runs gave no `id`"))
        })
    }

    fn start_step(&self, run: i64, step: ProvisionStep) -> BoxFuture<'_, Result<(), LinkError>> {
        Box::pin(async move {
            let body = json!({ "step": step.as_str() });
            self.client
                .call(
                    "POST",
                    &format!("/provisioning/runs/{run}/steps"),
                    Some(&body),
                )
                .await?;
            Ok(())
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
            let body = json!({ "outcome": outcome.as_str(), "detail": detail, "error": error });
            self.client
                .call(
                    "PUT",
                    &format!("/provisioning/runs/{run}/steps/{}", step.as_str()),
                    Some(&body),
                )
                .await?;
            Ok(())
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
            let body = json!({
                "outcome": outcome.as_str(),
                "error": error,
                "device": device.map(DeviceId::as_str),
            });
            self.client
                .call(
                    "PUT",
                    &format!("/provisioning/runs/{run}/outcome"),
                    Some(&body),
                )
                .await?;
            Ok(())
        })
    }

    fn issue_token<'a>(
        &'a self,
        _serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<String, LinkError>> {
        Box::pin(async move {
            let body = json!({
                "profile": profile,
                "expires_in_secs": self.token_ttl.as_secs().max(1),
            });
            let answer = self
                .client
                .call("POST", "/enrollment-tokens", Some(&body))
                .await?;
            answer.body["token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(&self.client, "POST /enrollment-tokens gave no `token`"))
        })
    }

    fn wait_applied<'a>(
        &'a self,
        device: &'a DeviceId,
        version: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        let path = format!("/devices/{device}");
        poll_applied(device, version, timeout, self.poll, move || {
            let path = path.clone();
            async move {
                match self.client.get(&path).await {
                    Ok(view) => Ok(view["applied_version"].as_str().map(str::to_owned)),
                    Err(RestError::Api { status: 404, .. }) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
        })
    }
}

/// A profile's current version and canonical TOML, as the controller has it.
pub async fn current_profile(
    client: &Client,
    profile: &ProfileName,
) -> Result<(String, String), RestError> {
    let view: Value = client.get(&format!("/profiles/{profile}")).await?;
    match (
        view["current_version"].as_str(),
        view["canonical_toml"].as_str(),
    ) {
        (Some(version), Some(toml)) => Ok((version.to_owned(), toml.to_owned())),
        _ => Err(RestError::BadAnswer {
            url: client.url().to_owned(),
            reason: format!("GET /profiles/{profile} has no current_version/canonical_toml"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listener_is_reached_by_the_controllers_host() {
        let cases = [
            ("0.0.0.0:8444", "10.0.0.5", "10.0.0.5:8444"),
            ("[::]:8444", "ctl.shop.lan", "ctl.shop.lan:8444"),
            ("0.0.0.0:8444", "::1", "[::1]:8444"),
            ("127.0.0.1:8444", "10.0.0.5", "127.0.0.1:8444"),
            ("192.168.1.2:8444", "ctl", "192.168.1.2:8444"),
        ];
        for (bound, host, expected) in cases {
            assert_eq!(reachable_enrollment_address(bound, host), expected);
        }
    }
}
