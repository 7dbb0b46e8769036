//! Enrollment: a key made on the phone (ECDSA P-256, stored 0600, never sent), its CSR
//! and the one-time token sent over TLS to the controller's enrollment listener — which
//! is trusted only if its chain contains the CA with the pinned SHA-256 fingerprint — and
//! the answer (device id, certificate, CA, gateway address) stored in the state directory.
//!
//! The CA certificate the controller returns must itself have the pinned fingerprint: it
//! becomes the only trust root for the gateway.

use std::time::Duration;

use corral_wire::client::{ConnectError, enroll as send_enrollment};
use corral_wire::tls::{DeviceKey, TlsError, certificates_from_pem, fingerprint};
use corral_wire::{DeviceInfo, EnrollRequest, EnrollResponse};

use crate::observe::ParseError;
use crate::observe::sections::{self, Section};
use crate::observe::settings::parse_sdk;
use crate::shell::{PhoneShell, ShellError};
use crate::state::{AgentConfig, StateDir, StateError};

/// Why enrollment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The controller refused (bad, used or expired token); its reason is safe to show.
    #[error("the controller refused the enrollment: {0}")]
    Refused(String),
    /// The CA the controller sent is not the pinned one.
    #[error("the controller's CA has fingerprint {actual}, not the pinned {pinned}")]
    WrongCa { pinned: String, actual: String },
    /// The phone could not be asked about itself.
    #[error("reading the phone's properties: {0}")]
    Phone(String),
    /// It took too long.
    #[error("the controller did not answer within {0:?}")]
    Timeout(Duration),
}

impl From<ShellError> for EnrollError {
    fn from(e: ShellError) -> Self {
        EnrollError::Phone(e.to_string())
    }
}

impl From<ParseError> for EnrollError {
    fn from(e: ParseError) -> Self {
        EnrollError::Phone(e.to_string())
    }
}

/// `host:port` split for the TLS server name.
pub fn host_of(addr: &str) -> Option<&str> {
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// The fingerprint as the wire crate compares it: 64 lowercase hex digits.
pub fn normalize_fingerprint(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    (digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digits)
}

/// What the phone says about itself: model, release, SDK, ABI and serial, in one round trip.
pub async fn device_info(shell: &mut PhoneShell) -> Result<DeviceInfo, EnrollError> {
    let props = [
        ("model", "ro.product.model"),
        ("release", "ro.build.version.release"),
        ("sdk", "ro.build.version.sdk"),
        ("abi", "ro.product.cpu.abi"),
        ("serial", "ro.serialno"),
    ];
    let list: Vec<Section> = props
        .iter()
        .map(|(name, prop)| Section::new(*name, format!("getprop {prop}")))
        .collect();
    let nonce: u64 = rand::random();
    let out = shell.run(&sections::script(&list, nonce)).await?;
    let parts = sections::split(&list, nonce, &out.output)?;
    let get = |name: &str| -> Result<String, ParseError> {
        let p = parts
            .get(name)
            .ok_or_else(|| ParseError::whole("getprop", "", format!("no section {name}")))?;
        let text = p.ok()?;
        let line = text.strip_suffix('\n').unwrap_or(text);
        if line.contains('\n') {
            return Err(ParseError::whole(&p.command, text, "more than one line"));
        }
        Ok(line.to_owned())
    };
    let sdk = parse_sdk(&format!("{}\n", get("sdk")?))?;
    let serial = get("serial")?;
    Ok(DeviceInfo {
        model: get("model")?,
        android_release: get("release")?,
        sdk,
        abi: get("abi")?,
        serial: (!serial.is_empty()).then_some(serial),
    })
}

/// Enrolls with the controller at `controller` (`host:port`).
pub async fn enroll(
    state: &StateDir,
    controller: &str,
    ca_fingerprint: &str,
    token: &str,
    info: DeviceInfo,
) -> Result<AgentConfig, EnrollError> {
    let pinned = normalize_fingerprint(ca_fingerprint)
        .ok_or_else(|| TlsError::InvalidPin("expected 64 hex digits".into()))?;
    let host = host_of(controller)
        .ok_or_else(|| EnrollError::Phone(format!("not HOST:PORT: {controller}")))?
        .to_owned();
    state.create()?;
    // A key from an earlier, interrupted attempt is reused: it never left the phone.
    let key = match state.read_key("key.pem")? {
        Some(k) => k,
        None => {
            let k = DeviceKey::generate()?;
            state.write_key("key.pem", &k)?;
            k
        }
    };
    let serial = info.serial.clone();
    let request = EnrollRequest {
        token: token.to_owned(),
        csr_pem: key.csr_pem()?,
        device_info: info,
    };
    let timeout = Duration::from_secs(60);
    let answer = tokio::time::timeout(
        timeout,
        send_enrollment(controller, &host, &pinned, &request),
    )
    .await
    .map_err(|_| EnrollError::Timeout(timeout))??;
    let enrolled = match answer {
        EnrollResponse::Enrolled(e) => e,
        EnrollResponse::Refused(r) => return Err(EnrollError::Refused(r.reason)),
    };
    let ca = certificates_from_pem(&enrolled.ca_certificate_pem)?;
    let actual = ca
        .first()
        .map(|c| fingerprint(c.as_ref()))
        .unwrap_or_default();
    if actual != pinned {
        return Err(EnrollError::WrongCa { pinned, actual });
    }
    certificates_from_pem(&enrolled.certificate_pem)?;
    let gateway_host = enrolled
        .gateway_host
        .clone()
        .unwrap_or_else(|| host.clone());
    let gateway = if gateway_host.contains(':') {
        format!("[{gateway_host}]:{}", enrolled.gateway_port)
    } else {
        format!("{gateway_host}:{}", enrolled.gateway_port)
    };
    let config = AgentConfig {
        device_id: enrolled.device_id.clone(),
        gateway,
        server_name: gateway_host,
        serial,
    };
    state.write_atomic("ca.pem", enrolled.ca_certificate_pem.as_bytes(), 0o644)?;
    state.write_atomic("cert.pem", enrolled.certificate_pem.as_bytes(), 0o644)?;
    state.write_config(&config)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_fingerprints() {
        assert_eq!(host_of("ctl.example:8444"), Some("ctl.example"));
        assert_eq!(host_of("127.0.0.1:8444"), Some("127.0.0.1"));
        assert_eq!(host_of("[::1]:8444"), Some("::1"));
        assert_eq!(host_of("ctl.example"), None);
        assert_eq!(host_of(":8444"), None);
        assert_eq!(host_of("ctl:99999"), None);
        let hex = "AB".repeat(32);
        assert_eq!(normalize_fingerprint(&hex), Some("ab".repeat(32)));
        let colons: Vec<String> = (0..32).map(|_| "ab".to_owned()).collect();
        assert_eq!(
            normalize_fingerprint(&colons.join(":")),
            Some("ab".repeat(32))
        );
        assert_eq!(normalize_fingerprint("abc"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }
}
