//! Many phones in one process, one TCP listener each.
//!
//! [`Simulator::start`] opens every phone (state under `<state_dir>/<serial with ':' →
//! '_'>/`, see [`phone_state_dir`]), binds its listener and serves ADB on it until
//! [`Simulator::shutdown`]. Phones get plausible, varied identities from [`identity`];
//! [`SimulatorConfig::customize`] lets a test change any phone's configuration (to make
//! a "bad phone") before it is opened.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::latency::LatencyModel;
use crate::phone::{AndroidVersion, Phone, PhoneConfig, PhoneError};

/// Changes phone `index`'s configuration before the phone is opened.
pub type PhoneCustomizer = Arc<dyn Fn(usize, &mut PhoneConfig) + Send + Sync>;

/// What to simulate.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// How many phones.
    pub phones: usize,
    /// Port of the first phone; the others follow. `0` picks free ports.
    pub base_port: u16,
    /// Address to listen on.
    pub bind: IpAddr,
    /// Android release of every phone.
    pub android: AndroidVersion,
    /// Whether phones demand RSA AUTH.
    pub auth_required: bool,
    /// Whether phones accept an unknown host key (the user taps "Allow").
    pub auto_accept: bool,
    /// Where phone state lives; `None` uses a temporary directory deleted at shutdown.
    pub state_dir: Option<PathBuf>,
    /// Latency of every phone.
    pub latency: LatencyModel,
    /// Per-phone hook, run after the defaults are applied.
    pub customize: Option<PhoneCustomizer>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            phones: 1,
            base_port: 0,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            android: AndroidVersion(14),
            auth_required: false,
            auto_accept: false,
            state_dir: None,
            latency: LatencyModel::none(),
            customize: None,
        }
    }
}

impl fmt::Debug for SimulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("phones", &self.phones)
            .field("base_port", &self.base_port)
            .field("bind", &self.bind)
            .field("android", &self.android)
            .field("auth_required", &self.auth_required)
            .field("auto_accept", &self.auto_accept)
            .field("state_dir", &self.state_dir)
            .field("latency", &self.latency)
            .field("customize", &self.customize.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// `phones` was zero.
    #[error("a simulator needs at least one phone")]
    NoPhones,
    /// `base_port + phones` runs past 65535.
    #[error("{phones} phones from port {base_port} run past port 65535")]
    PortRange { base_port: u16, phones: usize },
    /// A listener could not be bound (port taken, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The state directory could not be created.
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A phone could not be opened from its state.
    #[error(transparent)]
    Phone(#[from] PhoneError),
}

/// A phone's identity: what `ro.product.*` and the ABI say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub manufacturer: &'static str,
    pub model: &'static str,
    pub product: &'static str,
    pub device: &'static str,
    pub abi: &'static str,
}

/// Real (manufacturer, model, product, device) quadruples of common phones.
const IDENTITIES: &[Identity] = &[
    Identity {
        manufacturer: "Google",
        model: "Pixel 7",
        product: "panther",
        device: "panther",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "Google",
        model: "Pixel 6a",
        product: "bluejay",
        device: "bluejay",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "samsung",
        model: "SM-A546B",
        product: "a54xnsxx",
        device: "a54x",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "Google",
        model: "Pixel 8",
        product: "shiba",
        device: "shiba",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "samsung",
        model: "SM-S911B",
        product: "dm1qxxx",
        device: "dm1q",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "Google",
        model: "Pixel 7a",
        product: "lynx",
        device: "lynx",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "samsung",
        model: "SM-G991B",
        product: "o1sxxx",
        device: "o1s",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "Google",
        model: "Pixel 6",
        product: "oriole",
        device: "oriole",
        abi: "arm64-v8a",
    },
    Identity {
        manufacturer: "Fairphone",
        model: "FP4",
        product: "FP4",
        device: "FP4",
        abi: "arm64-v8a",
    },
];

/// The identity of phone `index` (the catalogue repeats after nine phones).
pub fn identity(index: usize) -> Identity {
    IDENTITIES[index % IDENTITIES.len()]
}

/// Where the phone with `serial` keeps its state under `state_dir`: one directory named
/// after the serial with `:` replaced by `_` (`127.0.0.1_5555`).
pub fn phone_state_dir(state_dir: &Path, serial: &str) -> PathBuf {
    state_dir.join(serial.replace(':', "_"))
}

/// A model name as `adb devices -l` lists it: adb replaces every character that is not
/// an ASCII letter or digit with `_` (`SM-A546B` → `SM_A546B`).
pub fn listed_model(model: &str) -> String {
    model
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Running phones.
pub struct Simulator {
    phones: Vec<Arc<Phone>>,
    addrs: Vec<SocketAddr>,
    state_dir: PathBuf,
    shutdown: watch::Sender<bool>,
    listeners: JoinSet<()>,
    // Declared last: removed after the listeners are gone.
    temp: Option<tempfile::TempDir>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addrs", &self.addrs)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Opens the phones and starts serving ADB on one listener each.
    pub async fn start(config: SimulatorConfig) -> Result<Simulator, SimulatorError> {
        if config.phones == 0 {
            return Err(SimulatorError::NoPhones);
        }
        if config.base_port != 0
            && usize::from(config.base_port) + config.phones - 1 > usize::from(u16::MAX)
        {
            return Err(SimulatorError::PortRange {
                base_port: config.base_port,
                phones: config.phones,
            });
        }
        let (temp, state_dir) = match &config.state_dir {
            // Absolute: programs pushed to a phone run as host processes from inside its
            // directory, so a relative path would name the wrong place once they chdir.
            Some(dir) => (
                None,
                std::path::absolute(dir).map_err(|source| SimulatorError::StateDir {
                    path: dir.clone(),
                    source,
                })?,
            ),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("corral-devsim-")
                    .tempdir()
                    .map_err(|source| SimulatorError::StateDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let path = temp.path().to_path_buf();
                (Some(temp), path)
            }
        };
        std::fs::create_dir_all(&state_dir).map_err(|source| SimulatorError::StateDir {
            path: state_dir.clone(),
            source,
        })?;

        let mut bound = Vec::with_capacity(config.phones);
        for index in 0..config.phones {
            let port = if config.base_port == 0 {
                0
            } else {
                config.base_port + index as u16
            };
            let addr = SocketAddr::new(config.bind, port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| SimulatorError::Bind { addr, source })?;
            let addr = listener
                .local_addr()
                .map_err(|source| SimulatorError::Bind { addr, source })?;
            bound.push((listener, addr));
        }

        let (shutdown, _) = watch::channel(false);
        let mut simulator = Simulator {
            phones: Vec::with_capacity(config.phones),
            addrs: Vec::with_capacity(config.phones),
            state_dir: state_dir.clone(),
            shutdown,
            listeners: JoinSet::new(),
            temp,
        };
        for (index, (listener, addr)) in bound.into_iter().enumerate() {
            let serial = addr.to_string();
            let phone_config = phone_config(&config, index, &serial, &state_dir);
            let phone = Phone::open(phone_config)?;
            tracing::info!(%serial, model = %phone.config().model, "phone listening");
            simulator.listeners.spawn(crate::adb::serve(
                listener,
                Arc::clone(&phone),
                simulator.shutdown.subscribe(),
            ));
            simulator.phones.push(phone);
            simulator.addrs.push(addr);
        }
        Ok(simulator)
    }

    /// Every phone, in port order.
    pub fn phones(&self) -> &[Arc<Phone>] {
        &self.phones
    }

    /// The phone with this serial (`127.0.0.1:PORT`).
    pub fn phone(&self, serial: &str) -> Option<&Arc<Phone>> {
        self.phones.iter().find(|p| p.serial() == serial)
    }

    /// The listening addresses, in the order of [`phones`](Self::phones).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The directory holding every phone's state.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Stops accepting, closes every connection, waits for the listeners to finish, and
    /// deletes the state directory if it was a temporary one.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.listeners.join_next().await.is_some() {}
        if let Some(temp) = self.temp.take()
            && let Err(e) = temp.close()
        {
            tracing::warn!(error = %e, "could not remove the temporary state directory");
        }
    }
}

fn phone_config(
    config: &SimulatorConfig,
    index: usize,
    serial: &str,
    state_dir: &Path,
) -> PhoneConfig {
    let id = identity(index);
    let mut phone = PhoneConfig::new(serial, phone_state_dir(state_dir, serial));
    phone.android = config.android;
    phone.manufacturer = id.manufacturer.into();
    phone.model = id.model.into();
    phone.product = id.product.into();
    phone.device = id.device.into();
    phone.abi = id.abi.into();
    phone.auth_required = config.auth_required;
    phone.auto_accept = config.auto_accept;
    phone.latency = config.latency.clone();
    if let Some(customize) = &config.customize {
        customize(index, &mut phone);
    }
    phone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_as_adb_lists_them() {
        assert_eq!(listed_model("Pixel 7"), "Pixel_7");
        assert_eq!(listed_model("SM-A546B"), "SM_A546B");
    }

    #[test]
    fn state_dir_rule() {
        assert_eq!(
            phone_state_dir(Path::new("/s"), "127.0.0.1:5555"),
            PathBuf::from("/s/127.0.0.1_5555")
        );
    }

    /// A relative state directory (e.g. `corral demo --data-dir demo-data`) is made
    /// absolute: the phones' programs run from inside their own directories.
    #[tokio::test]
    async fn a_relative_state_dir_is_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = std::env::current_dir().unwrap();
        let up = "../".repeat(cwd.components().count() - 1);
        let relative = PathBuf::from(format!(
            "{up}{}",
            dir.path().display().to_string().trim_start_matches('/')
        ));
        assert!(relative.is_relative());
        let sim = Simulator::start(SimulatorConfig {
            phones: 1,
            state_dir: Some(relative),
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        assert!(
            sim.state_dir().is_absolute(),
            "{}",
            sim.state_dir().display()
        );
        assert!(phone_state_dir(sim.state_dir(), sim.phones()[0].serial()).is_dir());
        assert!(
            sim.state_dir()
                .canonicalize()
                .unwrap()
                .starts_with(dir.path().canonicalize().unwrap())
        );
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn starts_fifty_phones_with_varied_identities_and_cleans_up() {
        let customize: PhoneCustomizer = Arc::new(|i, p| {
            if i == 3 {
                p.model = "Broken".into();
            }
        });
        let sim = Simulator::start(SimulatorConfig {
            phones: 50,
            customize: Some(customize),
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(sim.phones().len(), 50);
        assert_eq!(sim.phones()[0].config().model, "Pixel 7");
        assert_eq!(sim.phones()[1].config().product, "bluejay");
        assert_eq!(sim.phones()[3].config().model, "Broken");
        let serial = sim.phones()[7].serial().to_owned();
        assert_eq!(sim.phone(&serial).unwrap().serial(), serial);
        assert!(phone_state_dir(sim.state_dir(), &serial).is_dir());
        let dir = sim.state_dir().to_path_buf();
        sim.shutdown().await;
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn refuses_nonsense() {
        let none = SimulatorConfig {
            phones: 0,
            ..SimulatorConfig::default()
        };
        assert!(matches!(
            Simulator::start(none).await,
            Err(SimulatorError::NoPhones)
        ));
        let past_end = SimulatorConfig {
            phones: 3,
            base_port: 65534,
            ..SimulatorConfig::default()
        };
        assert!(matches!(
            Simulator::start(past_end).await,
            Err(SimulatorError::PortRange { .. })
        ));
    }
}
