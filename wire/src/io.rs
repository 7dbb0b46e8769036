//! Frames over any tokio byte stream (a TLS stream in practice).
//!
//! Owns: a cancel-safe [`FrameReader`] whose buffer grows only with bytes actually
//! received (so a peer announcing 8 MiB and sending nothing costs nothing) and shrinks
//! back after a large frame, and the writers of whole frames.
//! Must never: allocate for a payload before its length passed the limit, or keep a large
//! buffer around between frames (10,000 connections share one controller).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frame::{self, FrameError, HEADER_LEN, PreparedProfile};
use crate::messages::Message;

/// How much buffer a reader keeps between frames.
const IDLE_CAPACITY: usize = 1024;
/// The most the buffer grows by per read: growth follows the bytes that arrive.
const READ_CHUNK: usize = 64 * 1024;

/// Why reading a frame failed. Every variant ends the connection.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer broke the protocol (size, JSON, version, type).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a frame ({buffered} bytes buffered)")]
    Truncated { buffered: usize },
    /// The transport failed (reset, TLS alert, …).
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
}

/// Why writing a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The message is too large to send (a bug or an oversized profile).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The transport failed.
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads frames from `R`. [`FrameReader::read`] is cancel-safe: used in `select!`, a
/// branch that loses loses no bytes.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader accepting payloads up to `max` bytes ([`frame::MAX_FRAME_LEN`] for the
    /// gateway, less where messages are small).
    pub fn new(inner: R, max: usize) -> Self {
        FrameReader {
            inner,
            buf: Vec::new(),
            max,
        }
    }

    /// The next message, or `Ok(None)` when the peer closed the connection cleanly
    /// between frames.
    pub async fn read<M: Message>(&mut self) -> Result<Option<M>, ReadError> {
        loop {
            if let Some((payload, consumed)) = frame::split_frame(&self.buf, self.max)? {
                let decoded = frame::decode::<M>(payload);
                self.buf.drain(..consumed);
                if self.buf.capacity() > IDLE_CAPACITY && self.buf.len() <= IDLE_CAPACITY {
                    self.buf.shrink_to(IDLE_CAPACITY);
                }
                return Ok(Some(decoded?));
            }
            let wanted = match self.buf.first_chunk::<HEADER_LEN>() {
                Some(header) => HEADER_LEN + frame::payload_len(*header, self.max)?,
                None => HEADER_LEN,
            };
            let missing = wanted.saturating_sub(self.buf.len());
            self.buf.reserve(missing.clamp(1, READ_CHUNK));
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                return match self.buf.len() {
                    0 => Ok(None),
                    buffered => Err(ReadError::Truncated { buffered }),
                };
            }
        }
    }

    /// The stream, e.g. to write replies on it.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The stream, e.g. to read the peer's TLS certificate.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The stream back; any buffered bytes are dropped.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Writes `msg` as one frame and flushes.
pub async fn write_message<W, M>(writer: &mut W, msg: &M) -> Result<(), WriteError>
where
    W: AsyncWrite + Unpin,
    M: Message,
{
    let bytes = frame::encode(msg)?;
    writer.write_all(&bytes).await?;
    writer.flush().await?;
    Ok(())
}

/// Writes a [`crate::ProfilePush`] of a prepared profile as push `push_seq` and flushes.
/// The profile text is written from the shared buffer, never copied per connection.
pub async fn write_profile_push<W>(
    writer: &mut W,
    profile: &PreparedProfile,
    push_seq: u64,
) -> Result<(), WriteError>
where
    W: AsyncWrite + Unpin,
{
    let frame = profile.frame(push_seq)?;
    writer.write_all(&frame.head).await?;
    writer.write_all(&frame.tail).await?;
    writer.flush().await?;
    Ok(())
}
