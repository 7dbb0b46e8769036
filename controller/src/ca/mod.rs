//! The internal certificate authority.
//!
//! Owns: the CA key and certificate in `<data-dir>/ca/` (created on first start), issuing
//! client-auth-only device certificates from CSRs, the server certificate of the gateway
//! and enrollment listeners, the CA fingerprint agents pin, and the renewal schedule.
//! Must never: let the key leave this module (no accessor returns it; `Debug` redacts it),
//! read a key file others can read, or copy anything but the public key from a CSR.
//!
//! A device certificate names the device twice: subject CN = the device id, and a SAN URI
//! `corral://device/<id>`. The gateway trusts the URI ([`peer_identity`]).

mod files;
mod identity;
mod renewal;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
    SanType, SerialNumber,
};
use time::OffsetDateTime;

pub use identity::{PeerIdentity, device_uri, peer_identity};
pub use renewal::{renewal_at, renewal_due};

use crate::domain::{CertSerial, DeviceId, KeyHash, NewCertificate, Timestamp, hex, sha256_hex};

/// What went wrong, named for what the operator or caller can do.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The CA key file is readable by group or others: fix its mode.
    #[error(
        "{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}` and start again"
    )]
    InsecureKeyFile { path: PathBuf, mode: u32 },
    /// Only one of key and certificate exists: restore the other.
    #[error(
        "{present} exists but {missing} does not; restore it from a backup (creating a new CA would lock out every enrolled device)"
    )]
    Incomplete { present: PathBuf, missing: PathBuf },
    /// A CA file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Unavailable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A CA file exists but does not parse.
    #[error("{path} is not a usable CA file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// The request (a CSR, a certificate, a name) is not acceptable.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// A certificate the CA just issued: the DER to hand to the device, and what the store
/// records about it.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub der: Vec<u8>,
    pub pem: String,
    pub record: NewCertificate,
}

/// The TLS identity of the controller's own listeners. The key is redacted in `Debug`.
#[derive(Clone)]
pub struct ServerIdentity {
    /// Leaf first, then the CA certificate.
    pub cert_chain_der: Vec<Vec<u8>>,
    /// PKCS#8 DER of the listener's private key.
    pub key_pkcs8_der: Vec<u8>,
}

impl fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("certificates", &self.cert_chain_der.len())
            .field("key", &"…")
            .finish()
    }
}

/// The loaded CA. The signing key stays inside.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: Vec<u8>,
    fingerprint: String,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("fingerprint", &self.fingerprint)
            .field("key", &"…")
            .finish()
    }
}

/// CA certificates live long; rotating one means re-enrolling or overlapping roots.
const CA_LIFETIME: Duration = Duration::from_secs(20 * 365 * 24 * 3600);
/// Tolerated clock skew between controller and phones.
const BACKDATE: Duration = Duration::from_secs(5 * 60);

fn odt(t: Timestamp) -> Result<OffsetDateTime, CaError> {
    OffsetDateTime::from_unix_timestamp(t.unix_seconds())
        .map_err(|e| CaError::Invalid(e.to_string()))
}

/// 128 random bits, positive and of fixed length as a DER INTEGER.
fn random_serial() -> Result<(SerialNumber, CertSerial), CaError> {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    let serial = CertSerial::parse(&hex(&bytes)).map_err(|e| CaError::Invalid(e.to_string()))?;
    Ok((SerialNumber::from_slice(&bytes), serial))
}

fn rcgen_err(e: rcgen::Error) -> CaError {
    CaError::Invalid(e.to_string())
}

impl Ca {
    /// Loads the CA from `<data_dir>/ca/`, or creates it there on first start.
    pub fn open_or_create(data_dir: &Path, now: Timestamp) -> Result<Ca, CaError> {
        let paths = files::CaPaths::in_data_dir(data_dir);
        match (paths.key.exists(), paths.cert.exists()) {
            (true, true) => Self::load(&paths),
            (false, false) => Self::create(&paths, now),
            (true, false) => Err(CaError::Incomplete {
                present: paths.key,
                missing: paths.cert,
            }),
            (false, true) => Err(CaError::Incomplete {
                present: paths.cert,
                missing: paths.key,
            }),
        }
    }

    fn load(paths: &files::CaPaths) -> Result<Ca, CaError> {
        let key_pem = files::read_key(&paths.key)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Corrupt {
            path: paths.key.clone(),
            reason: e.to_string(),
        })?;
        let cert_pem = files::read_cert(&paths.cert)?;
        let corrupt = |reason: String| CaError::Corrupt {
            path: paths.cert.clone(),
            reason,
        };
        let der =
            pem_to_der(&cert_pem).ok_or_else(|| corrupt("no PEM certificate found".into()))?;
        let issuer = Issuer::from_ca_cert_der(&der.clone().into(), key)
            .map_err(|e| corrupt(e.to_string()))?;
        Ok(Ca::assemble(issuer, cert_pem, der))
    }

    fn create(paths: &files::CaPaths, now: Timestamp) -> Result<Ca, CaError> {
        files::create_dir(&paths.dir)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(rcgen_err)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "corral device CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = odt(now.minus(BACKDATE))?;
        params.not_after = odt(now.plus(CA_LIFETIME))?;
        params.serial_number = Some(random_serial()?.0);
        let cert = params.self_signed(&key).map_err(rcgen_err)?;
        files::write_new(&paths.key, &key.serialize_pem(), 0o600)?;
        files::write_new(&paths.cert, &cert.pem(), 0o644)?;
        let der = cert.der().to_vec();
        let issuer = Issuer::new(params, key);
        Ok(Ca::assemble(issuer, cert.pem(), der))
    }

    fn assemble(issuer: Issuer<'static, KeyPair>, cert_pem: String, cert_der: Vec<u8>) -> Ca {
        let fingerprint = sha256_hex(&cert_der);
        Ca {
            issuer,
            cert_pem,
            cert_der,
            fingerprint,
        }
    }

    /// SHA-256 of the CA certificate's DER, lowercase hex: what an agent pins.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER (the gateway's only trust root for client certificates).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Issues a device certificate for the public key in `csr` (PEM or DER; its signature
    /// must verify). Everything else in the CSR is ignored: the identity is `device`, the
    /// only extended key usage is clientAuth, the key usage digitalSignature, the validity
    /// `now - 5 min .. now + lifetime`.
    pub fn issue_device_certificate(
        &self,
        csr: &[u8],
        device: &DeviceId,
        lifetime: Duration,
        now: Timestamp,
    ) -> Result<IssuedCertificate, CaError> {
        let request = parse_csr(csr)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device.as_str());
        params.distinguished_name = dn;
        let uri = device_uri(device)
            .try_into()
            .map_err(|e: rcgen::Error| CaError::Invalid(e.to_string()))?;
        params.subject_alt_names = vec![SanType::URI(uri)];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        self.sign(params, &request.public_key, lifetime, now)
    }

    /// A fresh key and certificate for the controller's TLS listeners, valid for `names`
    /// (DNS names or IP addresses) with EKU serverAuth only.
    pub fn server_identity(
        &self,
        names: &[String],
        lifetime: Duration,
        now: Timestamp,
    ) -> Result<ServerIdentity, CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(rcgen_err)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(rcgen_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "corral controller");
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let issued = self.sign(params, &key, lifetime, now)?;
        Ok(ServerIdentity {
            cert_chain_der: vec![issued.der, self.cert_der.clone()],
            key_pkcs8_der: key.serialize_der(),
        })
    }

    fn sign(
        &self,
        mut params: CertificateParams,
        public_key: &impl PublicKeyData,
        lifetime: Duration,
        now: Timestamp,
    ) -> Result<IssuedCertificate, CaError> {
        let (serial_number, serial) = random_serial()?;
        // Certificates count in whole seconds; record exactly what the certificate says.
        let not_before = Timestamp::from_unix_seconds(now.minus(BACKDATE).unix_seconds());
        let not_after = Timestamp::from_unix_seconds(now.plus(lifetime).unix_seconds());
        params.not_before = odt(not_before)?;
        params.not_after = odt(not_after)?;
        params.serial_number = Some(serial_number);
        let cert = params
            .signed_by(public_key, &self.issuer)
            .map_err(rcgen_err)?;
        let key_hash = KeyHash::parse(&sha256_hex(&public_key.subject_public_key_info()))
            .map_err(|e| CaError::Invalid(e.to_string()))?;
        Ok(IssuedCertificate {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            record: NewCertificate {
                serial,
                key_hash,
                not_before,
                not_after,
            },
        })
    }
}

fn parse_csr(csr: &[u8]) -> Result<CertificateSigningRequestParams, CaError> {
    let invalid = |e: rcgen::Error| CaError::Invalid(format!("certificate signing request: {e}"));
    if csr.starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(csr)
            .map_err(|_| CaError::Invalid("certificate signing request is not UTF-8 PEM".into()))?;
        CertificateSigningRequestParams::from_pem(text).map_err(invalid)
    } else {
        CertificateSigningRequestParams::from_der(
            &rustls_pki_types::CertificateSigningRequestDer::from(csr),
        )
        .map_err(invalid)
    }
}

/// The DER of the first certificate in a PEM text.
fn pem_to_der(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body = text
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let joined: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(joined)
        .ok()
}
