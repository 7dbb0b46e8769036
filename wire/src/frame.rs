//! Frames: a 4-byte big-endian payload length, then a JSON object `{"v":1,"type":"…",…}`.
//!
//! Owns: encoding, the size limit (checked on the 4 header bytes, before anything is
//! allocated for the payload), and decoding with an error that names what was wrong.
//! Must never: do I/O (this is the sans-IO core; `io` drives it over sockets), or panic
//! on any input.

use std::sync::Arc;

use serde::Deserialize;

use crate::messages::Message;

/// The protocol version this crate speaks; every frame carries it as `"v"`.
pub const PROTOCOL_VERSION: u32 = 1;
/// The largest payload accepted: room for a profile with 5,000 contacts, many times over.
pub const MAX_FRAME_LEN: usize = 8 * 1024 * 1024;
/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

/// Why a frame was rejected. Every variant means the peer broke the protocol: close the
/// connection and log the message, which names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces more than the limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: u64, max: usize },
    /// The payload is not a JSON object with `"v"` and `"type"`, or the frame is empty.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// `"v"` names a protocol version this side does not speak.
    #[error("unsupported protocol version {0} (this side speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion(u64),
    /// `"type"` names no message the sender may send here.
    #[error("unknown {sender} message type {kind:?}")]
    UnknownType { sender: &'static str, kind: String },
    /// A known message type with missing or ill-typed fields.
    #[error("malformed {kind} message: {reason}")]
    InvalidMessage { kind: String, reason: String },
}

/// The payload length a 4-byte header announces, if within `max`.
pub fn payload_len(header: [u8; HEADER_LEN], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header);
    let too_large = FrameError::TooLarge {
        len: u64::from(len),
        max,
    };
    let len = usize::try_from(len).map_err(|_| too_large.clone())?;
    if len > max {
        return Err(too_large);
    }
    if len == 0 {
        return Err(FrameError::Malformed("empty frame".into()));
    }
    Ok(len)
}

/// Finds the first complete frame in `buf`: `Ok(Some((payload, consumed)))`, or
/// `Ok(None)` when more bytes are needed. The limit is checked as soon as the header is in.
pub fn split_frame(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, FrameError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let len = payload_len(*header, max)?;
    let end = HEADER_LEN + len;
    Ok(buf.get(HEADER_LEN..end).map(|payload| (payload, end)))
}

#[derive(Deserialize)]
struct Header {
    v: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Decodes one payload (without its length prefix) as an `M`.
pub fn decode<M: Message>(payload: &[u8]) -> Result<M, FrameError> {
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(FrameError::Malformed("not a JSON object".into()));
    }
    let header: Header = serde_json::from_slice(payload)
        .map_err(|e| FrameError::Malformed(format!("not a JSON object: {e}")))?;
    let v = header
        .v
        .ok_or_else(|| FrameError::Malformed("no protocol version \"v\"".into()))?;
    if v != u64::from(PROTOCOL_VERSION) {
        return Err(FrameError::UnsupportedVersion(v));
    }
    let kind = header
        .kind
        .ok_or_else(|| FrameError::Malformed("no message \"type\"".into()))?;
    if !M::TYPES.contains(&kind.as_str()) {
        return Err(FrameError::UnknownType {
            sender: M::SENDER,
            kind: truncated(&kind),
        });
    }
    serde_json::from_slice(payload).map_err(|e| FrameError::InvalidMessage {
        kind,
        reason: e.to_string(),
    })
}

/// At most 64 characters of a peer-chosen string, for error messages and logs.
fn truncated(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Encodes `msg` as one frame (length prefix included). Fails only when the frame would
/// exceed [`MAX_FRAME_LEN`].
pub fn encode<M: Message>(msg: &M) -> Result<Vec<u8>, FrameError> {
    // A message serialises to `{"type":…,…}`; the version goes in front of its fields.
    let body = serde_json::to_vec(msg).map_err(|e| FrameError::InvalidMessage {
        kind: "outgoing".into(),
        reason: e.to_string(),
    })?;
    let fields = body
        .strip_prefix(b"{")
        .ok_or_else(|| FrameError::InvalidMessage {
            kind: "outgoing".into(),
            reason: "a message must serialise to a JSON object".into(),
        })?;
    let version = format!("{{\"v\":{PROTOCOL_VERSION},");
    let len = version.len() + fields.len();
    let mut out = Vec::with_capacity(HEADER_LEN + len);
    out.extend_from_slice(&frame_header(len)?);
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(fields);
    Ok(out)
}

fn frame_header(len: usize) -> Result<[u8; HEADER_LEN], FrameError> {
    let too_large = || FrameError::TooLarge {
        len: u64::try_from(len).unwrap_or(u64::MAX),
        max: MAX_FRAME_LEN,
    };
    if len > MAX_FRAME_LEN {
        return Err(too_large());
    }
    let len = u32::try_from(len).map_err(|_| too_large())?;
    Ok(len.to_be_bytes())
}

/// A profile version prepared once for many [`crate::ProfilePush`] frames: its text is
/// JSON-escaped once and shared, so a fleet-wide push costs one copy of the profile, not
/// one per device. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PreparedProfile {
    version: String,
    /// `"version":"…","profile":"…"}` — the end of every frame for this version.
    tail: Arc<[u8]>,
}

/// One [`crate::ProfilePush`] frame in two pieces: a small per-device head and the shared tail.
#[derive(Debug, Clone)]
pub struct ProfilePushFrame {
    pub head: Vec<u8>,
    pub tail: Arc<[u8]>,
}

impl ProfilePushFrame {
    /// The whole frame as one buffer (tests, small profiles).
    pub fn to_vec(&self) -> Vec<u8> {
        [self.head.as_slice(), &self.tail].concat()
    }
}

impl PreparedProfile {
    /// Escapes `profile` (canonical TOML) once. Fails when a frame carrying it would exceed
    /// [`MAX_FRAME_LEN`].
    pub fn new(version: &str, profile: &str) -> Result<Self, FrameError> {
        let fields = serde_json::json!({ "version": version, "profile": profile });
        let mut tail = serde_json::to_vec(&fields).map_err(|e| FrameError::InvalidMessage {
            kind: "profile_push".into(),
            reason: e.to_string(),
        })?;
        // `{"profile":…,"version":…}` → drop the `{`; the head supplies it and the seq.
        tail.remove(0);
        let prepared = PreparedProfile {
            version: version.to_owned(),
            tail: tail.into(),
        };
        prepared.frame(u64::MAX)?;
        Ok(prepared)
    }

    /// The version hash this profile carries.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The frame pushing this version as push `push_seq`.
    pub fn frame(&self, push_seq: u64) -> Result<ProfilePushFrame, FrameError> {
        let fields = format!(
            "{{\"v\":{PROTOCOL_VERSION},\"type\":\"profile_push\",\"push_seq\":{push_seq},"
        );
        let len = fields.len() + self.tail.len();
        let mut head = Vec::with_capacity(HEADER_LEN + fields.len());
        head.extend_from_slice(&frame_header(len)?);
        head.extend_from_slice(fields.as_bytes());
        Ok(ProfilePushFrame {
            head,
            tail: Arc::clone(&self.tail),
        })
    }
}

#[cfg(test)]
mod tests;
