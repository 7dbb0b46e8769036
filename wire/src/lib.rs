//! corral's agent↔controller wire protocol.
//!
//! Frames are a 4-byte big-endian length and a JSON object `{"v":1,"type":"…",…}`
//! ([`frame`]); the messages are plain serde DTOs ([`messages`]). The core does no I/O;
//! [`io`] drives frames over tokio streams, [`tls`] and [`client`] hold the agent's TLS
//! pieces (CA pinning for enrollment, mutual TLS for the gateway, key and CSR).
//! `docs/wire.md` describes the protocol for people.
//!
//! **Architecture invariant:** this crate knows nothing of the controller's or the agent's
//! domain types; both parse what they receive at their own boundary.
#![forbid(unsafe_code)]

pub mod frame;
pub mod fuzz;
pub mod messages;

#[cfg(feature = "tls")]
pub mod client;
#[cfg(feature = "io")]
pub mod io;
#[cfg(feature = "tls")]
pub mod tls;

pub use frame::{
    FrameError, HEADER_LEN, MAX_FRAME_LEN, PROTOCOL_VERSION, PreparedProfile, ProfilePushFrame,
    decode, encode, payload_len, split_frame,
};
pub use messages::*;
