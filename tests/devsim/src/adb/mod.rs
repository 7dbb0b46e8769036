//! The device side of the ADB transport protocol: what adbd does between the TCP socket
//! and the phone.
//!
//! Pure codecs ([`packet`], [`auth`], [`handshake`], [`service`], [`shell_protocol`],
//! [`sync`], [`sync_reply`]) do no I/O and are fuzzed ([`fuzz`]). The edge
//! ([`connection`] and the service tasks) owns sockets and calls into the phone only
//! through its transport API.
//!
//! **Architecture invariant:** nothing a peer sends can panic the process or disturb
//! another connection; a bad peer loses its own connection, with a `warn` log line.
//!
//! **API boundary:** knows nothing about Android commands — a shell stream is a command
//! string for [`Phone::run_shell`](crate::phone::Phone::run_shell), a `sync:` stream is
//! calls on [`Phone::fs`](crate::phone::Phone::fs).

pub mod auth;
pub mod connection;
pub mod fuzz;
pub mod handshake;
pub mod packet;
pub mod service;
mod services;
pub mod shell_protocol;
mod shell_service;
pub(crate) mod stream;
pub mod sync;
pub mod sync_reply;
mod sync_service;
mod writer;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use connection::{ConnectionError, PhoneLink};

use crate::phone::Phone;

/// Accepts ADB connections for one phone until `shutdown` turns true, then closes them
/// all and returns.
pub async fn serve(listener: TcpListener, phone: Arc<Phone>, mut shutdown: watch::Receiver<bool>) {
    let link = PhoneLink::new(phone);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    tracing::debug!(%peer, serial = link.phone.serial(), "ADB connection accepted");
                    connections.spawn(connection::serve(socket, peer, link.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(serial = link.phone.serial(), error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    while connections.join_next().await.is_some() {}
}
