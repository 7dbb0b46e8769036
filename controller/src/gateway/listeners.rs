//! Starting the two agent-facing TLS listeners side by side: the gateway and enrollment,
//! with one server certificate from the internal CA that is renewed in place.
//!
//! Owns: the order of start-up and shutdown of the agent listeners.
//! Must never: bind sockets itself (callers bind, so tests can use port 0).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::tls::{self, SERVER_CERT_LIFETIME, ServerCertificate};
use crate::domain::Timestamp;
use crate::enrollment::{self, Enrollment};
use crate::serve::{AppState, ServeError};

/// The bound sockets of the agent gateway and the enrollment listener.
#[derive(Debug)]
pub struct AgentListeners {
    pub gateway: TcpListener,
    pub enrollment: TcpListener,
}

/// How often the server certificate is checked for renewal.
const RENEWAL_CHECK: Duration = Duration::from_secs(3600);

/// Serves the gateway and enrollment until `shutdown` resolves, then lets both finish.
pub async fn serve_agent_listeners(
    state: &AppState,
    listeners: AgentListeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let certificate = ServerCertificate::issue(
        Arc::clone(&state.ca),
        &state.config.server_names,
        SERVER_CERT_LIFETIME,
        Timestamp::now(),
    )?;
    let gateway_tls = tls::gateway_config(&state.ca, Arc::clone(&certificate))?;
    let enrollment_tls = tls::enrollment_config(Arc::clone(&certificate))?;
    let gateway_addr = listeners
        .gateway
        .local_addr()
        .map_err(|source| ServeError::Listen {
            addr: state.config.gateway_listen,
            source,
        })?;
    let enroll = Enrollment::new(
        state.store.clone(),
        Arc::clone(&state.ca),
        state.config.device_cert_lifetime,
        gateway_addr.port(),
    );
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stop_tx.send_replace(true);
    });
    let stopped = |mut stop: watch::Receiver<bool>| async move {
        super::stopped(&mut stop).await;
    };
    let renewal = tokio::spawn(renew_server_certificate(certificate, stop.clone()));
    tokio::join!(
        state
            .gateway
            .serve(listeners.gateway, gateway_tls, stopped(stop.clone())),
        enrollment::serve(
            listeners.enrollment,
            enroll,
            enrollment_tls,
            stopped(stop.clone())
        ),
    );
    renewal.abort();
    Ok(())
}

async fn renew_server_certificate(
    certificate: Arc<ServerCertificate>,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(RENEWAL_CHECK);
    loop {
        tokio::select! {
            () = crate::gateway::stopped(&mut stop) => return,
            _ = every.tick() => {}
        }
        match certificate.renew_if_due(Timestamp::now()) {
            Ok(true) => tracing::info!("Renewed the agent listeners' server certificate."),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "Cannot renew the agent listeners' server certificate.")
            }
        }
    }
}
