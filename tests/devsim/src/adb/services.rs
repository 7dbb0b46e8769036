//! Runs the service an OPEN asked for on its stream: shell/exec/abb commands, `sync:`,
//! `reboot:` and fixed-text services.
//!
//! The transport's share of the latency model is paid here: one round trip per opened
//! stream plus, for commands, the cost of spawning a shell. Per-command costs belong to
//! the phone.

use std::sync::Arc;
use std::time::Duration;

use super::service::Service;
use super::stream::StreamIo;
use super::{shell_service, sync_service};
use crate::phone::Phone;

/// Serves one stream until the service ends or the stream goes away.
pub(crate) async fn run(service: Service, io: StreamIo, phone: Arc<Phone>) {
    let opened = tokio::time::Instant::now();
    let latency = phone.latency();
    if latency.enabled {
        let mut delay = latency.round_trip;
        if matches!(service, Service::Shell { .. }) {
            delay += latency.shell_spawn;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    match service {
        Service::Shell {
            command,
            framing,
            pty,
            exec,
        } => {
            if command.trim().is_empty() {
                shell_service::run_interactive(io, phone, framing, pty).await;
            } else {
                let floor = if exec {
                    EXEC_REPLY_FLOOR
                } else {
                    Duration::ZERO
                };
                shell_service::run_command(io, phone, command, framing, opened + floor).await;
            }
        }
        Service::Sync => sync_service::run(io, phone).await,
        Service::Reboot { target } => reboot(io, phone, target).await,
        Service::Message(text) => {
            let mut io = io;
            if io.send_all(text.as_bytes()).await.is_ok() {
                io.close().await;
            }
        }
    }
}

/// `reboot:[target]`: adb_client expects a second OKAY; then the phone goes down and
/// every connection to it drops. Every target reboots into Android again (the simulator
/// has no bootloader or recovery).
///
/// Timing matters to adb_client: after opening any stream it drains packets for 20 ms
/// (`ADBSession::drop`), then `reboot()` waits for the second OKAY — so that OKAY comes
/// later than that, and the connection goes down a little after it, as a phone takes a
/// moment to go down.
async fn reboot(io: StreamIo, phone: Arc<Phone>, target: String) {
    tracing::info!(serial = phone.serial(), %target, "reboot requested over ADB");
    tokio::time::sleep(SECOND_OKAY_AFTER).await;
    io.ready_again();
    let rebooting = Arc::clone(&phone);
    if let Err(e) = tokio::task::spawn_blocking(move || rebooting.reboot()).await {
        tracing::error!(serial = phone.serial(), error = %e, "phone reboot failed");
    }
    tokio::time::sleep(GOING_DOWN).await;
    io.rebooted();
}

/// No `exec:` process answers sooner than this after its OPEN. A real phone needs far
/// longer to start a process and reach system_server; adb_client relies on that: its
/// `uninstall` (like `reboot`) drops the session it opened — draining incoming packets
/// for 20 ms — before reading the reply, so a faster answer would be swallowed and the
/// client would wait forever. Applies even with latency off.
const EXEC_REPLY_FLOOR: Duration = Duration::from_millis(30);

/// Delay of `reboot:`'s second OKAY (longer than adb_client's 20 ms drain).
const SECOND_OKAY_AFTER: Duration = Duration::from_millis(100);
/// Time between that OKAY and the connection dropping.
const GOING_DOWN: Duration = Duration::from_millis(200);
