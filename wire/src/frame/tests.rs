//! Frame encoding and decoding, data-driven: one `check` per input, the outcome as text.

use expect_test::{Expect, expect};

use super::*;
use crate::messages::{AgentMessage, ControllerMessage, EnrollResponse, ProfilePush};

fn frame(payload: &str) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(payload.as_bytes());
    out
}

#[track_caller]
fn check(payload: &str, expect: Expect) {
    let bytes = frame(payload);
    let outcome = match split_frame(&bytes, MAX_FRAME_LEN) {
        Ok(Some((p, _))) => match decode::<AgentMessage>(p) {
            Ok(m) => format!("{m:?}"),
            Err(e) => format!("error: {e}"),
        },
        Ok(None) => "incomplete".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    expect.assert_eq(&outcome);
}

#[test]
fn agent_frames() {
    check(r#"{"v":1,"type":"heartbeat"}"#, expect![[r#"Heartbeat"#]]);
    check(
        r#"{"type":"hello","v":1,"agent_version":"0.1.0","protocol_version":1,"last_applied_version":null,"last_push_seq_processed":3,"outbox_next_seq":9,"future_field":true}"#,
        expect![[
            r#"Hello(Hello { agent_version: "0.1.0", protocol_version: 1, last_applied_version: None, last_push_seq_processed: 3, outbox_next_seq: 9 })"#
        ]],
    );
    check(
        r#"{"v":1,"type":"apply_result","seq":4,"push_seq":2,"version":"abcd","outcome":{"status":"failed","errors":["no work profile"]}}"#,
        expect![[
            r#"ApplyResult(ApplyResult { seq: 4, push_seq: 2, version: "abcd", outcome: Failed { errors: ["no work profile"] }, actions: [] })"#
        ]],
    );
    check("", expect![[r#"error: malformed frame: empty frame"#]]);
    check(
        "garbage",
        expect!["error: malformed frame: not a JSON object"],
    );
    check(
        "[1,2]",
        expect!["error: malformed frame: not a JSON object"],
    );
    check(
        r#"{"type":"heartbeat"}"#,
        expect![[r#"error: malformed frame: no protocol version "v""#]],
    );
    check(
        r#"{"v":2,"type":"heartbeat"}"#,
        expect![[r#"error: unsupported protocol version 2 (this side speaks 1)"#]],
    );
    check(
        r#"{"v":1}"#,
        expect![[r#"error: malformed frame: no message "type""#]],
    );
    check(
        r#"{"v":1,"type":"welcome"}"#,
        expect![[r#"error: unknown agent message type "welcome""#]],
    );
    check(
        r#"{"v":1,"type":"state_report","seq":-1,"observed":{}}"#,
        expect!["error: malformed state_report message: invalid value: integer `-1`, expected u64"],
    );
    check(
        r#"{"v":1,"type":"hello"}"#,
        expect!["error: malformed hello message: missing field `agent_version`"],
    );
}

#[test]
fn the_limit_is_checked_on_the_header_alone() {
    let header = u32::try_from(MAX_FRAME_LEN + 1).unwrap().to_be_bytes();
    expect![[r#"Err(TooLarge { len: 8388609, max: 8388608 })"#]]
        .assert_eq(&format!("{:?}", split_frame(&header, MAX_FRAME_LEN)));
    expect![[r#"Err(TooLarge { len: 4294967295, max: 8388608 })"#]]
        .assert_eq(&format!("{:?}", split_frame(&[0xff; 4], MAX_FRAME_LEN)));
    assert_eq!(split_frame(&[0, 0, 1], MAX_FRAME_LEN), Ok(None));
    assert_eq!(split_frame(&[0, 0, 0, 5, b'{'], MAX_FRAME_LEN), Ok(None));
}

#[test]
fn every_message_round_trips_with_the_version_in_front() {
    let msg = ControllerMessage::Ack(crate::Ack { agent_seq: 7 });
    let bytes = encode(&msg).unwrap();
    expect![[r#"{"v":1,"type":"ack","agent_seq":7}"#]]
        .assert_eq(std::str::from_utf8(&bytes[4..]).unwrap());
    let (payload, used) = split_frame(&bytes, MAX_FRAME_LEN).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(decode::<ControllerMessage>(payload).unwrap(), msg);
    let refused = EnrollResponse::Refused(crate::Refused {
        reason: "no".into(),
    });
    let bytes = encode(&refused).unwrap();
    assert_eq!(decode::<EnrollResponse>(&bytes[4..]).unwrap(), refused);
}

#[test]
fn a_prepared_profile_push_decodes_as_the_message_it_stands_for() {
    let text = "name = \"shop\"\n[[contacts]]\nname = \"Zoë \\\"Z\\\"\"\n";
    let prepared = PreparedProfile::new("00112233445566778899", text).unwrap();
    let bytes = prepared.frame(42).unwrap().to_vec();
    let (payload, used) = split_frame(&bytes, MAX_FRAME_LEN).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    let expected = ControllerMessage::ProfilePush(ProfilePush {
        push_seq: 42,
        version: "00112233445566778899".into(),
        profile: text.into(),
    });
    assert_eq!(decode::<ControllerMessage>(payload).unwrap(), expected);
    assert_eq!(prepared.version(), "00112233445566778899");
}

#[test]
fn oversized_messages_are_refused_when_encoding() {
    let huge = "x".repeat(MAX_FRAME_LEN);
    assert!(matches!(
        PreparedProfile::new("00", &huge),
        Err(FrameError::TooLarge { .. })
    ));
    let push = ControllerMessage::ProfilePush(ProfilePush {
        push_seq: 1,
        version: "00".into(),
        profile: huge,
    });
    assert!(matches!(encode(&push), Err(FrameError::TooLarge { .. })));
}

#[test]
fn the_type_lists_match_the_enums() {
    use crate::messages::Message;
    for kind in AgentMessage::TYPES {
        let payload = format!(r#"{{"v":1,"type":"{kind}"}}"#);
        let err = decode::<AgentMessage>(payload.as_bytes());
        assert!(
            !matches!(err, Err(FrameError::UnknownType { .. })),
            "{kind}: {err:?}"
        );
        if let Err(FrameError::InvalidMessage { reason, .. }) = err {
            assert!(!reason.contains("unknown variant"), "{kind}: {reason}");
        }
    }
    for kind in ControllerMessage::TYPES {
        let payload = format!(r#"{{"v":1,"type":"{kind}"}}"#);
        if let Err(FrameError::InvalidMessage { reason, .. }) =
            decode::<ControllerMessage>(payload.as_bytes())
        {
            assert!(!reason.contains("unknown variant"), "{kind}: {reason}");
        }
    }
}
