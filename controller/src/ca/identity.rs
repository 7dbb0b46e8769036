//! Reading a device's identity back out of a client certificate the gateway received.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::CaError;
use crate::domain::{CertSerial, DeviceId, KeyHash, Timestamp, hex, sha256_hex};

/// Who a verified client certificate says the peer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    pub device: DeviceId,
    pub serial: CertSerial,
    pub key_hash: KeyHash,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

const URI_PREFIX: &str = "corral://device/";

/// The SAN URI naming a device: `corral://device/<id>`.
pub fn device_uri(device: &DeviceId) -> String {
    format!("{URI_PREFIX}{device}")
}

/// Extracts the device identity from a client certificate's DER. Only call this after TLS
/// verified the chain to the CA; this checks shape, not trust. Exactly one
/// `corral://device/…` SAN URI is required.
pub fn peer_identity(cert_der: &[u8]) -> Result<PeerIdentity, CaError> {
    let invalid = |m: &str| CaError::Invalid(format!("client certificate: {m}"));
    let (rest, cert) =
        X509Certificate::from_der(cert_der).map_err(|_| invalid("not a DER certificate"))?;
    if !rest.is_empty() {
        return Err(invalid("trailing bytes"));
    }
    let san = cert
        .subject_alternative_name()
        .map_err(|_| invalid("malformed subjectAltName"))?
        .ok_or_else(|| invalid("no subjectAltName"))?;
    let mut ids = san.value.general_names.iter().filter_map(|n| match n {
        GeneralName::URI(uri) => uri.strip_prefix(URI_PREFIX),
        _ => None,
    });
    let (Some(id), None) = (ids.next(), ids.next()) else {
        return Err(invalid("expected exactly one corral://device/ URI"));
    };
    let device = DeviceId::parse(id).map_err(|e| CaError::Invalid(e.to_string()))?;
    let serial =
        CertSerial::parse(&hex(cert.raw_serial())).map_err(|e| CaError::Invalid(e.to_string()))?;
    let key_hash = KeyHash::parse(&sha256_hex(cert.public_key().raw))
        .map_err(|e| CaError::Invalid(e.to_string()))?;
    let validity = cert.validity();
    Ok(PeerIdentity {
        device,
        serial,
        key_hash,
        not_before: Timestamp::from_unix_seconds(validity.not_before.timestamp()),
        not_after: Timestamp::from_unix_seconds(validity.not_after.timestamp()),
    })
}
