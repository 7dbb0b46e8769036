//! One phone over ADB, blocking: shell scripts (with the exit marker) and pushes, through
//! the adb server or directly over TCP. Used from the blocking pool only (see `super`).

use std::io::Cursor;
use std::net::TcpStream;
use std::time::Duration;

use adb_client::ADBDeviceExt;
use adb_client::server_device::ADBServerDevice;
use adb_client::tcp::ADBTcpDevice;
use corral_agent::shell::{AndroidShell, ShellError, ShellOutput, marker};

use super::discovery::{PhoneState, server_states};
use super::{AdbError, PhoneAddress, Station};

/// A phone reached over ADB. Through the server every operation uses a fresh device
/// object; over TCP one connection is kept and dropped after any error.
pub struct AdbPhone {
    station: Station,
    address: PhoneAddress,
    tcp: Option<ADBTcpDevice>,
    #[cfg(feature = "usb")]
    usb: Option<adb_client::usb::ADBUSBDevice>,
}

impl std::fmt::Debug for AdbPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdbPhone")
            .field("address", &self.address)
            .field("connected", &self.tcp.is_some())
            .finish_non_exhaustive()
    }
}

impl AdbPhone {
    /// A phone at `address`; nothing is connected yet.
    pub fn new(station: Station, address: PhoneAddress) -> Self {
        AdbPhone {
            station,
            address,
            tcp: None,
            #[cfg(feature = "usb")]
            usb: None,
        }
    }

    fn name(&self) -> String {
        self.address.to_string()
    }

    /// See [`super::ready`].
    pub fn check_ready(&mut self) -> Result<(), AdbError> {
        match &self.address {
            PhoneAddress::Server { serial } => {
                let states = server_states(&self.station)?;
                match states.get(serial) {
                    Some(PhoneState::Ready) => Ok(()),
                    Some(PhoneState::Unauthorized) => Err(AdbError::Unauthorized {
                        phone: serial.clone(),
                    }),
                    Some(PhoneState::Offline | PhoneState::Other(_)) => Err(AdbError::Offline {
                        phone: serial.clone(),
                    }),
                    None => Err(AdbError::NotFound {
                        phone: serial.clone(),
                        server: self.station.server.to_string(),
                    }),
                }
            }
            PhoneAddress::Tcp(_) => self.tcp_device().map(|_| ()),
            #[cfg(feature = "usb")]
            PhoneAddress::Usb { .. } => self.usb_device().map(|_| ()),
        }
    }

    fn tcp_device(&mut self) -> Result<&mut ADBTcpDevice, AdbError> {
        let PhoneAddress::Tcp(addr) = self.address else {
            return Err(AdbError::Broken {
                phone: self.name(),
                reason: "not a TCP phone".into(),
            });
        };
        if self.tcp.is_none() {
            // A plain connect first: "nothing listens" and "the phone waits for the
            // person to allow this key" must not look alike.
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| {
                AdbError::Unreachable {
                    phone: self.name(),
                    reason: e.to_string(),
                }
            })?;
            let device = ADBTcpDevice::new_with_custom_private_key(addr, &self.station.key)
                .map_err(|e| AdbError::from_tcp_handshake(&self.name(), &e))?;
            self.tcp = Some(device);
        }
        self.tcp.as_mut().ok_or_else(|| AdbError::Broken {
            phone: addr.to_string(),
            reason: "no connection".into(),
        })
    }

    /// The kept USB connection, opened on first use (feature `usb`).
    #[cfg(feature = "usb")]
    fn usb_device(&mut self) -> Result<&mut adb_client::usb::ADBUSBDevice, AdbError> {
        let PhoneAddress::Usb { bus, address } = self.address else {
            return Err(AdbError::Broken {
                phone: self.name(),
                reason: "not a USB phone".into(),
            });
        };
        if self.usb.is_none() {
            self.usb = Some(super::usb::open(&self.station, bus, address)?);
        }
        self.usb.as_mut().ok_or_else(|| AdbError::Broken {
            phone: format!("usb:{bus}-{address}"),
            reason: "no connection".into(),
        })
    }

    /// Forgets the kept direct connections (TCP or USB) after an error.
    fn drop_connections(&mut self) {
        self.tcp = None;
        #[cfg(feature = "usb")]
        {
            self.usb = None;
        }
    }

    fn server_device(&self, serial: &str) -> ADBServerDevice {
        ADBServerDevice::new(serial.to_owned(), Some(self.station.server))
    }

    /// Runs `script` (wrapped with the exit marker) and returns its merged output and
    /// exit status.
    pub fn shell(&mut self, script: &str) -> Result<ShellOutput, AdbError> {
        let wrapped = marker::wrap(script);
        let mut raw = Vec::new();
        let name = self.name();
        let result = match &self.address {
            PhoneAddress::Server { serial } => self
                .server_device(serial)
                .shell_command(&wrapped, Some(&mut raw), None)
                .map_err(|e| AdbError::from_server(serial, &self.station.server.to_string(), &e)),
            PhoneAddress::Tcp(_) => {
                let device = self.tcp_device()?;
                device
                    .shell_command(&wrapped, Some(&mut raw), None)
                    .map_err(|e| AdbError::Broken {
                        phone: name.clone(),
                        reason: e.to_string(),
                    })
            }
            #[cfg(feature = "usb")]
            PhoneAddress::Usb { .. } => {
                let device = self.usb_device()?;
                device
                    .shell_command(&wrapped, Some(&mut raw), None)
                    .map_err(|e| AdbError::Broken {
                        phone: name.clone(),
                        reason: e.to_string(),
                    })
            }
        };
        if let Err(e) = result {
            self.drop_connections();
            return Err(e);
        }
        marker::unwrap(&raw).map_err(|_| {
            self.drop_connections();
            AdbError::Broken {
                phone: name,
                reason: "the output ended without the exit status (the script was cut short)"
                    .into(),
            }
        })
    }

    /// Writes `data` to `path` on the phone.
    pub fn push(&mut self, data: &[u8], path: &str) -> Result<(), AdbError> {
        let name = self.name();
        let mut reader = Cursor::new(data);
        let result = match &self.address {
            PhoneAddress::Server { serial } => self
                .server_device(serial)
                .push(&mut reader, path)
                .map_err(|e| {
                    (
                        e.to_string(),
                        AdbError::from_server(serial, &self.station.server.to_string(), &e),
                    )
                }),
            PhoneAddress::Tcp(_) => {
                let device = self.tcp_device()?;
                device.push(&mut reader, &path).map_err(|e| {
                    (
                        e.to_string(),
                        AdbError::Broken {
                            phone: name.clone(),
                            reason: e.to_string(),
                        },
                    )
                })
            }
            #[cfg(feature = "usb")]
            PhoneAddress::Usb { .. } => {
                let device = self.usb_device()?;
                device.push(&mut reader, &path).map_err(|e| {
                    (
                        e.to_string(),
                        AdbError::Broken {
                            phone: name.clone(),
                            reason: e.to_string(),
                        },
                    )
                })
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err((text, classified)) => {
                self.drop_connections();
                // The phone answered with a sync FAIL (no space, no such directory).
                if text.contains("couldn't create file") || text.contains("write failed") {
                    return Err(AdbError::Push {
                        phone: name,
                        path: path.to_owned(),
                        reason: text,
                    });
                }
                Err(classified)
            }
        }
    }
}

impl AndroidShell for AdbPhone {
    fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError> {
        self.shell(script).map_err(|e| match e {
            AdbError::Unreachable { phone, reason } => ShellError::Unreachable {
                target: phone,
                reason,
            },
            other => ShellError::Broken {
                target: self.name(),
                reason: other.to_string(),
            },
        })
    }

    fn target(&self) -> String {
        format!("adb {}", self.address)
    }
}
