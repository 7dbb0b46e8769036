//! What can go wrong talking to a phone over ADB, each variant naming the phone and what
//! the person at the station can do about it; and the mapping from adb_client's errors
//! (and the adb server's `FAIL` texts) onto them.

use std::time::Duration;

use adb_client::RustADBError;

/// An ADB failure, named for its remedy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdbError {
    /// The phone has not accepted this station's key.
    #[error(
        "{phone}: USB debugging is not authorized for this computer; unlock the phone, accept the \"Allow USB debugging?\" prompt (tick \"Always allow from this computer\") and run again"
    )]
    Unauthorized { phone: String },
    /// The adb server lists the phone as offline.
    #[error(
        "{phone}: the phone is offline; unplug and replug it (or run `adb reconnect offline`) and run again"
    )]
    Offline { phone: String },
    /// The adb server does not know the phone.
    #[error(
        "{phone}: not attached to the adb server at {server}; check the cable and that the phone appears in `adb devices`"
    )]
    NotFound { phone: String, server: String },
    /// No adb server answers.
    #[error(
        "no adb server at {server} ({reason}); install adb (Debian: `apt install adb`) or start it with `adb start-server`"
    )]
    NoServer { server: String, reason: String },
    /// Nothing answers at a direct TCP address.
    #[error(
        "{phone}: cannot connect ({reason}); check the address and that ADB over TCP is on (`adb tcpip 5555` with the cable plugged in)"
    )]
    Unreachable { phone: String, reason: String },
    /// The connection broke mid-operation.
    #[error(
        "{phone}: the ADB connection broke ({reason}); check the cable and run again: finished steps are not repeated"
    )]
    Broken { phone: String, reason: String },
    /// The phone refused a file.
    #[error("{phone}: pushing {path} failed ({reason}); check the free space on the phone")]
    Push {
        phone: String,
        path: String,
        reason: String,
    },
    /// An operation missed its deadline and was abandoned.
    #[error(
        "{phone}: no answer within {timeout:?}; the phone may be busy or stuck, replug it and run again"
    )]
    Timeout { phone: String, timeout: Duration },
}

impl AdbError {
    /// Classifies an adb_client error from an operation on `phone` through the adb server
    /// at `server`, by the server's `FAIL` text where there is one.
    pub(super) fn from_server(phone: &str, server: &str, e: &RustADBError) -> AdbError {
        let text = e.to_string();
        let lower = text.to_ascii_lowercase();
        let phone = phone.to_owned();
        if lower.contains("unauthorized") {
            AdbError::Unauthorized { phone }
        } else if lower.contains("offline") {
            AdbError::Offline { phone }
        } else if lower.contains("not found") || lower.contains("no devices") {
            AdbError::NotFound {
                phone,
                server: server.to_owned(),
            }
        } else if matches!(e, RustADBError::IOError(io) if io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            AdbError::NoServer {
                server: server.to_owned(),
                reason: text,
            }
        } else {
            AdbError::Broken {
                phone,
                reason: text,
            }
        }
    }

    /// Classifies a failed direct-TCP handshake. The TCP connection itself was made (see
    /// `AdbPhone::check_ready`), so a handshake that times out is a phone waiting for the
    /// person to accept this station's key.
    pub(super) fn from_tcp_handshake(phone: &str, e: &RustADBError) -> AdbError {
        let phone = phone.to_owned();
        match e {
            RustADBError::IOError(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                AdbError::Unauthorized { phone }
            }
            RustADBError::IOError(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::HostUnreachable
                ) =>
            {
                AdbError::Unreachable {
                    phone,
                    reason: e.to_string(),
                }
            }
            _ => AdbError::Broken {
                phone,
                reason: e.to_string(),
            },
        }
    }

    /// The phone the error is about (`None`: the adb server itself).
    pub fn phone(&self) -> Option<&str> {
        match self {
            AdbError::NoServer { .. } => None,
            AdbError::Unauthorized { phone }
            | AdbError::Offline { phone }
            | AdbError::NotFound { phone, .. }
            | AdbError::Unreachable { phone, .. }
            | AdbError::Broken { phone, .. }
            | AdbError::Push { phone, .. }
            | AdbError::Timeout { phone, .. } => Some(phone),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(e: RustADBError, expected: Expect) {
        expected.assert_eq(&AdbError::from_server("R58M41ABCDE", "127.0.0.1:5037", &e).to_string());
    }

    #[test]
    fn server_failures_are_named_for_their_remedy() {
        check(
            RustADBError::ADBRequestFailed(
                "device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set".into(),
            ),
            expect![[
                r#"R58M41ABCDE: USB debugging is not authorized for this computer; unlock the phone, accept the "Allow USB debugging?" prompt (tick "Always allow from this computer") and run again"#
            ]],
        );
        check(
            RustADBError::ADBRequestFailed("device offline".into()),
            expect![
                "R58M41ABCDE: the phone is offline; unplug and replug it (or run `adb reconnect offline`) and run again"
            ],
        );
        check(
            RustADBError::ADBRequestFailed("device 'R58M41ABCDE' not found".into()),
            expect![
                "R58M41ABCDE: not attached to the adb server at 127.0.0.1:5037; check the cable and that the phone appears in `adb devices`"
            ],
        );
        check(
            RustADBError::IOError(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            expect![
                "no adb server at 127.0.0.1:5037 (connection refused); install adb (Debian: `apt install adb`) or start it with `adb start-server`"
            ],
        );
    }

    #[test]
    fn a_tcp_handshake_that_times_out_waits_for_the_prompt() {
        let e = RustADBError::IOError(std::io::Error::from(std::io::ErrorKind::WouldBlock));
        assert!(matches!(
            AdbError::from_tcp_handshake("10.0.0.7:5555", &e),
            AdbError::Unauthorized { .. }
        ));
    }
}
