//! The fuzz entry point: any bytes, read as a stream of frames by every decoder.
//!
//! Owns: [`frames`], shared by the cargo-fuzz target (`wire/fuzz`) and the deterministic
//! mutation test in `cargo test`. A panic here is a bug.
//! Must never: do I/O.

use crate::frame::{self, MAX_FRAME_LEN};
use crate::messages::{AgentMessage, ControllerMessage, EnrollRequest, EnrollResponse, Message};

/// Splits `data` into frames as a reader would and decodes each payload as every message
/// type. Whatever decodes must encode again and decode to the same message.
pub fn frames(data: &[u8]) {
    let mut rest = data;
    // Also try a small limit, as the enrollment listener uses.
    let _ = frame::split_frame(rest, 64 * 1024);
    while let Ok(Some((payload, consumed))) = frame::split_frame(rest, MAX_FRAME_LEN) {
        check::<AgentMessage>(payload);
        check::<ControllerMessage>(payload);
        check::<EnrollRequest>(payload);
        check::<EnrollResponse>(payload);
        rest = rest.get(consumed..).unwrap_or_default();
    }
}

fn check<M: Message + PartialEq + std::fmt::Debug>(payload: &[u8]) {
    let Ok(message) = frame::decode::<M>(payload) else {
        return;
    };
    let Ok(encoded) = frame::encode(&message) else {
        // Only a message over the limit fails to encode, and one decoded from a frame
        // within the limit grows by at most the escapes serde adds; that is allowed.
        return;
    };
    let again = frame::split_frame(&encoded, usize::MAX)
        .ok()
        .flatten()
        .map(|(payload, _)| frame::decode::<M>(payload));
    match again {
        Some(Ok(decoded)) => {
            // Floats may move by one unit in the last place through JSON; compare the
            // encodings of the two decodes instead of the values.
            if decoded != message {
                let first = frame::encode(&decoded).ok();
                let second = frame::decode::<M>(encoded.get(4..).unwrap_or_default())
                    .ok()
                    .and_then(|m| frame::encode(&m).ok());
                assert_eq!(first, second, "re-encoding is not stable");
            }
        }
        other => panic!("a decoded message did not survive re-encoding: {other:?}"),
    }
}
