//! Harness for the provisioning tests: simulated phones whose pushed programs reach their
//! shell through the `corral` binary (the shim), a store with the butcher-shop profile
//! published, a stand-in agent (a shell script that enrolls and stays up, for tests that
//! need no controller), a link that records in the store, and a phone's state as one
//! comparable text. The simulator and private adb server come from the devsim tests'
//! harness, included by path rather than copied.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/devsim/tests/common/mod.rs"]
pub mod devsim;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use corral_controller::adb::{PhoneAddress, Station};
use corral_controller::domain::{
    DeviceId, ProfileName, ProvisionStep, RunOutcome, StepOutcome, Timestamp, VersionHash,
};
use corral_controller::provision::engine::AgentBuild;
use corral_controller::provision::link::BoxFuture;
use corral_controller::provision::{
    ControllerLink, EnrollmentTarget, LinkError, ProvisionSpec, StoreLink,
};
use corral_controller::store::{Store, StoreOptions};
use corral_devsim::phone::{Phone, PhoneConfig};
use corral_devsim::simulator::{Simulator, SimulatorConfig};
use corral_profiles::SourceFile;

/// Simulated phones on the test's own runtime (the devsim harness's `Sim` keeps its own
/// runtime, which an async test cannot block on).
pub struct Phones(pub Simulator);

impl Phones {
    pub async fn start(config: SimulatorConfig) -> Phones {
        // `RUST_LOG=corral_controller=debug,corral_devsim=debug cargo test …` shows the steps.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        Phones(Simulator::start(config).await.unwrap())
    }
    pub fn phone(&self, i: usize) -> &Arc<Phone> {
        &self.0.phones()[i]
    }
    pub fn serial(&self, i: usize) -> String {
        self.phone(i).serial().to_owned()
    }
    pub fn addr(&self, i: usize) -> std::net::SocketAddr {
        self.0.addrs()[i]
    }
    /// Kills the programs running on the phones and shuts the simulator down.
    pub async fn stop(self) {
        for phone in self.0.phones() {
            phone.processes().kill_all();
        }
        self.0.shutdown().await;
    }
}

/// The butcher-shop profile: (canonical TOML, version).
pub fn butcher_shop() -> (String, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../profiles/examples/");
    let files = ["base.toml", "butcher-shop.toml"]
        .map(|f| SourceFile::new(f, std::fs::read_to_string(format!("{root}{f}")).unwrap()));
    let p = corral_profiles::resolve_one(&files, "butcher-shop", None).unwrap();
    (p.canonical_toml(), p.version().as_str().to_owned())
}

/// Simulator settings whose phones run pushed programs with `corral` as their shell shim,
/// customised per phone by `each`.
pub fn sim_config(
    phones: usize,
    each: impl Fn(usize, &mut PhoneConfig) + Send + Sync + 'static,
) -> SimulatorConfig {
    SimulatorConfig {
        phones,
        customize: Some(Arc::new(move |i, c: &mut PhoneConfig| {
            c.host_exe = Some(env!("CARGO_BIN_EXE_corral").into());
            each(i, c);
        })),
        ..SimulatorConfig::default()
    }
}

/// A stand-in `corral-agent`: `enroll` writes the files the real one writes, `run` stays
/// up (for at most five minutes, should a test leave it behind).
pub fn stand_in_agent(dir: &Path) -> PathBuf {
    let path = dir.join("corral-agent");
    std::fs::write(
        &path,
        "#!/bin/sh\n# stand-in corral-agent\ncase \"$1\" in\n  enroll)\n    mkdir -p state && : > state/cert.pem && printf 'device_id = \"%s\"\\ngateway = \"127.0.0.1:1\"\\nserver_name = \"localhost\"\\n' 0123456789abcdef0123456789abcdef > state/config.toml && echo 'enrolled as device 0123456789abcdef0123456789abcdef (gateway 127.0.0.1:1)' ;;\n  run) exec sleep 300 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A SQLite store with the butcher-shop profile published.
pub async fn store(dir: &Path) -> Store {
    let store = Store::open_sqlite(&dir.join("corral.db"), &StoreOptions::default())
        .await
        .unwrap();
    let (text, version) = butcher_shop();
    store
        .publish_profile_version(
            &ProfileName::parse("butcher-shop").unwrap(),
            &VersionHash::parse(&version).unwrap(),
            &text,
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    store
}

/// Records and issues tokens in the store; the stand-in agent "applies" at once.
pub struct StandInLink(pub StoreLink);

impl ControllerLink for StandInLink {
    fn enrollment(&self) -> EnrollmentTarget {
        self.0.enrollment()
    }
    fn start_run<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<i64, LinkError>> {
        self.0.start_run(serial, profile)
    }
    fn start_step(&self, run: i64, step: ProvisionStep) -> BoxFuture<'_, Result<(), LinkError>> {
        self.0.start_step(run, step)
    }
    fn finish_step<'a>(
        &'a self,
        run: i64,
        step: ProvisionStep,
        outcome: StepOutcome,
        detail: Option<&'a str>,
        error: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        self.0.finish_step(run, step, outcome, detail, error)
    }
    fn finish_run<'a>(
        &'a self,
        run: i64,
        outcome: RunOutcome,
        error: Option<&'a str>,
        device: Option<&'a DeviceId>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        self.0.finish_run(run, outcome, error, device)
    }
    fn issue_token<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a ProfileName,
    ) -> BoxFuture<'a, Result<String, LinkError>> {
        self.0.issue_token(serial, profile)
    }
    fn wait_applied<'a>(
        &'a self,
        _: &'a DeviceId,
        _: &'a str,
        _: Duration,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The store link of a controller whose enrollment listener is at `address`.
pub fn store_link(store: &Store, address: &str, ca_fingerprint: &str) -> StoreLink {
    StoreLink {
        store: store.clone(),
        enrollment: EnrollmentTarget {
            address: address.to_owned(),
            ca_fingerprint: ca_fingerprint.to_owned(),
        },
        token_ttl: Duration::from_secs(3600),
        poll: Duration::from_millis(100),
    }
}

/// A spec for the butcher-shop profile with `agent` as the arm64 build.
pub fn spec(station: Station, link: Arc<dyn ControllerLink>, agent: &Path) -> ProvisionSpec {
    let (canonical_toml, version) = butcher_shop();
    ProvisionSpec {
        station,
        profile: ProfileName::parse("butcher-shop").unwrap(),
        version,
        canonical_toml,
        agent_builds: BTreeMap::from([("arm64-v8a".to_owned(), AgentBuild::load(agent).unwrap())]),
        apk_dir: None,
        link,
        enroll_timeout: Duration::from_secs(60),
    }
}

/// A station for direct TCP with a key file in `dir` (phones without AUTH do not check it).
pub fn tcp_station(dir: &Path) -> Station {
    Station {
        key: dir.join("adbkey"),
        timeout: Duration::from_secs(20),
        ..Station::default()
    }
}

pub fn tcp(addr: std::net::SocketAddr) -> PhoneAddress {
    PhoneAddress::Tcp(addr)
}

/// Runs `script` on the phone itself (not through ADB); stdout and stderr merged.
pub fn sh(phone: &Phone, script: &str) -> String {
    let out = phone.run_shell(script, &mut std::io::empty());
    String::from_utf8_lossy(&out.merged).into_owned()
}

/// What provisioning leaves on a phone, as one text: users, the work profile's packages,
/// the personal messengers, cross-profile settings, backup, the agent.
pub fn state(phone: &Phone) -> String {
    [
        "pm list users",
        "pm list packages --user 10 | sort",
        "pm list packages --user 0 com.whatsapp | sort",
        "pm list packages -s --user 10 | sort | head -n 3",
        "settings get --user 10 secure managed_profile_contact_remote_search",
        "settings get --user 10 secure cross_profile_calendar_enabled",
        "bmgr --user 10 enabled",
        "ls /data/local/tmp/corral",
        "cat /data/local/tmp/corral/state/config.toml",
        "if pidof corral-agent >/dev/null; then echo agent running; else echo agent stopped; fi",
    ]
    .iter()
    .map(|c| format!("$ {c}\n{}", sh(phone, c)))
    .collect()
}
