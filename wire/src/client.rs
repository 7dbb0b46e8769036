//! Connecting as an agent: enroll once over server-authenticated TLS with the CA pinned,
//! then talk to the gateway over mutual TLS. Used by the real agent and by the
//! controller's tests.
//!
//! Owns: TCP + TLS connection set-up and the one-request enrollment exchange.
//! Must never: retry or sleep (the caller owns backoff), or log secrets.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::frame::MAX_FRAME_LEN;
use crate::io::{FrameReader, ReadError, WriteError, write_message};
use crate::messages::{AgentMessage, ControllerMessage, EnrollRequest, EnrollResponse};
use crate::tls::{TlsError, enrollment_client_config};

/// A TLS connection from the agent.
pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Why connecting or exchanging messages failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The name to verify the server against is neither a DNS name nor an IP address.
    #[error("invalid server name {0:?}")]
    InvalidServerName(String),
    /// The TLS configuration could not be built (bad pin, certificate or key).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// TCP connect failed: retry later.
    #[error("connecting to {addr}: {source}")]
    Unreachable {
        addr: String,
        source: std::io::Error,
    },
    /// The TLS handshake failed (e.g. the server is not the pinned CA's, or refused our
    /// certificate).
    #[error("TLS handshake with {addr}: {source}")]
    Handshake {
        addr: String,
        source: std::io::Error,
    },
    /// Sending failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Receiving failed or the peer broke the protocol.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The server closed the connection without an answer.
    #[error("the server closed the connection without answering")]
    NoAnswer,
}

/// Opens TCP to `addr` (`host:port`) and runs the TLS handshake, verifying the server as
/// `server_name` with `config`.
pub async fn connect(
    addr: &str,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<TlsStream, ConnectError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| ConnectError::InvalidServerName(server_name.to_owned()))?;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|source| ConnectError::Unreachable {
            addr: addr.to_owned(),
            source,
        })?;
    // Small frames (heartbeats, acks) must not wait for Nagle.
    let _ = tcp.set_nodelay(true);
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|source| ConnectError::Handshake {
            addr: addr.to_owned(),
            source,
        })
}

/// Enrolls: connects to the enrollment listener at `addr` trusting only the CA whose
/// fingerprint is `ca_fingerprint`, sends `request`, returns the answer.
pub async fn enroll(
    addr: &str,
    server_name: &str,
    ca_fingerprint: &str,
    request: &EnrollRequest,
) -> Result<EnrollResponse, ConnectError> {
    let config = Arc::new(enrollment_client_config(ca_fingerprint)?);
    let stream = connect(addr, server_name, config).await?;
    let mut conn = FrameReader::new(stream, MAX_FRAME_LEN);
    write_message(conn.get_mut(), request).await?;
    conn.read::<EnrollResponse>()
        .await?
        .ok_or(ConnectError::NoAnswer)
}

/// One mutual-TLS connection to the gateway, speaking frames.
#[derive(Debug)]
pub struct AgentConnection {
    conn: FrameReader<TlsStream>,
}

impl AgentConnection {
    /// Connects to the gateway at `addr` with a configuration from
    /// [`crate::tls::gateway_client_config`].
    pub async fn connect(
        addr: &str,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<Self, ConnectError> {
        let stream = connect(addr, server_name, config).await?;
        Ok(AgentConnection {
            conn: FrameReader::new(stream, MAX_FRAME_LEN),
        })
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &AgentMessage) -> Result<(), ConnectError> {
        Ok(write_message(self.conn.get_mut(), msg).await?)
    }

    /// The next message; `Ok(None)` when the gateway closed the connection. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<ControllerMessage>, ConnectError> {
        Ok(self.conn.read().await?)
    }

    /// The underlying stream, e.g. to send raw bytes in tests.
    pub fn stream_mut(&mut self) -> &mut TlsStream {
        self.conn.get_mut()
    }
}
