//! The phone behind the ADB transport: configuration, persisted state, file system,
//! shell and Android commands.
//!
//! Layout: [`state`] (the persisted model) and [`factory`] (a fresh phone), [`android`]
//! (what differs between releases), [`shell`] (the mksh-like shell), [`cmd`] (the
//! programs, printing exactly what Android prints), [`contacts`] (per-user contacts
//! providers), [`apk`] (the test-APK format), [`process`] and [`route`] (pushed programs
//! run as host processes whose shell routes back here), [`fs`] (the sandboxed file
//! system). `docs/devsim-phone.md` describes the model, its rules and known deviations.
//!
//! **API boundary:** the transport calls only [`Phone::run_shell`], [`Phone::fs`],
//! [`Phone::reboot`], the key methods and [`Phone::faults`]/[`Phone::latency`]. It never
//! looks inside the state.

pub mod android;
pub mod apk;
pub mod cmd;
pub mod contacts;
pub mod factory;
pub mod fs;
pub mod log;
pub mod permissions;
pub mod process;
pub mod route;
pub mod shell;
pub mod state;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

pub use fs::{FileStat, FileSystem, FsError};
pub use process::ProcessTable;
pub use route::{ShellRouter, run_shim_if_invoked};
use state::State;

use crate::faults::Faults;
use crate::latency::LatencyModel;

/// An Android release the simulator can imitate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
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
    /// Messengers installed for user 0 on a fresh phone (default `com.whatsapp` and
    /// `com.whatsapp.w4b`); empty for a phone without one.
    pub preinstalled_messengers: Vec<String>,
    /// Free space on `/data` of a fresh phone; installs larger than what is left fail
    /// with `INSTALL_FAILED_INSUFFICIENT_STORAGE`.
    pub free_storage_bytes: u64,
    /// The Google account user 0 has on a fresh phone (`None`: no account, so
    /// `dpm set-device-owner` is allowed).
    pub google_account: Option<String>,
    /// `config_multiuserMaximumUsers`: full users (not profiles) the phone allows.
    pub max_users: u32,
    /// The executable that hosts the simulator; pushed programs reach the phone's
    /// shell through symlinks to it (see [`route`]). `None`: `std::env::current_exe()`.
    pub host_exe: Option<PathBuf>,
    /// Whether a reboot starts the profiles of user 0 again (Android starts profiles
    /// that are not in quiet mode once their parent unlocks).
    pub restart_profiles_on_boot: bool,
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
            preinstalled_messengers: vec!["com.whatsapp".into(), "com.whatsapp.w4b".into()],
            free_storage_bytes: 32 * 1024 * 1024 * 1024,
            google_account: Some("corral.test.owner@gmail.com".into()),
            max_users: 4,
            host_exe: None,
            restart_profiles_on_boot: true,
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
    /// Both streams in the order they were written (what a `shell:` v1 session shows).
    pub merged: Vec<u8>,
    /// Exit status.
    pub exit: u8,
    /// The transport must drop the connection now (injected fault or reboot).
    pub disconnect: bool,
    /// A command rebooted the phone (`svc power reboot`): the transport answers, then
    /// drops every connection to it.
    pub rebooted: bool,
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
    state: Mutex<State>,
    processes: ProcessTable,
    route: Mutex<Option<route::RouteInfo>>,
    log: log::LogBuffer,
    /// Reboots asked for by a shell command (`svc power reboot`, `reboot`).
    shell_reboots: AtomicU64,
    /// The command lines run through [`Phone::run_shell`], oldest first (the latest
    /// [`MAX_HISTORY`]), so tests can check what a client did and in which order.
    history: Mutex<std::collections::VecDeque<String>>,
    self_ref: Weak<Phone>,
}

/// Command lines [`Phone::commands`] keeps.
pub const MAX_HISTORY: usize = 10_000;

/// The pid the simulated `system_server` logs with.
const SYSTEM_SERVER_PID: u32 = 1521;

impl Phone {
    /// Opens the phone, loading its state from `config.state_dir` or creating a fresh
    /// phone there.
    pub fn open(config: PhoneConfig) -> Result<Arc<Phone>, PhoneError> {
        let root = config.state_dir.join("fs");
        let fs =
            FileSystem::open(&root).map_err(|source| PhoneError::State { path: root, source })?;
        let state = match State::load(&config.state_dir)? {
            Some(state) => state,
            None => {
                let state = factory::fresh_state(&config);
                state.save(&config.state_dir)?;
                state
            }
        };
        let phone = Arc::new_cyclic(|me| Phone {
            config,
            fs,
            faults: Faults::default(),
            state: Mutex::new(state),
            processes: ProcessTable::default(),
            route: Mutex::new(None),
            log: log::LogBuffer::default(),
            shell_reboots: AtomicU64::new(0),
            history: Mutex::new(std::collections::VecDeque::new()),
            self_ref: me.clone(),
        });
        phone.booted();
        Ok(phone)
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

    /// Programs started from the shell.
    pub fn processes(&self) -> &ProcessTable {
        &self.processes
    }

    /// The log buffer `logcat` reads.
    pub fn log(&self) -> &log::LogBuffer {
        &self.log
    }

    /// Logs as `system_server`.
    pub fn log_system(&self, priority: char, tag: &str, message: &str) {
        self.log.write(SYSTEM_SERVER_PID, priority, tag, message);
    }

    /// How many times the phone has booted.
    pub fn boot_count(&self) -> u64 {
        self.read(|s| s.boot_count)
    }

    /// A shell command reboots the phone (`svc power reboot`): unlike an injected reboot
    /// fault, the command answers, then every connection drops.
    pub fn reboot_from_shell(&self) {
        self.shell_reboots.fetch_add(1, Ordering::SeqCst);
        self.reboot();
    }

    /// How many reboots shell commands asked for (in this process); a change while a
    /// script ran means it rebooted the phone.
    pub fn shell_reboots(&self) -> u64 {
        self.shell_reboots.load(Ordering::SeqCst)
    }

    /// What a fresh boot writes to the (empty) log.
    fn booted(&self) {
        self.log_system('I', "SystemServer", "Entered the Android system server!");
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a thread panicked mid-command; the data is plain.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the state and writes it to disk (atomically) before returning.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.lock();
        let result = f(&mut state);
        if let Err(e) = state.save(&self.config.state_dir) {
            tracing::warn!(serial = %self.config.serial, error = %e, "could not persist phone state");
        }
        result
    }

    /// Runs one command line in the phone's shell as the `shell` user. Blocking: call it
    /// from a blocking thread. `stdin` is read only by commands that consume input.
    pub fn run_shell(&self, command: &str, stdin: &mut dyn Read) -> ShellOutcome {
        {
            let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
            if history.len() >= MAX_HISTORY {
                history.pop_front();
            }
            history.push_back(command.to_owned());
        }
        shell::run_line(self, command, stdin)
    }

    /// The command lines run so far (the latest [`MAX_HISTORY`]), oldest first.
    pub fn commands(&self) -> Vec<String> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history.iter().cloned().collect()
    }

    /// Reboots: programs die, secondary users stop, and profiles of user 0 come back
    /// running unless they are in quiet mode (or `restart_profiles_on_boot` is off).
    pub fn reboot(&self) {
        self.processes.kill_all();
        let restart = self.config.restart_profiles_on_boot;
        self.update(|s| {
            let parent_running: Vec<u32> = vec![0];
            for user in s.users.values_mut() {
                user.running = user.id == 0
                    || (restart
                        && user.parent.is_some_and(|p| parent_running.contains(&p))
                        && user.flags & state::flags::QUIET_MODE == 0);
            }
            s.boot_count += 1;
        });
        self.log.clear();
        self.booted();
    }

    /// The host public keys this phone trusts, as `adbkey.pub` lines.
    pub fn authorized_keys(&self) -> Vec<String> {
        self.read(|s| s.authorized_keys.clone())
    }

    /// Remembers a host public key (the user tapped "Always allow").
    pub fn authorize_key(&self, key_line: &str) {
        let line = key_line.trim().to_string();
        if line.is_empty() {
            return;
        }
        self.update(|s| {
            if !s.authorized_keys.contains(&line) {
                s.authorized_keys.push(line);
            }
        });
    }

    /// The whole state as JSON, for `corral-devsim inspect`.
    pub fn snapshot(&self) -> serde_json::Value {
        let state = self.read(|s| serde_json::to_value(s).unwrap_or(serde_json::Value::Null));
        serde_json::json!({
            "serial": self.config.serial,
            "android": self.config.android.0,
            "sdk": self.config.android.sdk(),
            "model": self.config.model,
            "state": state,
            "processes": self.processes.list(),
        })
    }

    pub(crate) fn set_route(&self, info: route::RouteInfo) {
        *self.route.lock().unwrap_or_else(|p| p.into_inner()) = Some(info);
    }

    /// The environment a pushed program gets: the shim directory first on `PATH` and
    /// the router's address and this phone's token. Registers with the process-wide
    /// router when no router was set up for this phone.
    pub fn shim_env(&self) -> std::io::Result<Vec<(String, String)>> {
        let current = self.route.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let info = match current {
            Some(info) => info,
            None => {
                let router = ShellRouter::global()?;
                router.register_weak(self.self_ref.clone(), self);
                self.route
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .ok_or_else(|| std::io::Error::other("router registration failed"))?
            }
        };
        let exe = match &self.config.host_exe {
            Some(p) => p.clone(),
            None => std::env::current_exe()?,
        };
        let dir = self.config.state_dir.join("shim");
        std::fs::create_dir_all(&dir)?;
        for name in route::SHIM_NAMES {
            let link = dir.join(name);
            if std::fs::read_link(&link).ok().as_ref() != Some(&exe) {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&exe, &link)?;
            }
        }
        let path = match std::env::var_os("PATH") {
            Some(p) => format!("{}:{}", dir.display(), p.to_string_lossy()),
            None => dir.display().to_string(),
        };
        Ok(vec![
            ("PATH".into(), path),
            (route::ENV_ROUTER.into(), info.addr.to_string()),
            (route::ENV_SERIAL.into(), self.config.serial.clone()),
            (route::ENV_TOKEN.into(), info.token),
            (route::ENV_SH.into(), dir.join("sh").display().to_string()),
        ])
    }
}

/// adbd 29's feature list (`supported_features()`), in its order.
pub const ADBD_FEATURES: &str = "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,abb_exec,remount_shell";
