//! One open stream as a service sees it: bytes from the host in, bytes to the host out,
//! with ADB's flow control done here so services cannot get it wrong.
//!
//! **Flow control:** a host WRTE is acknowledged (OKAY) when the service takes it, so a
//! slow service slows the host down; a service's WRTE waits until the host acknowledged
//! the previous one (one unacknowledged WRTE per stream). Closing does not wait for the
//! last acknowledgement: adb_client never acknowledges the sync `OKAY` of a push.

use std::sync::Arc;

/// How long a phone rebooting from its own shell stays reachable after answering.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

use tokio::sync::{Semaphore, mpsc};

/// What services ask of their connection.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Send `OKAY(local, remote)`: a host WRTE was taken (or, for `reboot:`, a second OKAY).
    Ready { local: u32 },
    /// Send `WRTE(local, remote, data)`.
    Write { local: u32, data: Vec<u8> },
    /// The service ended: send `CLSE(local, remote)` and forget the stream.
    Close { local: u32 },
    /// Drop the whole connection (a shell command hit a fault).
    Disconnect { reason: String },
    /// The phone rebooted: every connection to it drops.
    Reboot,
}

/// The stream is gone (the host closed it or the connection dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stream closed")]
pub struct StreamClosed;

/// The connection's half of a stream.
#[derive(Debug)]
pub(crate) struct StreamHandle {
    pub remote: u32,
    pub inbound: mpsc::Sender<Vec<u8>>,
    pub ready: Arc<Semaphore>,
}

impl StreamHandle {
    /// The host acknowledged our last WRTE.
    pub fn acknowledged(&self) {
        if self.ready.available_permits() == 0 {
            self.ready.add_permits(1);
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        // Wakes a service waiting to write: the stream is gone.
        self.ready.close();
    }
}

/// How many host WRTEs may wait for a service. A conforming host has at most one
/// unacknowledged WRTE per stream; more means it ignores flow control.
pub(crate) const INBOUND_DEPTH: usize = 8;

/// The service's half of a stream.
#[derive(Debug)]
pub struct StreamIo {
    local: u32,
    inbound: mpsc::Receiver<Vec<u8>>,
    outbound: mpsc::UnboundedSender<Outbound>,
    ready: Arc<Semaphore>,
    max_payload: usize,
    /// Records queued by [`StreamIo::queue`], not yet sent.
    pending: Vec<u8>,
}

/// Creates both halves of a stream.
pub(crate) fn stream_pair(
    local: u32,
    remote: u32,
    max_payload: usize,
    outbound: mpsc::UnboundedSender<Outbound>,
) -> (StreamHandle, StreamIo) {
    let (tx, rx) = mpsc::channel(INBOUND_DEPTH);
    let ready = Arc::new(Semaphore::new(1));
    (
        StreamHandle {
            remote,
            inbound: tx,
            ready: Arc::clone(&ready),
        },
        StreamIo {
            local,
            inbound: rx,
            outbound,
            ready,
            max_payload,
            pending: Vec::new(),
        },
    )
}

impl StreamIo {
    /// The largest WRTE payload the host accepts.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// The next bytes from the host; `None` once the host closed the stream.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let data = self.inbound.recv().await?;
        self.request(Outbound::Ready { local: self.local });
        Some(data)
    }

    /// Sends one WRTE (at most [`max_payload`](Self::max_payload) bytes), after the host
    /// acknowledged the previous one.
    pub async fn send(&mut self, data: Vec<u8>) -> Result<(), StreamClosed> {
        debug_assert!(data.len() <= self.max_payload);
        let permit = self.ready.acquire().await.map_err(|_| StreamClosed)?;
        permit.forget();
        self.outbound
            .send(Outbound::Write {
                local: self.local,
                data,
            })
            .map_err(|_| StreamClosed)
    }

    /// Sends bytes in as many WRTEs as needed.
    pub async fn send_all(&mut self, data: &[u8]) -> Result<(), StreamClosed> {
        for chunk in data.chunks(self.max_payload.max(1)) {
            self.send(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Queues a record (a sync reply, a shell packet) that should not be split across
    /// WRTEs; records are packed into WRTEs of up to `max_payload` bytes, as adbd's
    /// socket reads pack them. A record larger than that is split.
    pub async fn queue(&mut self, record: &[u8]) -> Result<(), StreamClosed> {
        if !self.pending.is_empty() && self.pending.len() + record.len() > self.max_payload {
            self.flush().await?;
        }
        if record.len() > self.max_payload {
            return self.send_all(record).await;
        }
        self.pending.extend_from_slice(record);
        Ok(())
    }

    /// Sends what [`queue`](Self::queue) collected.
    pub async fn flush(&mut self) -> Result<(), StreamClosed> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.pending);
        self.send(data).await
    }

    /// Sends an extra `OKAY` on this stream (what `reboot:` does).
    pub fn ready_again(&self) {
        self.request(Outbound::Ready { local: self.local });
    }

    /// Sends what is queued, then ends the stream from the device side.
    pub async fn close(mut self) {
        if self.flush().await.is_ok() {
            self.request(Outbound::Close { local: self.local });
        }
    }

    /// Ends the stream like [`StreamIo::close`], then drops every connection to the
    /// phone: a command that rebooted the phone has answered, and the phone goes down.
    pub async fn close_and_reboot(mut self) {
        if self.flush().await.is_ok() {
            self.request(Outbound::Close { local: self.local });
        }
        // A phone takes seconds to go down (`ShutdownThread` broadcasts, stops services,
        // then asks init to reboot); half a second of it lets the host read the answer and
        // the close before the connection drops, as it can on a phone.
        tokio::time::sleep(SHUTDOWN_GRACE).await;
        self.rebooted();
    }

    /// Drops the whole connection.
    pub fn disconnect(&self, reason: impl Into<String>) {
        self.request(Outbound::Disconnect {
            reason: reason.into(),
        });
    }

    /// Drops every connection to the phone: it rebooted.
    pub fn rebooted(&self) {
        self.request(Outbound::Reboot);
    }

    fn request(&self, what: Outbound) {
        // A send error means the connection is gone; there is nobody left to tell.
        let _ = self.outbound.send(what);
    }
}
