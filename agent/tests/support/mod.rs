//! Test harness: a simulated phone over the real ADB protocol, a shell to it through
//! `AdbShell`, the butcher-shop profile as a pushed target, and state read back from the
//! phone itself.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod controller;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use corral_agent::reconcile::Target;
use corral_agent::shell::{AdbShell, AndroidShell, PhoneShell, ShellMaker};
use corral_devsim::phone::Phone;
use corral_devsim::simulator::{Simulator, SimulatorConfig};
use corral_profiles::SourceFile;

/// One simulated phone.
pub struct TestPhone {
    pub sim: Simulator,
    pub addr: SocketAddr,
    pub phone: Arc<Phone>,
    _keys: tempfile::TempDir,
    key: std::path::PathBuf,
}

impl TestPhone {
    /// Starts a simulator with one Android 14 phone.
    pub async fn start() -> TestPhone {
        TestPhone::start_with(SimulatorConfig::default()).await
    }

    /// Starts a simulator with one phone configured by `config`.
    pub async fn start_with(config: SimulatorConfig) -> TestPhone {
        let sim = Simulator::start(config).await.unwrap();
        let addr = sim.addrs()[0];
        let phone = Arc::clone(&sim.phones()[0]);
        let keys = tempfile::tempdir().unwrap();
        // No key file: adb_client makes one per connection, which a phone without AUTH
        // does not check.
        let key = keys.path().join("adbkey");
        TestPhone {
            sim,
            addr,
            phone,
            _keys: keys,
            key,
        }
    }

    /// A maker of ADB shells to the phone.
    pub fn maker(&self) -> ShellMaker {
        let (addr, key) = (self.addr, self.key.clone());
        Arc::new(move || Box::new(AdbShell::new(addr, key.clone())) as Box<dyn AndroidShell>)
    }

    /// The agent's shell to the phone.
    pub fn shell(&self) -> PhoneShell {
        PhoneShell::new(self.maker(), Duration::from_secs(60))
    }

    /// Runs `script` on the phone directly (not through ADB), stdout and stderr merged.
    pub fn sh(&self, script: &str) -> String {
        let out = self.phone.run_shell(script, &mut std::io::empty());
        String::from_utf8_lossy(&out.merged).into_owned()
    }

    pub async fn stop(self) {
        self.sim.shutdown().await;
    }
}

/// The butcher-shop profile as the controller would push it.
pub fn butcher_shop() -> Target {
    butcher_shop_edited(|text| text)
}

/// The butcher-shop profile with its own file's text changed by `edit`.
pub fn butcher_shop_edited(edit: impl Fn(String) -> String) -> Target {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../profiles/examples/");
    let files = ["base.toml", "butcher-shop.toml"].map(|f| {
        let text = std::fs::read_to_string(format!("{root}{f}")).unwrap();
        let text = if f == "butcher-shop.toml" {
            edit(text)
        } else {
            text
        };
        SourceFile::new(f, text)
    });
    let p = corral_profiles::resolve_one(&files, "butcher-shop", None).unwrap();
    Target::resolve(
        &p.canonical_toml(),
        p.version().as_str(),
        None,
        &Default::default(),
    )
    .unwrap()
}
