//! The enrollment listener: server-authenticated TLS (agents pin the CA fingerprint), one
//! [`EnrollRequest`] frame in, one [`EnrollResponse`] frame out.
//!
//! Owns: turning a token + CSR into an enrolled device — a fresh device id, a
//! client-auth-only certificate for the CSR's key (the key never leaves the phone), and
//! [`Store::enroll_device`], which redeems the token, creates the device and binds the
//! certificate (serial and key hash) in one transaction — and refusing everything else
//! with a reason that reveals nothing internal, plus an `enrollment.refused` event.
//! Must never: bind a certificate without redeeming the token in the same transaction,
//! tell an unknown token from a used, revoked or expired one, or log the token's secret.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use corral_wire::io::{FrameReader, write_message};
use corral_wire::{EnrollRequest, EnrollResponse, Enrolled, Refused};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::ca::Ca;
use crate::domain::{DeviceId, DeviceName, EnrollmentTokenSecret, NewDevice, NewEvent, Timestamp};
use crate::store::{Store, StoreError};

/// An enrollment request is a token, a CSR and a few names: small.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
/// Handshake plus request must arrive within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The same answer for every unusable token (unknown, malformed, used, revoked, expired).
pub const TOKEN_REFUSED: &str = "the enrollment token is unknown, used, revoked or expired";
const CSR_REFUSED: &str = "the certificate signing request is not acceptable";
const UNAVAILABLE: &str = "the controller cannot enroll devices right now; try again later";

/// What enrollment needs: the store, the CA, device certificate lifetime and where the
/// gateway listens.
#[derive(Debug, Clone)]
pub struct Enrollment {
    store: Store,
    ca: Arc<Ca>,
    device_cert_lifetime: Duration,
    gateway_port: u16,
}

impl Enrollment {
    /// Enrollment issuing certificates valid for `device_cert_lifetime` and sending agents
    /// to the gateway on `gateway_port`.
    pub fn new(
        store: Store,
        ca: Arc<Ca>,
        device_cert_lifetime: Duration,
        gateway_port: u16,
    ) -> Self {
        Enrollment {
            store,
            ca,
            device_cert_lifetime,
            gateway_port,
        }
    }

    /// Handles one request: enrolled, or refused with a safe reason (and an event).
    pub async fn enroll(
        &self,
        request: &EnrollRequest,
        peer: SocketAddr,
        now: Timestamp,
    ) -> EnrollResponse {
        let Ok(token) = EnrollmentTokenSecret::parse(request.token.trim()) else {
            return self
                .refuse(TOKEN_REFUSED, "malformed token", None, peer, now)
                .await;
        };
        let prefix = token.prefix().as_str().to_owned();
        let Ok(name) = device_name(&request.device_info.model) else {
            return self
                .refuse(
                    UNAVAILABLE,
                    "no usable device name",
                    Some(&prefix),
                    peer,
                    now,
                )
                .await;
        };
        let device = NewDevice {
            id: DeviceId::generate(),
            name,
            serial: request
                .device_info
                .serial
                .as_deref()
                .map(|s| s.chars().filter(|c| !c.is_control()).take(64).collect())
                .filter(|s: &String| !s.is_empty()),
        };
        let issued = match self.ca.issue_device_certificate(
            request.csr_pem.as_bytes(),
            &device.id,
            self.device_cert_lifetime,
            now,
        ) {
            Ok(issued) => issued,
            Err(e) => {
                let detail = e.to_string();
                return self
                    .refuse(CSR_REFUSED, &detail, Some(&prefix), peer, now)
                    .await;
            }
        };
        match self
            .store
            .enroll_device(&token, &device, &issued.record, now)
            .await
        {
            Ok(enrolled) => {
                // For the console's fleet page; the phone is enrolled even if this fails.
                let info = &request.device_info;
                if let Err(e) = self
                    .store
                    .record_device_info(&enrolled.id, &info.model, &info.android_release)
                    .await
                {
                    tracing::warn!(device = %enrolled.id, error = %e, "Could not record the phone's model and Android release.");
                }
                tracing::info!(device = %enrolled.id, name = %enrolled.name, token = %prefix, %peer, serial = %issued.record.serial, "Device enrolled.");
                EnrollResponse::Enrolled(Enrolled {
                    device_id: enrolled.id.to_string(),
                    certificate_pem: issued.pem,
                    ca_certificate_pem: self.ca.certificate_pem().to_owned(),
                    gateway_port: self.gateway_port,
                    gateway_host: None,
                })
            }
            Err(StoreError::Forbidden(why)) => {
                self.refuse(TOKEN_REFUSED, why, Some(&prefix), peer, now)
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, token = %prefix, %peer, "Enrollment failed.");
                EnrollResponse::Refused(Refused {
                    reason: UNAVAILABLE.into(),
                })
            }
        }
    }

    async fn refuse(
        &self,
        reason: &str,
        detail: &str,
        prefix: Option<&str>,
        peer: SocketAddr,
        now: Timestamp,
    ) -> EnrollResponse {
        tracing::warn!(token = prefix.unwrap_or("-"), %peer, detail, "Enrollment refused.");
        let event = NewEvent {
            device: None,
            actor: "enrollment".into(),
            kind: "enrollment.refused".into(),
            detail: serde_json::json!({
                "token": prefix,
                "reason": reason,
                "detail": detail,
                "peer": peer.ip().to_string(),
            }),
        };
        if let Err(e) = self.store.append_event(&event, now).await {
            tracing::warn!(error = %e, "Cannot record the refused enrollment.");
        }
        EnrollResponse::Refused(Refused {
            reason: reason.into(),
        })
    }
}

/// The device's name from its model: printable, trimmed, at most 100 characters, or a
/// generic name when nothing usable is left.
fn device_name(model: &str) -> Result<DeviceName, crate::domain::ParseError> {
    let cleaned: String = model
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect();
    DeviceName::parse(cleaned.trim()).or_else(|_| DeviceName::parse("Android phone"))
}

/// Serves enrollment on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    enrollment: Enrollment,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, mut stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stop_tx.send_replace(true);
    });
    let acceptor = TlsAcceptor::from(tls);
    let enrollment = Arc::new(enrollment);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = crate::gateway::stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((tcp, peer)) => {
                let enrollment = Arc::clone(&enrollment);
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    if timeout(
                        REQUEST_TIMEOUT,
                        serve_connection(&enrollment, tcp, peer, acceptor),
                    )
                    .await
                    .is_err()
                    {
                        tracing::info!(%peer, "Enrollment connection timed out.");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot accept an enrollment connection.");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // Requests in flight finish (each is bounded by the request timeout).
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    enrollment: &Enrollment,
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
) {
    let tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            tracing::info!(%peer, error = %e, "Enrollment TLS handshake failed.");
            return;
        }
    };
    let mut conn = FrameReader::new(tls, MAX_REQUEST_LEN);
    let request = match conn.read::<EnrollRequest>().await {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(%peer, error = %e, "Malformed enrollment request; closing.");
            let answer = EnrollResponse::Refused(Refused {
                reason: format!("malformed request: {e}"),
            });
            let _ = write_message(conn.get_mut(), &answer).await;
            return;
        }
    };
    let answer = enrollment.enroll(&request, peer, Timestamp::now()).await;
    if let Err(e) = write_message(conn.get_mut(), &answer).await {
        tracing::info!(%peer, error = %e, "Cannot send the enrollment answer.");
        return;
    }
    let _ = tokio::io::AsyncWriteExt::shutdown(conn.get_mut()).await;
}
