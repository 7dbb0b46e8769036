//! [`Fleet`]: one controller, N simulated phones and an agent per phone, all real
//! processes in one temporary directory, and what a test does with them — publish and
//! assign profiles through the REST API, enroll, crash and restart any part, and read back
//! what the controller recorded.
//!
//! Layout of the directory (kept, and its path printed, when a test fails):
//!
//! ```text
//! data/            corral serve --data-dir (corral.db, ca/)
//! serve.log        the controller's stderr (serve.stdout: its banner)
//! devsim/, devsim.log
//! adb-home/        the private adb server's HOME (its adbkey: the agents' ADB key)
//! agent-N/, agent-N.log
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use corral_controller::domain::{DeviceId, Event};
use corral_controller::store::Store;

use crate::agents::Agent;
use crate::controller::{self, Addresses, Controller};
use crate::eventually::{PATIENCE, eventually};
use crate::http::Api;
use crate::phones::{Latency, Phones};
use crate::process::tail;

/// One profile version as the API reports it after a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub name: String,
    pub version: String,
    pub changed: bool,
    pub devices_affected: u64,
}

/// The whole fleet.
#[derive(Debug)]
pub struct Fleet {
    // Drop order: agents first (they talk to both), then the phones, then the controller.
    pub agents: Vec<Agent>,
    pub phones: Phones,
    controller: Option<Controller>,
    addresses: Addresses,
    ca_fingerprint: String,
    api: Api,
    store: Store,
    runtime: tokio::runtime::Runtime,
    dir: Option<tempfile::TempDir>,
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

/// Fleets take turns: ten phones and their agents keep two cores busy, and tests in one
/// binary run on parallel threads.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Fleet {
    /// Starts `corral serve` on a fresh data directory and `phones` simulated phones.
    /// No agent yet: see [`Fleet::enroll_all`].
    pub fn start(phones: usize, latency: Latency) -> Fleet {
        let turn = TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::Builder::new()
            .prefix("corral-fleet-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temporary directory: {e}"));
        let root = dir.path().to_owned();
        let data = root.join("data");
        let controller = Controller::start(&data, &root.join("serve.log"), None);
        assert!(
            controller.banner.admin_password.is_some(),
            "the first start prints the first admin's password"
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let store = controller::open_store(&runtime, &data);
        let addresses = controller.banner.addresses;
        let api = controller::api(&data, addresses.console);
        let ca_fingerprint = controller.banner.ca_fingerprint.clone();
        let phones = Phones::start(&root, phones, latency);
        Fleet {
            agents: Vec::new(),
            phones,
            controller: Some(controller),
            addresses,
            ca_fingerprint,
            api,
            store,
            runtime,
            dir: Some(dir),
            _one_at_a_time: turn,
        }
    }

    fn root(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new("/nonexistent"), |d| d.path())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Publishes profile files (`[(file name, TOML)]`) through `POST /api/v1/profiles`.
    pub fn publish(&self, files: &[(&str, &str)]) -> Vec<Published> {
        let files: Vec<_> = files
            .iter()
            .map(|(name, text)| serde_json::json!({ "name": name, "text": text }))
            .collect();
        let answer = self.api.call(
            "POST",
            "/api/v1/profiles",
            Some(&serde_json::json!({ "files": files })),
            201,
        );
        let list = answer["published"]
            .as_array()
            .unwrap_or_else(|| panic!("no \"published\" list in {answer}"));
        list.iter()
            .map(|p| Published {
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                version: p["version"].as_str().unwrap_or_default().to_owned(),
                changed: p["changed"].as_bool().unwrap_or_default(),
                devices_affected: p["devices_affected"].as_u64().unwrap_or_default(),
            })
            .collect()
    }

    /// `POST /api/v1/devices/{id}/commands {"kind": kind}` for agent `i`'s device.
    pub fn command(&self, i: usize, kind: &str) -> serde_json::Value {
        let path = format!("/api/v1/devices/{}/commands", self.agents[i].device_id);
        let response = self
            .api
            .request("POST", &path, Some(&serde_json::json!({ "kind": kind })))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert!(
            (200..300).contains(&response.status),
            "POST {path} answered {}: {}",
            response.status,
            response.body
        );
        response.json()
    }

    /// Enrolls every phone with an enrollment token for `profile` from
    /// `corral token create --profile NAME` (one token each: tokens are single-use).
    pub fn enroll_all(&mut self, profile: &str) {
        let data = self.data_dir();
        for (i, serial) in self.phones.serials().to_vec().iter().enumerate() {
            let token = controller::one_shot(&data, &["token", "create", "--profile", profile]);
            let agent = Agent::enroll(
                serial,
                &self.root().join(format!("agent-{i}")),
                &self.phones.adb_key(),
                self.addresses.enrollment,
                &self.ca_fingerprint,
                &token,
            );
            self.agents.push(agent);
        }
    }

    /// Starts every agent's `run`.
    pub fn run_agents(&mut self) {
        for agent in &mut self.agents {
            agent.start();
        }
    }

    /// SIGKILL to `corral serve`: no graceful shutdown, leases and sessions left behind.
    pub fn kill_controller(&mut self) {
        if let Some(mut c) = self.controller.take() {
            c.process().kill();
        }
    }

    /// SIGTERM to `corral serve`, which must exit by itself, successfully.
    pub fn stop_controller(&mut self) {
        if let Some(mut c) = self.controller.take() {
            let status = c.process().terminate(Duration::from_secs(30));
            assert!(status.success(), "corral serve exited with {status}");
        }
    }

    /// Starts `corral serve` again on the same data directory and addresses.
    pub fn restart_controller(&mut self) {
        assert!(self.controller.is_none(), "the controller still runs");
        let root = self.root().to_owned();
        let controller = Controller::start(
            &root.join("data"),
            &root.join("serve.log"),
            Some(self.addresses),
        );
        assert!(
            controller.banner.admin_password.is_none(),
            "a restart must not create another admin"
        );
        assert_eq!(controller.banner.ca_fingerprint, self.ca_fingerprint);
        self.controller = Some(controller);
    }

    /// The controller process (to stop or continue it with a signal).
    pub fn controller(&mut self) -> &mut Controller {
        self.controller
            .as_mut()
            .unwrap_or_else(|| panic!("the controller is not running"))
    }

    /// Runs a store query on the fleet's runtime.
    pub fn query<T>(
        &self,
        query: impl AsyncFnOnce(&Store) -> corral_controller::store::Result<T>,
    ) -> T {
        self.runtime
            .block_on(query(&self.store))
            .unwrap_or_else(|e| panic!("store: {e}"))
    }

    fn device_id(&self, i: usize) -> DeviceId {
        DeviceId::parse(&self.agents[i].device_id)
            .unwrap_or_else(|e| panic!("device id {}: {e}", self.agents[i].device_id))
    }

    /// Agent `i`'s device as the controller recorded it.
    pub fn device(&self, i: usize) -> corral_controller::domain::Device {
        let id = self.device_id(i);
        self.query(async |s| s.device(&id).await)
    }

    /// Every event the controller recorded for agent `i`'s device, oldest first.
    pub fn events(&self, i: usize) -> Vec<Event> {
        let id = self.device_id(i);
        self.query(async |s| s.events(Some(&id), 0, 10_000).await)
    }

    /// Agent `i`'s deliveries (one per profile version sent to it), oldest first.
    pub fn deliveries(&self, i: usize) -> Vec<corral_controller::domain::Delivery> {
        let id = self.device_id(i);
        self.query(async |s| s.deliveries(&id).await)
    }

    /// [`eventually`] with [`PATIENCE`]; on timeout the message also names the fleet's
    /// logs and shows the controller's last lines.
    pub fn eventually<T>(&self, what: &str, probe: impl FnMut() -> Result<T, String>) -> T {
        let root = self.root().to_owned();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eventually(what, PATIENCE, probe)
        }));
        match result {
            Ok(value) => value,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "(no message)".into());
                panic!(
                    "{message}\nlogs in {} (serve.log, devsim.log, agent-N.log); serve.log ends:\n{}",
                    root.display(),
                    tail(&root.join("serve.log"), 20)
                );
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "fleet: the test failed; its files are kept in {}",
                dir.keep().display()
            );
        }
    }
}
