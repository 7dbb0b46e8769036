//! ADB: the one module that talks to adb_client 3.2.3. Everything else in the controller
//! reaches phones through the async functions here, which run adb_client's blocking calls
//! on tokio's blocking pool (`spawn_blocking`) with a deadline.
//!
//! Two ways to a phone ([`PhoneAddress`]):
//! - through the station's **adb server** (Debian `adb`, `127.0.0.1:5037` unless
//!   configured): phones on USB, or anything `adb connect` reached; found by [`list`] and
//!   followed by [`watch`];
//! - **direct TCP** to adbd (`HOST:PORT`, `adb tcpip`): adb_client's `ADBTcpDevice` with
//!   the station's RSA key (default `~/.android/adbkey`, the one adb itself uses);
//! - **USB without a server** (cargo feature `usb`): adb_client's `ADBUSBDevice` through
//!   libusb, by bus and device address ([`usb`]).
//!
//! adb_client bugs worked around here (shared/reference/adb-and-android-shell.md §1):
//! - exit codes are lost (the server's shell v2 exit packet, the direct path's shell v1):
//!   every script is wrapped with the agent's exit marker (`corral_agent::shell::marker`,
//!   shared, not copied), stdout and stderr merged inside the phone's shell;
//! - a device object whose stream failed (or, on TCP, that ran `uninstall`) is out of step:
//!   it is dropped after any error and the next operation starts from a fresh one; through
//!   the server every operation uses a fresh `ADBServerDevice` anyway (it is only a socket
//!   to the local server);
//! - `ADBServer::connect` runs `adb start-server` on every call: the adb binary is
//!   configurable ([`Station::adb_path`]) so a private server (another port, another HOME)
//!   is started rather than the system one;
//! - `track_devices` reports one line at a time with no update boundary and nothing at all
//!   when the last phone goes away, so a detach cannot be seen through it: [`watch`] polls
//!   `host:devices` instead (every 500 ms by default) and reports the differences;
//! - adb_client has no read timeout: a call that misses its deadline is abandoned (its
//!   blocking thread ends when the connection does) and the error says so.
//!
//! Must never: interpret what Android printed (that is `provision` and the agent's
//! parsers), or retry on its own (a retried `pm create-user` makes a second profile).

mod device;
mod discovery;
mod error;
#[cfg(feature = "usb")]
pub mod usb;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use corral_agent::shell::{AndroidShell, PhoneShell, ShellMaker};

pub use device::AdbPhone;
pub use discovery::{AttachedPhone, PhoneEvent, PhoneState, list, watch};
pub use error::AdbError;

/// The station: the PC the phones are plugged into, its adb server and its ADB key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    /// The adb server (`127.0.0.1:5037` by default).
    pub server: SocketAddrV4,
    /// The `adb` adb_client runs `start-server` with (`None`: `adb` from `PATH`).
    pub adb_path: Option<String>,
    /// The RSA key (PKCS#8 PEM) for direct TCP; adb's own `~/.android/adbkey` by default.
    pub key: PathBuf,
    /// How long one shell script or push may take before it is abandoned.
    pub timeout: Duration,
}

/// adb's default server port.
pub const DEFAULT_SERVER_PORT: u16 = 5037;

impl Default for Station {
    fn default() -> Self {
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        Station {
            server: SocketAddrV4::new(Ipv4Addr::LOCALHOST, DEFAULT_SERVER_PORT),
            adb_path: None,
            key: home.join(".android").join("adbkey"),
            timeout: corral_agent::shell::DEFAULT_SCRIPT_TIMEOUT,
        }
    }
}

/// How a phone is reached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PhoneAddress {
    /// Through the adb server, by the serial `adb devices` shows.
    Server { serial: String },
    /// Directly to adbd over TCP.
    Tcp(SocketAddr),
    /// Directly over USB, by bus number and device address (feature `usb`).
    #[cfg(feature = "usb")]
    Usb { bus: u8, address: u8 },
}

impl fmt::Display for PhoneAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneAddress::Server { serial } => f.write_str(serial),
            PhoneAddress::Tcp(addr) => write!(f, "tcp:{addr}"),
            #[cfg(feature = "usb")]
            PhoneAddress::Usb { bus, address } => write!(f, "usb:{bus}-{address}"),
        }
    }
}

impl PhoneAddress {
    /// The serial the phone is recorded under: the adb serial, or `HOST:PORT` for TCP
    /// (what `adb connect` would show).
    pub fn serial(&self) -> String {
        match self {
            PhoneAddress::Server { serial } => serial.clone(),
            PhoneAddress::Tcp(addr) => addr.to_string(),
            #[cfg(feature = "usb")]
            PhoneAddress::Usb { bus, address } => format!("usb:{bus}-{address}"),
        }
    }
}

/// Runs a blocking adb_client job on the blocking pool, giving up after `timeout`.
async fn blocking<T: Send + 'static>(
    phone: String,
    timeout: Duration,
    job: impl FnOnce() -> Result<T, AdbError> + Send + 'static,
) -> Result<T, AdbError> {
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(job)).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(AdbError::Broken {
            phone,
            reason: join.to_string(),
        }),
        Err(_) => Err(AdbError::Timeout { phone, timeout }),
    }
}

/// Checks that the phone can be used: through the server, that it is listed as `device`
/// (not unauthorized, offline or missing); over TCP, that the handshake (with RSA AUTH)
/// completes.
pub async fn ready(station: &Station, address: &PhoneAddress) -> Result<(), AdbError> {
    let (station, address) = (station.clone(), address.clone());
    let timeout = station.timeout;
    blocking(address.to_string(), timeout, move || {
        AdbPhone::new(station, address).check_ready()
    })
    .await
}

/// Writes `data` to `path` on the phone (mode 0777: adb_client always sends that).
pub async fn push(
    station: &Station,
    address: &PhoneAddress,
    data: Arc<Vec<u8>>,
    path: &str,
) -> Result<(), AdbError> {
    let (station, address, path) = (station.clone(), address.clone(), path.to_owned());
    let timeout = station.timeout;
    blocking(address.to_string(), timeout, move || {
        AdbPhone::new(station, address).push(&data, &path)
    })
    .await
}

/// A maker of shells to the phone, for the agent's observation and enforcement code.
pub fn shell_maker(station: &Station, address: &PhoneAddress) -> ShellMaker {
    let (station, address) = (station.clone(), address.clone());
    Arc::new(move || {
        Box::new(AdbPhone::new(station.clone(), address.clone())) as Box<dyn AndroidShell>
    })
}

/// A shell to the phone with the station's deadline per script.
pub fn phone_shell(station: &Station, address: &PhoneAddress) -> PhoneShell {
    PhoneShell::new(shell_maker(station, address), station.timeout)
}
