//! The agent's TLS client pieces: pinning the CA during enrollment, mutual TLS to the
//! gateway, and the device key with its certificate signing request.
//!
//! Owns: rustls client configurations (ring provider, TLS 1.3 only: both ends are ours),
//! [`PinnedCaVerifier`], and [`DeviceKey`].
//! Must never: accept a server without verifying its chain and handshake signature
//! (pinning replaces the trust root, not the checks), or show key material in `Debug`.

use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

/// Why a TLS configuration or key could not be built, named for what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The pinned fingerprint is not 64 hex digits.
    #[error("invalid CA fingerprint: {0}")]
    InvalidPin(String),
    /// A certificate (PEM) does not parse or is unusable.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// The private key does not parse or does not fit the certificate.
    #[error("invalid private key: {0}")]
    InvalidKey(String),
    /// The crypto provider cannot make this configuration (a build problem, not input).
    #[error("TLS provider: {0}")]
    Provider(String),
}

/// The one crypto provider corral uses: ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a certificate's DER, lowercase hex: what an agent pins.
pub fn fingerprint(cert_der: &[u8]) -> String {
    Sha256::digest(cert_der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsError> {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Provider(e.to_string()))
}

/// The client configuration for enrollment: the server must present a chain that
/// contains a CA certificate whose SHA-256 fingerprint is `ca_fingerprint_sha256_hex`, and
/// its leaf must verify against that CA (signature, validity, serverAuth, server name).
pub fn enrollment_client_config(ca_fingerprint_sha256_hex: &str) -> Result<ClientConfig, TlsError> {
    let verifier = PinnedCaVerifier::new(ca_fingerprint_sha256_hex)?;
    Ok(builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The mutual-TLS client configuration for the gateway: trust only `ca_pem`, present
/// `cert_pem` with the PKCS#8 DER key `key_pkcs8_der`.
pub fn gateway_client_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pkcs8_der: &[u8],
) -> Result<ClientConfig, TlsError> {
    let roots = roots_from_pem(ca_pem)?;
    let chain = certificates_from_pem(cert_pem)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der.to_vec()));
    builder()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| TlsError::InvalidKey(e.to_string()))
}

/// Every certificate in a PEM text (at least one).
pub fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidCertificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::InvalidCertificate(
            "no PEM certificate found".into(),
        ));
    }
    Ok(certs)
}

fn roots_from_pem(ca_pem: &str) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(ca_pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::InvalidCertificate(e.to_string()))?;
    }
    Ok(roots)
}

/// Accepts a server whose chain includes the pinned CA certificate and whose leaf is
/// signed by it. Everything a normal verifier checks is still checked, by webpki, with the
/// pinned CA as the only trust anchor.
pub struct PinnedCaVerifier {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for PinnedCaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedCaVerifier")
            .field("pin", &fingerprint_hex(&self.pin))
            .finish()
    }
}

fn fingerprint_hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PinnedCaVerifier {
    /// A verifier pinned to the CA with this SHA-256 fingerprint (64 hex digits; colons
    /// and case are ignored, as operators copy them from different tools).
    pub fn new(ca_fingerprint_sha256_hex: &str) -> Result<Self, TlsError> {
        let digits: Vec<u8> = ca_fingerprint_sha256_hex
            .bytes()
            .filter(|b| *b != b':')
            .collect();
        if digits.len() != 64 {
            return Err(TlsError::InvalidPin(format!(
                "expected 64 hex digits, got {}",
                digits.len()
            )));
        }
        let mut pin = [0u8; 32];
        for (byte, pair) in pin.iter_mut().zip(digits.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| bad_digit())?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| bad_digit())?;
        }
        Ok(PinnedCaVerifier {
            pin,
            provider: provider(),
        })
    }
}

fn bad_digit() -> TlsError {
    TlsError::InvalidPin("expected hex digits only".into())
}

impl ServerCertVerifier for PinnedCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = intermediates
            .iter()
            .find(|cert| Sha256::digest(cert.as_ref()).as_slice() == self.pin)
            .ok_or_else(|| {
                rustls::Error::General(
                    "the server's chain does not contain the pinned CA certificate".into(),
                )
            })?;
        let mut roots = RootCertStore::empty();
        roots
            .add(ca.clone().into_owned())
            .map_err(|e| rustls::Error::General(format!("the pinned CA is unusable: {e}")))?;
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&self.provider),
        )
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        verifier.verify_server_cert(end_entity, &[], server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The device's private key, generated on the phone (ECDSA P-256). Only its CSR leaves
/// the phone. `Debug` redacts it.
#[derive(Clone)]
pub struct DeviceKey {
    pkcs8_der: Vec<u8>,
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(…)")
    }
}

impl DeviceKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, TlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| TlsError::InvalidKey(e.to_string()))?;
        Ok(DeviceKey {
            pkcs8_der: key.serialize_der(),
        })
    }

    /// A key stored earlier with [`DeviceKey::pkcs8_der`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, TlsError> {
        rcgen::KeyPair::try_from(der).map_err(|e| TlsError::InvalidKey(e.to_string()))?;
        Ok(DeviceKey {
            pkcs8_der: der.to_vec(),
        })
    }

    /// The key as PKCS#8 DER, to store on the phone (mode 0600) and for
    /// [`gateway_client_config`].
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// A PEM certificate signing request for this key. The controller uses only the public
    /// key; the subject here is informative.
    pub fn csr_pem(&self) -> Result<String, TlsError> {
        let key = rcgen::KeyPair::try_from(self.pkcs8_der.as_slice())
            .map_err(|e| TlsError::InvalidKey(e.to_string()))?;
        let mut params = rcgen::CertificateParams::default();
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CommonName, "corral agent");
        params.distinguished_name = name;
        params
            .serialize_request(&key)
            .and_then(|csr| csr.pem())
            .map_err(|e| TlsError::InvalidKey(e.to_string()))
    }
}
