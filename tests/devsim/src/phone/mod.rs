//! The phone behind the ADB transport: configuration, persisted state, file system,
//! shell and Android commands.
//!
//! **API boundary:** the transport calls only [`Phone::run_shell`], [`Phone::fs`],
//! [`Phone::reboot`], the key methods and [`Phone::faults`]/[`Phone::latency`]. It never
//! looks inside the state.

pub mod fs;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

pub use fs::{FileStat, FileSystem, FsError};

use crate::faults::Faults;
use crate::latency::LatencyModel;

/// An Android release the simulator can imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct AndroidVersion(pub u8);

impl AndroidVersion {
    /// The API level (SDK) of this release.
    pub fn sdk(self) -> u32 {
        match self.0 {
            0..=7 => 24,
            8 => 26,
            9 => 28,
            10 => 29,
            11 => 30,
            12 => 31,
            13 => 33,
            14 => 34,
            15 => 35,
            _ => 36,
        }
    }
}

/// Everything fixed about a phone when it is created.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// The serial a host sees: `127.0.0.1:PORT`.
    pub serial: String,
    /// Android release to imitate.
    pub android: AndroidVersion,
    /// `ro.product.model`.
    pub model: String,
    /// `ro.product.manufacturer`.
    pub manufacturer: String,
    /// `ro.product.name`.
    pub product: String,
    /// `ro.product.device`.
    pub device: String,
    /// `ro.product.cpu.abi`.
    pub abi: String,
    /// Whether adbd demands RSA AUTH.
    pub auth_required: bool,
    /// Whether an unknown host key offered with RSAPUBLICKEY is accepted (and remembered)
    /// as if the user tapped "Allow".
    pub auto_accept: bool,
    /// Latency model.
    pub latency: LatencyModel,
    /// Where this phone's state and files live.
    pub state_dir: PathBuf,
}

impl PhoneConfig {
    /// A phone with the default identity (a Pixel 7 on Android 14, arm64, no AUTH, no
    /// latency) at `serial`, keeping its state in `state_dir`. Construct phones through
    /// this and then set fields, so new fields get defaults.
    pub fn new(serial: impl Into<String>, state_dir: impl Into<PathBuf>) -> Self {
        PhoneConfig {
            serial: serial.into(),
            android: AndroidVersion(14),
            model: "Pixel 7".into(),
            manufacturer: "Google".into(),
            product: "panther".into(),
            device: "panther".into(),
            abi: "arm64-v8a".into(),
            auth_required: false,
            auto_accept: false,
            latency: LatencyModel::none(),
            state_dir: state_dir.into(),
        }
    }
}

/// What one shell invocation produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellOutcome {
    /// Bytes written to stdout.
    pub stdout: Vec<u8>,
    /// Bytes written to stderr.
    pub stderr: Vec<u8>,
    /// Exit status.
    pub exit: u8,
    /// The transport must drop the connection now (injected fault or reboot).
    pub disconnect: bool,
}

/// Why a phone could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// The state directory could not be read or written.
    #[error("phone state in {path}: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The persisted state file is not valid.
    #[error("phone state file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// One simulated phone.
#[derive(Debug)]
pub struct Phone {
    config: PhoneConfig,
    fs: FileSystem,
    faults: Faults,
}

impl Phone {
    /// Opens the phone, loading its state from `config.state_dir` or creating a fresh
    /// phone there.
    pub fn open(config: PhoneConfig) -> Result<Arc<Phone>, PhoneError> {
        let root = config.state_dir.join("fs");
        let fs = FileSystem::open(&root).map_err(|source| PhoneError::State { path: root, source })?;
        Ok(Arc::new(Phone {
            config,
            fs,
            faults: Faults::default(),
        }))
    }

    /// The fixed configuration.
    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    /// The serial a host sees.
    pub fn serial(&self) -> &str {
        &self.config.serial
    }

    /// The CNXN banner: `device::ro.product.name=…;ro.product.model=…;ro.product.device=…;features=…`.
    pub fn banner(&self) -> String {
        format!(
            "device::ro.product.name={};ro.product.model={};ro.product.device={};features={}",
            self.config.product, self.config.model, self.config.device, ADBD_FEATURES
        )
    }

    /// The file system (for `sync:`).
    pub fn fs(&self) -> &FileSystem {
        &self.fs
    }

    /// Armed faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The latency model.
    pub fn latency(&self) -> &LatencyModel {
        &self.config.latency
    }

    /// Runs one command line in the phone's shell as the `shell` user. Blocking: call it
    /// from a blocking thread. `stdin` is read only by commands that consume input.
    pub fn run_shell(&self, command: &str, _stdin: &mut dyn Read) -> ShellOutcome {
        let program = command.split_whitespace().next().unwrap_or("");
        ShellOutcome {
            stderr: format!("/system/bin/sh: {program}: inaccessible or not found\n").into_bytes(),
            exit: 127,
            ..ShellOutcome::default()
        }
    }

    /// Reboots: running profiles stop, processes die.
    pub fn reboot(&self) {}

    /// The host public keys this phone trusts, as `adbkey.pub` lines.
    pub fn authorized_keys(&self) -> Vec<String> {
        Vec::new()
    }

    /// Remembers a host public key (the user tapped "Always allow").
    pub fn authorize_key(&self, _key_line: &str) {}

    /// The whole state as JSON, for `corral-devsim inspect`.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({ "serial": self.config.serial })
    }
}

/// adbd 29's feature list (`supported_features()`), in its order.
pub const ADBD_FEATURES: &str =
    "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,abb_exec,remount_shell";
