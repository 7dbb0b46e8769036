//! Connection setup: CNXN version/size negotiation and the AUTH exchange, as a pure state
//! machine the connection feeds with packets.
//!
//! adbd's rules (`transport.cpp` `update_version`, `adb.cpp` `handle_new_connection`,
//! `daemon/auth.cpp`): version = min(peer, 0x01000001), max payload = min(peer, 1 MiB),
//! checksums iff the version is below 0x01000001. With AUTH on, the device sends a
//! 20-byte TOKEN; a SIGNATURE that one of the phone's keys verifies brings the connection
//! online; a bad one earns a new TOKEN; an offered RSAPUBLICKEY is accepted only when the
//! phone auto-accepts (otherwise adbd would show a dialog nobody taps, and the host
//! reports `unauthorized`).

use std::time::Duration;

use super::auth::{self, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN, TOKEN_SIZE};
use super::packet::{A_VERSION, A_VERSION_MIN, Command, MAX_PAYLOAD, Packet, uses_checksum};

/// After this many bad signatures adbd waits a second before each new token.
const FAILURES_BEFORE_DELAY: u32 = 256;

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No CNXN yet.
    AwaitingConnect,
    /// TOKEN sent; waiting for SIGNATURE or RSAPUBLICKEY.
    AwaitingAuth,
    /// CNXN sent back; streams may open.
    Online,
}

/// What the connection should do after an AUTH packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send this CNXN; the connection is online. `remember` is a newly trusted key line.
    Online {
        cnxn: Packet,
        remember: Option<String>,
    },
    /// Send a fresh TOKEN, after `delay`.
    Retry { token: Packet, delay: Duration },
    /// Say nothing.
    Silent,
}

/// The negotiation state of one connection.
#[derive(Debug, Clone)]
pub struct Handshake {
    auth_required: bool,
    auto_accept: bool,
    version: u32,
    max_payload: u32,
    phase: Phase,
    token: Option<[u8; TOKEN_SIZE]>,
    failures: u32,
}

impl Handshake {
    pub fn new(auth_required: bool, auto_accept: bool) -> Self {
        Handshake {
            auth_required,
            auto_accept,
            version: A_VERSION_MIN,
            max_payload: MAX_PAYLOAD,
            phase: Phase::AwaitingConnect,
            token: None,
            failures: 0,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether outgoing packets carry a checksum.
    pub fn checksum(&self) -> bool {
        uses_checksum(self.version)
    }

    /// The negotiated version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The largest payload either side may send.
    pub fn max_payload(&self) -> u32 {
        self.max_payload
    }

    /// A CNXN from the host. Returns the reply: our CNXN, or a TOKEN when AUTH is on.
    /// A CNXN on a live connection starts over (the caller drops its streams).
    pub fn on_connect(
        &mut self,
        version: u32,
        max_payload: u32,
        banner: &str,
        token: [u8; TOKEN_SIZE],
    ) -> Packet {
        self.version = version.min(A_VERSION);
        self.max_payload = max_payload.min(MAX_PAYLOAD);
        if self.auth_required {
            self.phase = Phase::AwaitingAuth;
            self.token_packet(token)
        } else {
            self.phase = Phase::Online;
            self.cnxn(banner)
        }
    }

    /// An AUTH packet from the host. `authorized` are the phone's trusted key lines.
    pub fn on_auth<S: AsRef<str>>(
        &mut self,
        kind: u32,
        payload: &[u8],
        authorized: &[S],
        banner: &str,
        next_token: [u8; TOKEN_SIZE],
    ) -> AuthStep {
        if self.phase != Phase::AwaitingAuth {
            return AuthStep::Silent;
        }
        match kind {
            AUTH_SIGNATURE => {
                let verified = self
                    .token
                    .is_some_and(|token| auth::verify_any(authorized, &token, payload));
                if verified {
                    self.phase = Phase::Online;
                    return AuthStep::Online {
                        cnxn: self.cnxn(banner),
                        remember: None,
                    };
                }
                self.failures = self.failures.saturating_add(1);
                let delay = if self.failures > FAILURES_BEFORE_DELAY {
                    Duration::from_secs(1)
                } else {
                    Duration::ZERO
                };
                AuthStep::Retry {
                    token: self.token_packet(next_token),
                    delay,
                }
            }
            AUTH_RSAPUBLICKEY if self.auto_accept => {
                let line = String::from_utf8_lossy(payload)
                    .trim_end_matches('\0')
                    .to_owned();
                if auth::parse_public_key(&line).is_err() {
                    return AuthStep::Silent;
                }
                self.phase = Phase::Online;
                AuthStep::Online {
                    cnxn: self.cnxn(banner),
                    remember: Some(line),
                }
            }
            _ => AuthStep::Silent,
        }
    }

    fn token_packet(&mut self, token: [u8; TOKEN_SIZE]) -> Packet {
        self.token = Some(token);
        Packet::with_payload(Command::Auth, AUTH_TOKEN, 0, token.to_vec())
    }

    /// adbd's `send_connect`: our version, the negotiated max payload, the banner.
    fn cnxn(&self, banner: &str) -> Packet {
        Packet::with_payload(
            Command::Cnxn,
            A_VERSION,
            self.max_payload,
            banner.as_bytes().to_vec(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adb::auth::encode_public_key;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};

    const T1: [u8; 20] = [1; 20];
    const T2: [u8; 20] = [2; 20];

    fn key() -> (RsaPrivateKey, String) {
        let key = RsaPrivateKey::from_pkcs8_pem(include_str!("testdata/adbkey")).unwrap();
        let line = format!(
            "{} test@host",
            encode_public_key(&key.to_public_key()).unwrap()
        );
        (key, line)
    }

    fn sign(key: &RsaPrivateKey, token: &[u8]) -> Vec<u8> {
        key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), token).unwrap()
    }

    #[test]
    fn adb_29_without_auth() {
        let mut h = Handshake::new(false, false);
        assert!(h.checksum(), "before CNXN packets carry checksums");
        let reply = h.on_connect(0x0100_0001, 0x10_0000, "device::x", T1);
        assert_eq!(
            format!("{reply:?}"),
            r#"Cnxn(0x1000001, 0x100000, 9 bytes "device::x")"#
        );
        assert_eq!(h.phase(), Phase::Online);
        assert!(!h.checksum());
    }

    #[test]
    fn adb_client_keeps_checksums_and_old_clients_small_payloads() {
        let mut h = Handshake::new(false, false);
        h.on_connect(0x0100_0000, 0x10_0000, "device::", T1);
        assert!(h.checksum());
        let mut h = Handshake::new(false, false);
        let reply = h.on_connect(0x0100_0000, 4096, "device::", T1);
        assert_eq!((reply.arg0, reply.arg1), (A_VERSION, 4096));
        assert_eq!(h.max_payload(), 4096);
        let mut h = Handshake::new(false, false);
        h.on_connect(0x0200_0000, 0x1000_0000, "device::", T1);
        assert_eq!((h.version(), h.max_payload()), (A_VERSION, MAX_PAYLOAD));
    }

    #[test]
    fn signature_of_a_known_key_goes_online() {
        let (key, line) = key();
        let mut h = Handshake::new(true, false);
        let token = h.on_connect(0x0100_0001, 0x10_0000, "device::", T1);
        assert_eq!(
            (token.command, token.arg0, token.payload.len()),
            (Command::Auth, AUTH_TOKEN, 20)
        );
        let step = h.on_auth(AUTH_SIGNATURE, &sign(&key, &T1), &[line], "device::", T2);
        assert!(matches!(step, AuthStep::Online { remember: None, .. }));
        assert_eq!(h.phase(), Phase::Online);
    }

    #[test]
    fn unknown_key_gets_a_new_token_then_needs_acceptance() {
        let (key, line) = key();
        let mut h = Handshake::new(true, false);
        h.on_connect(0x0100_0001, 0x10_0000, "device::", T1);
        let step = h.on_auth::<String>(AUTH_SIGNATURE, &sign(&key, &T1), &[], "device::", T2);
        let AuthStep::Retry { token, delay } = step else {
            panic!("{step:?}")
        };
        assert_eq!((token.payload, delay), (T2.to_vec(), Duration::ZERO));
        let offer = format!("{line}\0");
        let step = h.on_auth::<String>(AUTH_RSAPUBLICKEY, offer.as_bytes(), &[], "device::", T1);
        assert_eq!(step, AuthStep::Silent, "no auto-accept: the dialog waits");
        assert_eq!(h.phase(), Phase::AwaitingAuth);

        let mut h = Handshake::new(true, true);
        h.on_connect(0x0100_0001, 0x10_0000, "device::", T1);
        let step = h.on_auth::<String>(AUTH_RSAPUBLICKEY, offer.as_bytes(), &[], "device::", T2);
        let AuthStep::Online { remember, .. } = step else {
            panic!("{step:?}")
        };
        assert_eq!(remember, Some(line));
    }

    #[test]
    fn garbage_never_goes_online() {
        let mut h = Handshake::new(true, true);
        assert_eq!(
            h.on_auth::<String>(AUTH_SIGNATURE, b"x", &[], "d", T1),
            AuthStep::Silent
        );
        h.on_connect(0x0100_0001, 0x10_0000, "device::", T1);
        assert_eq!(
            h.on_auth::<String>(AUTH_RSAPUBLICKEY, b"not a key\0", &[], "d", T2),
            AuthStep::Silent
        );
        assert_eq!(h.on_auth::<String>(9, b"", &[], "d", T2), AuthStep::Silent);
        assert!(matches!(
            h.on_auth::<String>(AUTH_SIGNATURE, b"", &[], "d", T2),
            AuthStep::Retry { .. }
        ));
    }
}
