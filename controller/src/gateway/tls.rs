//! TLS for the two agent-facing listeners: the controller's server certificate (issued by
//! the internal CA, renewed in place at 70% of its lifetime) and the rustls server
//! configurations — mutual TLS rooted at the CA for the gateway, server-only for
//! enrollment.
//!
//! Owns: rustls server configuration (ring, TLS 1.3, no resumption).
//! Must never: accept a gateway handshake without a client certificate that chains to the
//! internal CA (rustls' `WebPkiClientVerifier` checks chain, validity and the clientAuth
//! EKU during the handshake), or hold the CA key (it asks [`Ca`] for certificates).

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{
    ClientHello, NoServerSessionStorage, ResolvesServerCert, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use crate::ca::{self, Ca, CaError};
use crate::domain::Timestamp;

/// Lifetime of the listeners' server certificate; it is renewed at 70% of it.
pub const SERVER_CERT_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(e: impl fmt::Display) -> CaError {
    CaError::Invalid(format!("TLS listener: {e}"))
}

/// The server certificate both listeners present (leaf + CA, so agents can pin the CA).
/// Swapped in place on renewal; handshakes in progress keep the one they started with.
pub struct ServerCertificate {
    ca: Arc<Ca>,
    names: Vec<String>,
    lifetime: Duration,
    current: RwLock<Current>,
}

#[derive(Clone)]
struct Current {
    key: Arc<CertifiedKey>,
    renew_at: Timestamp,
}

impl fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl ServerCertificate {
    /// Issues the first certificate for `names` (DNS names or IP addresses).
    pub fn issue(
        ca: Arc<Ca>,
        names: &[String],
        lifetime: Duration,
        now: Timestamp,
    ) -> Result<Arc<Self>, CaError> {
        let current = issue_current(&ca, names, lifetime, now)?;
        Ok(Arc::new(ServerCertificate {
            ca,
            names: names.to_vec(),
            lifetime,
            current: RwLock::new(current),
        }))
    }

    /// Replaces the certificate when 70% of its lifetime has passed. Returns whether it did.
    pub fn renew_if_due(&self, now: Timestamp) -> Result<bool, CaError> {
        let due = self.read().renew_at <= now;
        if due {
            let fresh = issue_current(&self.ca, &self.names, self.lifetime, now)?;
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        }
        Ok(due)
    }

    fn read(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn issue_current(
    ca: &Ca,
    names: &[String],
    lifetime: Duration,
    now: Timestamp,
) -> Result<Current, CaError> {
    let identity = ca.server_identity(names, lifetime, now)?;
    let chain: Vec<CertificateDer<'static>> = identity
        .cert_chain_der
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_pkcs8_der));
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(tls_err)?;
    Ok(Current {
        key: Arc::new(key),
        renew_at: ca::renewal_at(now, now.plus(lifetime)),
    })
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.read().key)
    }
}

fn builder() -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, CaError> {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)
}

fn without_resumption(mut config: ServerConfig) -> Arc<ServerConfig> {
    // Every connection is a full handshake, so every connection presents (and the
    // gateway re-checks) a certificate; no per-connection ticket state either.
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    Arc::new(config)
}

/// The gateway: the handshake itself requires a client certificate chaining to the CA.
pub fn gateway_config(
    ca: &Ca,
    certificate: Arc<ServerCertificate>,
) -> Result<Arc<ServerConfig>, CaError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.certificate_der().to_vec()))
        .map_err(tls_err)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(tls_err)?;
    let config = builder()?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(certificate);
    Ok(without_resumption(config))
}

/// Enrollment: server-authenticated only (the agent has no certificate yet).
pub fn enrollment_config(
    certificate: Arc<ServerCertificate>,
) -> Result<Arc<ServerConfig>, CaError> {
    let config = builder()?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    Ok(without_resumption(config))
}
