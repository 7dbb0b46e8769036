//! ADB to a phone: adb_client 3.2.3's `ADBTcpDevice` speaking the transport protocol
//! directly to adbd over TCP (`adb tcpip`, an emulator, the device simulator), with RSA
//! AUTH by the key at a configurable path (default `~/.android/adbkey`, as adb uses).
//!
//! adb_client quirks handled here (shared/reference/adb-and-android-shell.md §1.4):
//! `shell_command` loses the exit status and stderr, hence the exit marker
//! ([`super::marker`]); after any failure the device object is dropped and the next script
//! connects afresh, because a failed or interrupted stream leaves adb_client's stream ids
//! out of step. adb_client has no read timeout: [`super::PhoneShell`] abandons a script
//! that misses its deadline and this object with it.

use std::net::SocketAddr;
use std::path::PathBuf;

use adb_client::ADBDeviceExt;
use adb_client::tcp::ADBTcpDevice;

use super::{AndroidShell, ShellError, ShellOutput, marker};

/// A phone reached over ADB on TCP.
pub struct AdbShell {
    addr: SocketAddr,
    key: PathBuf,
    device: Option<ADBTcpDevice>,
}

impl std::fmt::Debug for AdbShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdbShell")
            .field("addr", &self.addr)
            .field("key", &self.key)
            .field("connected", &self.device.is_some())
            .finish()
    }
}

impl AdbShell {
    /// A shell to the adbd at `addr`, authenticating with the PKCS#8 PEM RSA key at `key`.
    /// Connects on the first script.
    pub fn new(addr: SocketAddr, key: PathBuf) -> Self {
        AdbShell {
            addr,
            key,
            device: None,
        }
    }

    /// adb's own key: `$HOME/.android/adbkey`.
    pub fn default_key_path() -> Option<PathBuf> {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".android").join("adbkey"))
    }

    fn connect(&self) -> Result<ADBTcpDevice, ShellError> {
        ADBTcpDevice::new_with_custom_private_key(self.addr, &self.key).map_err(|e| {
            ShellError::Unreachable {
                target: self.target(),
                reason: e.to_string(),
            }
        })
    }
}

impl AndroidShell for AdbShell {
    fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError> {
        let mut device = match self.device.take() {
            Some(d) => d,
            None => self.connect()?,
        };
        let mut raw = Vec::new();
        let wrapped = marker::wrap(script);
        match device.shell_command(&wrapped, Some(&mut raw), None) {
            Ok(_) => {}
            // The device object is dropped: its stream state is unknown now.
            Err(e) => {
                return Err(ShellError::Broken {
                    target: self.target(),
                    reason: e.to_string(),
                });
            }
        }
        let out = marker::unwrap(&raw)?;
        self.device = Some(device);
        Ok(out)
    }

    fn target(&self) -> String {
        format!("adb {}", self.addr)
    }
}
