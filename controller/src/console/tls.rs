//! HTTPS for the console and REST API: a TLS listener axum serves from, with a server
//! certificate issued by the internal CA for the configured host names (renewed in place
//! like the agent listeners'), or a supplied certificate chain and key (PEM).
//!
//! Owns: the console's rustls configuration (ring, TLS 1.2 and 1.3, ALPN `http/1.1`) and
//! accepting TLS connections with handshakes off the accept loop (a slow or silent client
//! costs one task until its 10-second handshake deadline, never the listener).
//! Must never: serve a plain-HTTP answer on the TLS port, or hold the CA key (it asks
//! `Ca` through `gateway::tls::ServerCertificate`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::ca::{Ca, CaError};
use crate::domain::Timestamp;
use crate::gateway::tls::{SERVER_CERT_LIFETIME, ServerCertificate};

/// How long a client may take to finish the handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for axum to take them.
const READY_QUEUE: usize = 256;

fn tls_err(e: impl std::fmt::Display) -> CaError {
    CaError::Invalid(format!("console TLS: {e}"))
}

fn with_alpn(mut config: ServerConfig) -> Arc<ServerConfig> {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn builder() -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, CaError> {
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(tls_err)
}

/// A server certificate from the internal CA for `names` (DNS names or IP addresses);
/// returns the certificate so the caller can renew it ([`ServerCertificate::renew_if_due`]).
pub fn config_from_ca(
    ca: Arc<Ca>,
    names: &[String],
    now: Timestamp,
) -> Result<(Arc<ServerConfig>, Arc<ServerCertificate>), CaError> {
    let certificate = ServerCertificate::issue(ca, names, SERVER_CERT_LIFETIME, now)?;
    let config =
        builder()?.with_no_client_auth().with_cert_resolver(
            Arc::clone(&certificate) as Arc<dyn rustls::server::ResolvesServerCert>
        );
    Ok((with_alpn(config), certificate))
}

/// A supplied certificate chain and private key, both PEM (leaf first).
pub fn config_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, CaError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err(format!("certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(tls_err("the certificate file holds no certificate"));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls_err(format!("key file: {e}")))?;
    let config = builder()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    Ok(with_alpn(config))
}

/// A TLS listener for `axum::serve`: accepts TCP, handshakes in a task per connection,
/// and hands finished connections over. Wrap it with `ListenerExt::tap_io` to get the
/// client address as `ConnectInfo<SocketAddr>` (the login throttle needs it).
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "Console TLS: accept failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "Console TLS handshake failed.")
                        }
                        Err(_) => tracing::debug!(%peer, "Console TLS handshake timed out."),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accept task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `app` over TLS on `tcp` until `shutdown` resolves (the console's options must
/// say `tls: true`, for `__Host-` Secure cookies and HSTS).
pub async fn serve(
    tcp: TcpListener,
    config: Arc<ServerConfig>,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = TlsListener::new(tcp, config)?.tap_io(|_| {});
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
