//! The real controller in-process for tests: store (SQLite in a temporary directory), CA,
//! enrollment listener and mTLS gateway on `127.0.0.1:0`, the butcher-shop profile
//! published, and an enrollment token for it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use corral_agent::enroll;
use corral_agent::state::StateDir;
use corral_controller::config::{Config, Overrides};
use corral_controller::domain::{
    DeviceId, EnrollmentBinding, EnrollmentTokenSecret, ProfileName, Timestamp, VersionHash,
};
use corral_controller::gateway::{AgentListeners, serve_agent_listeners};
use corral_controller::serve::{self, AppState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::butcher_shop;

/// A running controller.
pub struct Controller {
    pub state: AppState,
    pub enrollment: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Controller {
    pub async fn start() -> Controller {
        let dir = tempfile::tempdir().unwrap();
        let env = |key: &str| match key {
            "CORRAL_GATEWAY_LISTEN" | "CORRAL_ENROLLMENT_LISTEN" => Some("127.0.0.1:0".to_owned()),
            _ => None,
        };
        let config = Config::load(dir.path(), &Overrides::default(), &env).unwrap();
        let (state, _admin) = serve::open(config).await.unwrap();
        let listeners = AgentListeners {
            gateway: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            enrollment: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        };
        let enrollment = listeners.enrollment.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            let _ = serve_agent_listeners(&served, listeners, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Controller {
            state,
            enrollment,
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// Publishes the butcher-shop profile (canonical text, corral-profiles' version) and
    /// returns an enrollment token bound to it.
    /// Enrolls `phone` with `token` into `state` (its properties read over its shell), as
    /// `corral-agent enroll` does.
    pub async fn enroll(
        &self,
        phone: &super::TestPhone,
        state: &StateDir,
        token: &str,
    ) -> DeviceId {
        let info = enroll::device_info(&mut phone.shell()).await.unwrap();
        let config = enroll::enroll(
            state,
            &self.enrollment.to_string(),
            self.state.ca.fingerprint(),
            token,
            info,
        )
        .await
        .unwrap();
        DeviceId::parse(&config.device_id).unwrap()
    }

    pub async fn publish_and_token(&self) -> (String, String) {
        self.publish_target_and_token(butcher_shop()).await
    }

    /// As [`Controller::publish_and_token`], for any resolved version of the
    /// butcher-shop profile.
    pub async fn publish_target_and_token(&self, target: super::Target) -> (String, String) {
        let name = ProfileName::parse("butcher-shop").unwrap();
        let version = VersionHash::parse(&target.version).unwrap();
        let store = &self.state.store;
        store
            .publish_profile_version(&name, &version, &target.text, "test", Timestamp::now())
            .await
            .unwrap();
        let token = EnrollmentTokenSecret::generate();
        store
            .create_enrollment_token(
                &token,
                &EnrollmentBinding::Profile(name),
                Timestamp::now().plus(Duration::from_secs(3600)),
                Some("test"),
                Timestamp::now(),
            )
            .await
            .unwrap();
        (token.reveal(), target.version)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Waits until `check` holds (or fails the test after 30 s).
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
