//! One host connection: reads packets, runs the handshake, keeps the stream table and
//! starts a service task per OPEN.
//!
//! **Architecture invariant:** anything a peer sends ends, at worst, this connection —
//! with one `warn` line naming the peer and the reason — never the process or another
//! connection. Outgoing frames go through a writer task, so the read loop never blocks on
//! a slow peer.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::handshake::{AuthStep, Handshake, Phase};
use super::packet::{self, Command, Packet, PacketError};
use super::services;
use super::stream::{Outbound, StreamHandle, stream_pair};
use super::writer::{Frame, write_frames};
use crate::phone::Phone;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The peer sent bytes that are not a packet.
    #[error("invalid packet: {0}")]
    Packet(#[from] PacketError),
    /// The peer closed the socket in the middle of a packet.
    #[error("connection closed inside a packet ({0} bytes of it received)")]
    Truncated(usize),
    /// The peer sent WRTEs without waiting for OKAY.
    #[error("host ignored flow control on stream {0}")]
    FlowControl(u32),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    /// A test armed `drop_after_packets`.
    #[error("fault injection: dropped after the armed number of packets")]
    InjectedDrop,
    /// A shell command asked for the connection to drop (fault or reboot).
    #[error("shell command dropped the connection: {0}")]
    CommandDisconnect(String),
    /// The phone rebooted.
    #[error("phone rebooted")]
    Rebooted,
}

impl ConnectionError {
    /// True when the peer misbehaved (logged as a warning); false for drops the phone or
    /// a test asked for.
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            ConnectionError::Packet(_)
                | ConnectionError::Truncated(_)
                | ConnectionError::FlowControl(_)
        )
    }
}

/// What every connection of one phone shares.
#[derive(Debug, Clone)]
pub struct PhoneLink {
    pub phone: Arc<Phone>,
    /// Bumped when the phone reboots; every connection to it then drops.
    pub reboots: Arc<watch::Sender<u64>>,
}

impl PhoneLink {
    pub fn new(phone: Arc<Phone>) -> Self {
        PhoneLink {
            phone,
            reboots: Arc::new(watch::channel(0).0),
        }
    }
}

/// Serves one accepted socket until the peer leaves, misbehaves, or `shutdown` fires.
pub async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    link: PhoneLink,
    shutdown: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let (connection, receivers) = Connection::new(link, peer);
    // The outcome is logged inside `run`, before the socket closes, so the log line is
    // there by the time the peer sees the connection go.
    let _ = connection.run(receivers, socket, shutdown).await;
}

/// Logs how a connection ended: a warning when the peer misbehaved.
fn log_end(peer: SocketAddr, serial: &str, result: &Result<(), ConnectionError>) {
    match result {
        Ok(()) => tracing::debug!(%peer, %serial, "ADB connection closed"),
        Err(e) if e.is_peer_fault() => {
            tracing::warn!(%peer, %serial, reason = %e, "dropping ADB connection")
        }
        Err(e) => tracing::info!(%peer, %serial, reason = %e, "dropping ADB connection"),
    }
}

struct Connection {
    link: PhoneLink,
    peer: SocketAddr,
    handshake: Handshake,
    streams: HashMap<u32, StreamHandle>,
    next_local: u32,
    frames: mpsc::UnboundedSender<Frame>,
    outbound_tx: mpsc::UnboundedSender<Outbound>,
    tasks: JoinSet<()>,
}

/// The receiving ends the loop and the writer task own.
struct Receivers {
    frames: mpsc::UnboundedReceiver<Frame>,
    outbound: mpsc::UnboundedReceiver<Outbound>,
}

impl Connection {
    fn new(link: PhoneLink, peer: SocketAddr) -> (Self, Receivers) {
        let config = link.phone.config();
        let handshake = Handshake::new(config.auth_required, config.auto_accept);
        let (frames, frames_rx) = mpsc::unbounded_channel();
        let (outbound_tx, outbound_rx) = mpsc::unbounded_channel();
        let connection = Connection {
            link,
            peer,
            handshake,
            streams: HashMap::new(),
            next_local: 1,
            frames,
            outbound_tx,
            tasks: JoinSet::new(),
        };
        let receivers = Receivers {
            frames: frames_rx,
            outbound: outbound_rx,
        };
        (connection, receivers)
    }

    async fn run(
        mut self,
        receivers: Receivers,
        socket: TcpStream,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), ConnectionError> {
        let (mut reader, writer) = socket.into_split();
        let latency = self.link.phone.latency().clone();
        let writer = tokio::spawn(write_frames(writer, receivers.frames, latency));
        let mut outbound = receivers.outbound;
        let mut reboots = self.link.reboots.subscribe();
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);

        let mut powered_off = false;
        let result = loop {
            if buf.capacity() - buf.len() < 64 * 1024 {
                buf.reserve(64 * 1024);
            }
            tokio::select! {
                _ = shutdown.changed() => {
                    powered_off = true;
                    break Ok(());
                }
                _ = reboots.changed() => break Err(ConnectionError::Rebooted),
                Some(request) = outbound.recv() => {
                    if let Err(e) = self.on_outbound(request) {
                        break Err(e);
                    }
                }
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                read = reader.read_buf(&mut buf) => match read {
                    Err(e) => break Err(e.into()),
                    Ok(0) if buf.is_empty() => break Ok(()),
                    Ok(0) => break Err(ConnectionError::Truncated(buf.len())),
                    Ok(_) => {
                        // Acknowledge at once: adb_client writes a header and its payload
                        // in two writes with Nagle on, so a delayed ACK here would stall
                        // every request by 40 ms.
                        let _ = socket2::SockRef::from(reader.as_ref()).set_tcp_quickack(true);
                        if let Err(e) = self.on_bytes(&mut buf).await {
                            break Err(e);
                        }
                    }
                },
            }
        };

        log_end(self.peer, self.link.phone.serial(), &result);
        // Services learn the stream is gone; the writer flushes what was queued.
        self.streams.clear();
        self.tasks.abort_all();
        drop(self.frames);
        let write_half = tokio::time::timeout(Duration::from_secs(5), writer)
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        // A phone that reboots, loses its cable or powers off does not say goodbye: the
        // host sees a reset, not an orderly close. (adb_client 3.2.3 also spins forever
        // on an orderly close while it waits for a packet.)
        let abortive = powered_off
            || matches!(
                result,
                Err(ConnectionError::Rebooted
                    | ConnectionError::InjectedDrop
                    | ConnectionError::CommandDisconnect(_))
            );
        if let Some(mut write_half) = write_half {
            if abortive {
                if let Ok(socket) = reader.reunite(write_half) {
                    let _ = socket.set_zero_linger();
                }
            } else {
                let _ = write_half.shutdown().await;
            }
        }
        result
    }

    /// Decodes and handles every complete packet in `buf`, keeping the rest.
    async fn on_bytes(&mut self, buf: &mut Vec<u8>) -> Result<(), ConnectionError> {
        let mut used = 0;
        let result = loop {
            match packet::decode(&buf[used..], self.handshake.max_payload()) {
                Ok(Some((packet, len))) => {
                    used += len;
                    if let Err(e) = self.on_packet(packet).await {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e.into()),
            }
        };
        buf.drain(..used);
        result
    }

    async fn on_packet(&mut self, packet: Packet) -> Result<(), ConnectionError> {
        tracing::trace!(peer = %self.peer, ?packet, "packet");
        if self.link.phone.faults().packet_received() {
            return Err(ConnectionError::InjectedDrop);
        }
        match packet.command {
            Command::Cnxn => {
                if self.handshake.phase() == Phase::Online {
                    // adbd treats a second CNXN as a new connection: streams are dropped.
                    self.streams.clear();
                }
                let banner = self.link.phone.banner();
                let reply =
                    self.handshake
                        .on_connect(packet.arg0, packet.arg1, &banner, rand::random());
                self.send(&reply);
            }
            Command::Auth => {
                let authorized = self.link.phone.authorized_keys();
                let banner = self.link.phone.banner();
                match self.handshake.on_auth(
                    packet.arg0,
                    &packet.payload,
                    &authorized,
                    &banner,
                    rand::random(),
                ) {
                    AuthStep::Online { cnxn, remember } => {
                        if let Some(line) = remember {
                            self.link.phone.authorize_key(&line);
                        }
                        self.send(&cnxn);
                    }
                    AuthStep::Retry { token, delay } => {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        self.send(&token);
                    }
                    AuthStep::Silent => {}
                }
            }
            _ if self.handshake.phase() != Phase::Online => {
                tracing::debug!(peer = %self.peer, ?packet, "ignoring packet before the connection is online");
            }
            Command::Open => self.on_open(packet),
            Command::Okay => {
                if let Some(stream) = self.live_stream(packet.arg1, packet.arg0) {
                    stream.acknowledged();
                }
            }
            Command::Wrte => {
                let latency = self
                    .link
                    .phone
                    .latency()
                    .transfer_time(packet.payload.len() as u64);
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                let local = packet.arg1;
                if let Some(stream) = self.live_stream(local, packet.arg0) {
                    match stream.inbound.try_send(packet.payload) {
                        Ok(()) => {}
                        // The service ended and will close the stream; the data is moot.
                        Err(mpsc::error::TrySendError::Closed(_)) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            return Err(ConnectionError::FlowControl(local));
                        }
                    }
                }
            }
            Command::Clse => {
                let local = packet.arg1;
                if self.live_stream(local, packet.arg0).is_some()
                    && let Some(stream) = self.streams.remove(&local)
                {
                    // adbd destroys the socket and echoes CLSE for a live stream.
                    self.send(&Packet::new(Command::Clse, local, stream.remote));
                }
            }
            Command::Stls | Command::Sync => {
                tracing::debug!(peer = %self.peer, ?packet, "ignoring packet");
            }
        }
        Ok(())
    }

    /// The stream `local`, if it exists and belongs to `remote` (0 matches any, as a host
    /// closing a stream it never got an id for sends).
    fn live_stream(&self, local: u32, remote: u32) -> Option<&StreamHandle> {
        self.streams
            .get(&local)
            .filter(|s| remote == 0 || s.remote == remote)
    }

    fn on_open(&mut self, packet: Packet) {
        let remote = packet.arg0;
        if remote == 0 {
            tracing::debug!(peer = %self.peer, "ignoring OPEN with local-id 0");
            return;
        }
        let service = match super::service::parse(&packet.payload) {
            Ok(service) => service,
            Err(e) => {
                tracing::debug!(peer = %self.peer, %e, "refusing OPEN");
                self.send(&Packet::new(Command::Clse, 0, remote));
                return;
            }
        };
        let local = self.next_local;
        self.next_local = self.next_local.checked_add(1).unwrap_or(1);
        let max_payload = self.handshake.max_payload() as usize;
        let (handle, io) = stream_pair(local, remote, max_payload, self.outbound_tx.clone());
        self.streams.insert(local, handle);
        self.send(&Packet::new(Command::Okay, local, remote));
        tracing::debug!(peer = %self.peer, local, remote, ?service, "stream opened");
        let phone = Arc::clone(&self.link.phone);
        self.tasks.spawn(services::run(service, io, phone));
    }

    fn on_outbound(&mut self, request: Outbound) -> Result<(), ConnectionError> {
        match request {
            Outbound::Ready { local } => {
                if let Some(s) = self.streams.get(&local) {
                    let p = Packet::new(Command::Okay, local, s.remote);
                    self.send(&p);
                }
            }
            Outbound::Write { local, data } => {
                if let Some(s) = self.streams.get(&local) {
                    let p = Packet::with_payload(Command::Wrte, local, s.remote, data);
                    self.send(&p);
                }
            }
            Outbound::Close { local } => {
                if let Some(s) = self.streams.remove(&local) {
                    self.send(&Packet::new(Command::Clse, local, s.remote));
                }
            }
            Outbound::Disconnect { reason } => {
                return Err(ConnectionError::CommandDisconnect(reason));
            }
            Outbound::Reboot => {
                self.link.reboots.send_modify(|n| *n += 1);
                return Err(ConnectionError::Rebooted);
            }
        }
        Ok(())
    }

    fn send(&self, packet: &Packet) {
        let payload = if packet.command == Command::Wrte {
            packet.payload.len()
        } else {
            0
        };
        let bytes = packet.encode(self.handshake.checksum());
        // The writer only goes away when the socket failed; the read side notices that.
        let _ = self.frames.send(Frame { bytes, payload });
    }
}
