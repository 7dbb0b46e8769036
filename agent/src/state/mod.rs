//! The agent's state directory: everything it keeps, in one place.
//!
//! ```text
//! DIR/                 0700
//!   key.pem            0600  the device key (PKCS#8 PEM, ECDSA P-256), generated here; never leaves
//!   cert.pem                 the device certificate the controller issued for it
//!   ca.pem                   the controller's CA: the only trust root for the gateway
//!   config.toml              device id, gateway address and server name, phone serial
//!   applied.json             the applied profile (version, canonical text), the last push acted on
//!   contacts.json      0600  the contact groups last pushed (see `directory`)
//!   outbox/log               reports not yet acknowledged (see `outbox`)
//!   key.next.pem, cert.next.pem   a certificate renewal in progress (finished at start-up)
//! ```
//!
//! The default directory on a phone is `/data/local/tmp/corral` (writable by the shell
//! user the agent runs as). Every file is replaced atomically: a temporary file with the
//! final mode, fsync, rename, fsync of the directory.
//!
//! Must never: write the key readable by others, accept a key file others can read, or show
//! key material (`DeviceKey`'s `Debug` is redacted).

mod applied;
mod directory;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use corral_wire::tls::DeviceKey;
use serde::{Deserialize, Serialize};

pub use applied::{Applied, PendingResult, Wanted};
pub use directory::Directory;

/// Why the state directory could not be used; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file's content is not what the agent wrote.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// The key file can be read by other users.
    #[error("{path} is readable by other users (mode {mode:o}); run chmod 600 {path}")]
    InsecureKey { path: PathBuf, mode: u32 },
    /// `corral-agent enroll` has not been run with this directory.
    #[error("not enrolled: {0} has no configuration; run `corral-agent enroll` first")]
    NotEnrolled(PathBuf),
}

/// What enrollment wrote: who the device is and where its gateway is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The device id the controller assigned (the certificate's identity).
    pub device_id: String,
    /// The gateway, `host:port`.
    pub gateway: String,
    /// The name the gateway's certificate is checked against.
    pub server_name: String,
    /// The phone's serial (`ro.serialno`), for per-device profile overrides.
    #[serde(default)]
    pub serial: Option<String>,
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// Where the agent keeps its state on a phone.
pub const DEFAULT_DIR: &str = "/data/local/tmp/corral";

fn io(path: &Path) -> impl Fn(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_owned(),
        source,
    }
}

impl StateDir {
    /// The directory at `root` (not created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory (mode 0700) if needed.
    pub fn create(&self) -> Result<(), StateError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700)).map_err(io(&self.root))
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The outbox's directory.
    pub fn outbox_dir(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// Replaces `name` atomically with `bytes`, created with `mode`.
    pub fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> Result<(), StateError> {
        let path = self.path(name);
        let tmp = self.path(&format!(".{name}.tmp"));
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(&tmp)
                .map_err(io(&tmp))?;
            // The mode given to open() is filtered by the umask; set it exactly.
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io(&tmp))?;
            f.write_all(bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))?;
        if let Ok(d) = File::open(&self.root) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Reads `name`; `Ok(None)` if it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<String>, StateError> {
        let path = self.path(name);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Stores a device key as `name` (`key.pem`, or `key.next.pem` during renewal), 0600.
    pub fn write_key(&self, name: &str, key: &DeviceKey) -> Result<(), StateError> {
        let path = self.path(name);
        let pem = rcgen::KeyPair::try_from(key.pkcs8_der())
            .map(|k| k.serialize_pem())
            .map_err(|e| StateError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        self.write_atomic(name, pem.as_bytes(), 0o600)
    }

    /// Reads a device key, refusing a file that group or others can read.
    pub fn read_key(&self, name: &str) -> Result<Option<DeviceKey>, StateError> {
        let path = self.path(name);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StateError::InsecureKey { path, mode });
        }
        let pem = fs::read(&path).map_err(io(&path))?;
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(&pem).map_err(|e| {
            StateError::Invalid {
                path: path.clone(),
                reason: format!("not a PKCS#8 PEM key: {e}"),
            }
        })?;
        DeviceKey::from_pkcs8_der(der.secret_pkcs8_der())
            .map(Some)
            .map_err(|e| StateError::Invalid {
                path,
                reason: e.to_string(),
            })
    }

    /// The configuration enrollment wrote.
    pub fn config(&self) -> Result<AgentConfig, StateError> {
        let path = self.path("config.toml");
        let text = self
            .read("config.toml")?
            .ok_or_else(|| StateError::NotEnrolled(path.clone()))?;
        toml::from_str(&text).map_err(|e| StateError::Invalid {
            path,
            reason: e.to_string(),
        })
    }

    /// Writes the configuration.
    pub fn write_config(&self, config: &AgentConfig) -> Result<(), StateError> {
        let text = toml::to_string(config).map_err(|e| StateError::Invalid {
            path: self.path("config.toml"),
            reason: e.to_string(),
        })?;
        self.write_atomic("config.toml", text.as_bytes(), 0o600)
    }

    /// The applied profile and push bookkeeping (empty before the first push).
    pub fn applied(&self) -> Result<Applied, StateError> {
        let path = self.path("applied.json");
        match self.read("applied.json")? {
            None => Ok(Applied::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| StateError::Invalid {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// The contact groups last pushed (empty before the first push).
    pub fn directory(&self) -> Result<Directory, StateError> {
        match self.read("contacts.json")? {
            None => Ok(Directory::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| StateError::Invalid {
                path: self.path("contacts.json"),
                reason: e.to_string(),
            }),
        }
    }

    /// Replaces the pushed contact groups atomically (0600: they name people).
    pub fn write_directory(&self, directory: &Directory) -> Result<(), StateError> {
        let text = serde_json::to_vec(directory).map_err(|e| StateError::Invalid {
            path: self.path("contacts.json"),
            reason: e.to_string(),
        })?;
        self.write_atomic("contacts.json", &text, 0o600)
    }

    /// Replaces the applied state atomically.
    pub fn write_applied(&self, applied: &Applied) -> Result<(), StateError> {
        let text = serde_json::to_vec_pretty(applied).map_err(|e| StateError::Invalid {
            path: self.path("applied.json"),
            reason: e.to_string(),
        })?;
        self.write_atomic("applied.json", &text, 0o600)
    }

    /// Finishes a certificate renewal a crash interrupted: once `cert.next.pem` exists the
    /// new key and certificate replace the old ones (key first; both files were fsync'd).
    pub fn finish_renewal(&self) -> Result<bool, StateError> {
        let cert_next = self.path("cert.next.pem");
        if !cert_next.exists() {
            return Ok(false);
        }
        let key_next = self.path("key.next.pem");
        if key_next.exists() {
            fs::rename(&key_next, self.path("key.pem")).map_err(io(&key_next))?;
        }
        fs::rename(&cert_next, self.path("cert.pem")).map_err(io(&cert_next))?;
        if let Ok(d) = File::open(&self.root) {
            let _ = d.sync_all();
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_key_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("s"));
        state.create().unwrap();
        let key = DeviceKey::generate().unwrap();
        state.write_key("key.pem", &key).unwrap();
        let mode = fs::metadata(state.path("key.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let back = state.read_key("key.pem").unwrap().unwrap();
        assert_eq!(back.pkcs8_der(), key.pkcs8_der());
        assert_eq!(format!("{back:?}"), "DeviceKey(…)");
        fs::set_permissions(state.path("key.pem"), fs::Permissions::from_mode(0o644)).unwrap();
        let err = state.read_key("key.pem").unwrap_err().to_string();
        assert!(err.contains("readable by other users (mode 644)"), "{err}");
    }

    #[test]
    fn config_round_trips_and_missing_means_not_enrolled() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        assert!(matches!(state.config(), Err(StateError::NotEnrolled(_))));
        let c = AgentConfig {
            device_id: "d1".into(),
            gateway: "ctl:8443".into(),
            server_name: "ctl".into(),
            serial: Some("R58M41ABCDE".into()),
        };
        state.write_config(&c).unwrap();
        assert_eq!(state.config().unwrap(), c);
    }

    #[test]
    fn an_interrupted_renewal_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        state.write_atomic("key.pem", b"old key", 0o600).unwrap();
        state.write_atomic("cert.pem", b"old cert", 0o644).unwrap();
        state
            .write_atomic("key.next.pem", b"new key", 0o600)
            .unwrap();
        assert!(!state.finish_renewal().unwrap());
        state
            .write_atomic("cert.next.pem", b"new cert", 0o644)
            .unwrap();
        assert!(state.finish_renewal().unwrap());
        assert_eq!(state.read("key.pem").unwrap().unwrap(), "new key");
        assert_eq!(state.read("cert.pem").unwrap().unwrap(), "new cert");
        assert!(!state.finish_renewal().unwrap());
    }
}
