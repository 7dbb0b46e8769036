//! Malformed frames from an authenticated agent — an oversized length, garbage JSON, an
//! unknown type, a wrong protocol version, a report before hello — close that connection
//! with a logged reason (also sent in Goodbye), while the gateway keeps serving others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::agents::*;
use corral_wire::{AgentMessage, ControllerMessage, StateReport};
use tokio::io::AsyncWriteExt;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// Sends `bytes` after a successful hello; returns the Goodbye reason.
async fn closed_by(agent: &TestAgent, bytes: &[u8]) -> String {
    let (mut conn, _) = agent.connect(0).await;
    conn.stream_mut().write_all(bytes).await.unwrap();
    conn.stream_mut().flush().await.unwrap();
    match &until_closed(&mut conn).await[..] {
        [ControllerMessage::Goodbye(g)] => g.reason.clone(),
        other => panic!("expected a goodbye and the end, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_that_connection_only_with_a_logged_reason() {
    let ctl = spawn_controller().await;
    let bad = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let good = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut bystander, _) = good.connect(0).await;

    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "oversized",
            u32::MAX.to_be_bytes().to_vec(),
            "exceeds the limit of 8388608 bytes",
        ),
        (
            "garbage",
            frame(b"\x00\xffnot json"),
            "malformed frame: not a JSON object",
        ),
        (
            "unknown type",
            frame(br#"{"v":1,"type":"format_disk"}"#),
            "unknown agent message type \"format_disk\"",
        ),
        (
            "wrong version",
            frame(br#"{"v":9,"type":"heartbeat"}"#),
            "unsupported protocol version 9",
        ),
        (
            "bad fields",
            frame(br#"{"v":1,"type":"state_report","seq":"one"}"#),
            "malformed state_report message",
        ),
    ];
    for (case, bytes, expected) in cases {
        let reason = closed_by(&bad, &bytes).await;
        assert!(reason.contains(expected), "{case}: {reason}");
        // The other agent's session is untouched.
        bystander.send(&AgentMessage::Heartbeat {}).await.unwrap();
        assert_eq!(
            recv(&mut bystander).await,
            Some(ControllerMessage::HeartbeatAck {}),
            "{case}"
        );
    }
    let logged = log_lines(&[
        "Agent session ended",
        &bad.enrolled.device_id,
        "protocol violation",
    ]);
    assert_eq!(logged.len(), 5, "{logged:#?}");
    assert!(
        logged.iter().any(|l| l.contains("exceeds the limit")),
        "{logged:#?}"
    );

    // A new connection of the same agent is served again.
    let (_conn, welcome) = bad.connect(0).await;
    assert_eq!(welcome.device_id, bad.enrolled.device_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_frame_must_be_hello() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let mut conn = agent.connect_raw().await.unwrap();
    conn.send(&AgentMessage::StateReport(StateReport {
        seq: 1,
        observed: serde_json::json!({}),
    }))
    .await
    .unwrap();
    match &until_closed(&mut conn).await[..] {
        [ControllerMessage::Goodbye(g)] => assert_eq!(g.reason, "the first frame must be hello"),
        other => panic!("{other:?}"),
    }
    let record = ctl.state.store.device(&agent.device_id()).await.unwrap();
    assert_eq!(record.last_report_seq, 0, "nothing recorded before hello");
    conn = agent.connect_raw().await.unwrap();
    conn.send(&hello(0)).await.unwrap();
    conn.send(&hello(0)).await.unwrap();
    let seen = until_closed(&mut conn).await;
    assert!(
        matches!(&seen[..], [ControllerMessage::Welcome(_), ControllerMessage::Goodbye(g)] if g.reason == "hello sent twice"),
        "{seen:?}"
    );
}
