//! The controller's agent listeners for real, and a tiny agent built from `corral-wire`'s
//! client pieces: `spawn_controller()` opens a temporary data directory with a SQLite store
//! and the real CA and serves the gateway and enrollment on `127.0.0.1:0`;
//! `TestAgent::enroll(&ctl, &token)` enrolls like a phone (key generated locally, only the
//! CSR and the token sent) and `agent.connect()` opens a mutual-TLS session. Log lines are
//! captured so tests can check the reason a connection was closed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use corral_controller::config::{Config, Overrides};
use corral_controller::domain::{
    EnrollmentBinding, EnrollmentTokenSecret, ProfileName, Timestamp, VersionHash, sha256_hex,
};
use corral_controller::gateway::{AgentListeners, Gateway, GatewayOptions, serve_agent_listeners};
use corral_controller::serve::{self, AppState};
use corral_controller::store::Publication;
use corral_wire::client::{AgentConnection, ConnectError, enroll};
use corral_wire::tls::{DeviceKey, gateway_client_config};
use corral_wire::{
    AgentMessage, ApplyOutcome, ApplyResult, ControllerMessage, DeviceInfo, EnrollRequest,
    EnrollResponse, Enrolled, Hello, PROTOCOL_VERSION, ProfilePush, Welcome,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long a test waits for something that should happen at once.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running controller: store, CA and the two agent listeners.
pub struct Controller {
    pub state: AppState,
    pub gateway_addr: SocketAddr,
    pub enrollment_addr: SocketAddr,
    /// Shared with a controller started later on the same data directory.
    pub dir: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Gateway timings for tests: quick sweeps and re-checks.
pub fn test_options() -> GatewayOptions {
    GatewayOptions {
        sweep_every: Duration::from_millis(500),
        seen_flush_every: Duration::from_millis(100),
        certificate_recheck_every: Duration::from_millis(300),
        ..GatewayOptions::default()
    }
}

pub async fn spawn_controller() -> Controller {
    spawn_controller_with(test_options()).await
}

pub async fn spawn_controller_with(options: GatewayOptions) -> Controller {
    spawn_controller_in(Arc::new(tempfile::tempdir().unwrap()), options).await
}

/// A controller on `dir`, which may hold the data of an earlier (stopped or crashed) one.
pub async fn spawn_controller_in(
    dir: Arc<tempfile::TempDir>,
    options: GatewayOptions,
) -> Controller {
    capture_logs();
    let env = |key: &str| match key {
        "CORRAL_GATEWAY_LISTEN" | "CORRAL_ENROLLMENT_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    };
    let config = Config::load(dir.path(), &Overrides::default(), &env).unwrap();
    let (mut state, _admin) = serve::open(config).await.unwrap();
    state.gateway = Gateway::new(
        state.store.clone(),
        Arc::clone(&state.ca),
        state.config.device_cert_lifetime,
        options,
    );
    let listeners = AgentListeners {
        gateway: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        enrollment: TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let gateway_addr = listeners.gateway.local_addr().unwrap();
    let enrollment_addr = listeners.enrollment.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        serve_agent_listeners(&served, listeners, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Controller {
        state,
        gateway_addr,
        enrollment_addr,
        dir,
        stop: Some(stop),
    }
}

impl Controller {
    pub fn fingerprint(&self) -> String {
        self.state.ca.fingerprint().to_owned()
    }

    pub fn gateway(&self) -> &Gateway {
        &self.state.gateway
    }

    /// A fresh enrollment token bound to `profile`, valid for a day.
    pub async fn token(&self, profile: &str) -> String {
        self.token_expiring(profile, Timestamp::now().plus(Duration::from_secs(86_400)))
            .await
    }

    pub async fn token_expiring(&self, profile: &str, expires_at: Timestamp) -> String {
        let token = EnrollmentTokenSecret::generate();
        let binding = EnrollmentBinding::Profile(ProfileName::parse(profile).unwrap());
        self.state
            .store
            .create_enrollment_token(&token, &binding, expires_at, Some("test"), Timestamp::now())
            .await
            .unwrap();
        token.reveal()
    }

    /// Publishes `text` as the new version of `profile` and tells the gateway.
    pub async fn publish(&self, profile: &str, text: &str) -> VersionHash {
        let publication = self.publish_in_store(profile, text).await;
        self.gateway().notify_all();
        publication.version.version
    }

    /// Publishes `text` as the new version of `profile` in the store only; the caller
    /// decides how the gateway hears of it.
    pub async fn publish_in_store(&self, profile: &str, text: &str) -> Publication {
        let version =
            VersionHash::parse(&format!("sha256:{}", sha256_hex(text.as_bytes()))).unwrap();
        self.state
            .store
            .publish_profile_version(
                &ProfileName::parse(profile).unwrap(),
                &version,
                text,
                "test",
                Timestamp::now(),
            )
            .await
            .unwrap()
    }

    /// The CA's key and certificate, to forge certificates "from the right CA" in tests.
    pub fn ca_issuer(&self) -> rcgen::Issuer<'static, rcgen::KeyPair> {
        let key = std::fs::read_to_string(self.dir.path().join("ca/ca.key")).unwrap();
        let key = rcgen::KeyPair::from_pem(&key).unwrap();
        rcgen::Issuer::from_ca_cert_pem(self.state.ca.certificate_pem(), key).unwrap()
    }
}

/// An enrolled test agent: its key, certificate and where to connect.
pub struct TestAgent {
    pub key: DeviceKey,
    pub enrolled: Enrolled,
    pub gateway_addr: SocketAddr,
}

pub fn device_info() -> DeviceInfo {
    DeviceInfo {
        model: "Pixel 8".into(),
        android_release: "15".into(),
        sdk: 35,
        abi: "arm64-v8a".into(),
        serial: Some("TEST123".into()),
    }
}

/// Runs enrollment as a phone would; returns the controller's answer.
pub async fn try_enroll(
    ctl: &Controller,
    token: &str,
    key: &DeviceKey,
    fingerprint: &str,
) -> Result<EnrollResponse, ConnectError> {
    let request = EnrollRequest {
        token: token.to_owned(),
        csr_pem: key.csr_pem().unwrap(),
        device_info: device_info(),
    };
    enroll(
        &ctl.enrollment_addr.to_string(),
        "127.0.0.1",
        fingerprint,
        &request,
    )
    .await
}

impl TestAgent {
    /// Enrolls with `token`, pinning the controller's real CA fingerprint.
    pub async fn enroll(ctl: &Controller, token: &str) -> TestAgent {
        let key = DeviceKey::generate().unwrap();
        match try_enroll(ctl, token, &key, &ctl.fingerprint())
            .await
            .unwrap()
        {
            EnrollResponse::Enrolled(enrolled) => TestAgent {
                key,
                gateway_addr: SocketAddr::from(([127, 0, 0, 1], enrolled.gateway_port)),
                enrolled,
            },
            EnrollResponse::Refused(r) => panic!("enrollment refused: {}", r.reason),
        }
    }

    pub fn device_id(&self) -> corral_controller::domain::DeviceId {
        self.enrolled.device_id.parse().unwrap()
    }

    /// A mutual-TLS connection with this agent's certificate (no Hello yet).
    pub async fn connect_raw(&self) -> Result<AgentConnection, ConnectError> {
        let config = gateway_client_config(
            &self.enrolled.ca_certificate_pem,
            &self.enrolled.certificate_pem,
            self.key.pkcs8_der(),
        )
        .unwrap();
        AgentConnection::connect(
            &self.gateway_addr.to_string(),
            "127.0.0.1",
            Arc::new(config),
        )
        .await
    }

    /// Connects and says hello; returns the connection and the Welcome.
    pub async fn connect(&self, last_push_seq_processed: u64) -> (AgentConnection, Welcome) {
        let mut conn = self.connect_raw().await.unwrap();
        conn.send(&hello(last_push_seq_processed)).await.unwrap();
        match recv(&mut conn).await {
            Some(ControllerMessage::Welcome(welcome)) => (conn, welcome),
            other => panic!("expected a welcome, got {other:?}"),
        }
    }
}

pub fn hello(last_push_seq_processed: u64) -> AgentMessage {
    AgentMessage::Hello(Hello {
        agent_version: "test".into(),
        protocol_version: PROTOCOL_VERSION,
        last_applied_version: None,
        last_push_seq_processed,
        outbox_next_seq: 1,
    })
}

/// The next message, `None` when the gateway closed; panics after [`PATIENCE`].
pub async fn recv(conn: &mut AgentConnection) -> Option<ControllerMessage> {
    tokio::time::timeout(PATIENCE, conn.recv())
        .await
        .expect("the gateway said nothing")
        .unwrap_or(None)
}

/// The next message, which must be a profile push.
pub async fn next_push(conn: &mut AgentConnection) -> ProfilePush {
    match recv(conn).await {
        Some(ControllerMessage::ProfilePush(push)) => push,
        other => panic!("expected a profile push, got {other:?}"),
    }
}

/// The agent's report that it applied `push`, as its report number `seq`.
pub fn applied(seq: u64, push: &ProfilePush) -> AgentMessage {
    AgentMessage::ApplyResult(ApplyResult {
        seq,
        push_seq: push.push_seq,
        version: push.version.clone(),
        outcome: ApplyOutcome::Applied,
        actions: vec!["added 1 contact".into()],
    })
}

/// Sends a heartbeat and returns everything received up to its answer.
pub async fn barrier(conn: &mut AgentConnection) -> Vec<ControllerMessage> {
    conn.send(&AgentMessage::Heartbeat {}).await.unwrap();
    let mut before = Vec::new();
    loop {
        match recv(conn).await {
            Some(ControllerMessage::HeartbeatAck {}) => return before,
            Some(other) => before.push(other),
            None => panic!("closed while waiting for the heartbeat answer"),
        }
    }
}

/// Reads until the gateway closes the connection; returns what it sent before.
pub async fn until_closed(conn: &mut AgentConnection) -> Vec<ControllerMessage> {
    let mut seen = Vec::new();
    while let Some(msg) = recv(conn).await {
        seen.push(msg);
    }
    seen
}

// === Captured logs ===

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(Arc::clone(&buf));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    });
}

/// Every captured log line containing all of `needles`.
pub fn log_lines(needles: &[&str]) -> Vec<String> {
    let Some(buf) = LOGS.get() else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(str::to_owned)
        .collect()
}
