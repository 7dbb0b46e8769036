//! Agent sessions end to end over real mutual TLS: revocation drops a live session within
//! a second; pushes from the durable outbox arrive while connected, are sent again after a
//! reconnect until answered and never after; reports are stored and acknowledged exactly
//! once; commands and heartbeats work; a newer connection replaces an older one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::agents::*;
use corral_controller::domain::{DeliveryState, Timestamp};
use corral_wire::{
    Ack, AgentMessage, CommandKind, CommandOutcome, CommandResult, ControllerMessage, Goodbye,
    StateReport,
};
use tokio::time::{Instant, timeout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_device_drops_its_live_session_within_a_second() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut conn, _) = agent.connect(0).await;
    assert!(ctl.gateway().is_online(&agent.device_id()));

    let started = Instant::now();
    ctl.gateway()
        .revoke_device(&agent.device_id(), "stolen", "test", Timestamp::now())
        .await
        .unwrap();
    let seen = timeout(Duration::from_secs(1), async {
        let mut seen = Vec::new();
        while let Ok(Some(msg)) = conn.recv().await {
            seen.push(msg);
        }
        seen
    })
    .await
    .expect("the session was still open a second after revocation");
    assert_eq!(
        seen,
        vec![ControllerMessage::Goodbye(Goodbye {
            reason: "the device was revoked".into()
        })]
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(!ctl.gateway().is_online(&agent.device_id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_another_process_closes_the_session_at_the_next_recheck() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut conn, _) = agent.connect(0).await;
    // Straight to the store, as `corral` in another process would: the gateway is not told.
    ctl.state
        .store
        .revoke_device(&agent.device_id(), "stolen", "cli", Timestamp::now())
        .await
        .unwrap();
    let seen = until_closed(&mut conn).await;
    assert!(
        matches!(&seen[..], [ControllerMessage::Goodbye(g)] if g.reason == "the certificate is no longer valid"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_arrives_while_connected_and_is_resent_until_answered() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let device = agent.device_id();
    let (mut conn, welcome) = agent.connect(0).await;
    assert_eq!(welcome.acked_agent_seq, 0);
    assert!(barrier(&mut conn).await.is_empty(), "nothing published yet");

    let v1 = ctl.publish("shop", "name = \"shop\"\n# v1\n").await;
    let push = next_push(&mut conn).await;
    assert_eq!(push.version, v1.as_str());
    assert_eq!(push.profile, "name = \"shop\"\n# v1\n");

    // Connection lost before the agent answered: the same push comes again.
    drop(conn);
    let (mut conn, _) = agent.connect(0).await;
    let again = next_push(&mut conn).await;
    assert_eq!(again, push);

    conn.send(&applied(1, &again)).await.unwrap();
    assert_eq!(
        recv(&mut conn).await,
        Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
    );
    let deliveries = ctl.state.store.deliveries(&device).await.unwrap();
    assert_eq!(deliveries.last().unwrap().state(), DeliveryState::Applied);
    assert!(
        ctl.state
            .store
            .pending_pushes(&device)
            .await
            .unwrap()
            .is_empty()
    );

    // Answered: a reconnect brings nothing.
    drop(conn);
    let (mut conn, welcome) = agent.connect(again.push_seq).await;
    assert_eq!(welcome.acked_agent_seq, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(barrier(&mut conn).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_the_agent_processed_but_never_answered_is_acknowledged_from_hello() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let device = agent.device_id();
    ctl.publish("shop", "name = \"shop\"\n").await;
    let (mut conn, _) = agent.connect(0).await;
    let push = next_push(&mut conn).await;
    drop(conn);
    // The agent acted on it (its own record says so) but the answer was lost.
    let (mut conn, _) = agent.connect(push.push_seq).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(barrier(&mut conn).await.is_empty(), "not sent again");
    assert!(
        ctl.state
            .store
            .pending_pushes(&device)
            .await
            .unwrap()
            .is_empty()
    );
    let deliveries = ctl.state.store.deliveries(&device).await.unwrap();
    assert_eq!(deliveries.last().unwrap().state(), DeliveryState::Delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_reports_are_acknowledged_every_time_and_stored_once() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let device = agent.device_id();
    ctl.publish("shop", "name = \"shop\"\n").await;
    let (mut conn, _) = agent.connect(0).await;
    let push = next_push(&mut conn).await;
    for _ in 0..2 {
        conn.send(&applied(1, &push)).await.unwrap();
        assert_eq!(
            recv(&mut conn).await,
            Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
        );
    }
    let report = AgentMessage::StateReport(StateReport {
        seq: 2,
        observed: serde_json::json!({ "contacts": 3 }),
    });
    for _ in 0..2 {
        conn.send(&report).await.unwrap();
        assert_eq!(
            recv(&mut conn).await,
            Some(ControllerMessage::Ack(Ack { agent_seq: 2 }))
        );
    }
    let record = ctl.state.store.device(&device).await.unwrap();
    assert_eq!(record.last_report_seq, 2);
    assert_eq!(
        record.observed_state,
        Some(serde_json::json!({ "contacts": 3 }))
    );
    let events = ctl.state.store.events(Some(&device), 0, 100).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "profile.applied")
            .count(),
        1
    );
    // An older report re-sent after a reconnect is acknowledged and ignored.
    drop(conn);
    let (mut conn, welcome) = agent.connect(push.push_seq).await;
    assert_eq!(welcome.acked_agent_seq, 2);
    conn.send(&applied(1, &push)).await.unwrap();
    assert_eq!(
        recv(&mut conn).await,
        Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
    );
    let events = ctl.state.store.events(Some(&device), 0, 100).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "profile.applied")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_is_delivered_and_its_result_recorded_once() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let device = agent.device_id();
    let (mut conn, _) = agent.connect(0).await;
    let (command_id, seq) = ctl
        .gateway()
        .queue_command(&device, CommandKind::CollectLogs, Timestamp::now())
        .await
        .unwrap();
    let command = match recv(&mut conn).await {
        Some(ControllerMessage::Command(c)) => c,
        other => panic!("expected a command, got {other:?}"),
    };
    assert_eq!(
        (command.command_id.as_str(), command.push_seq, command.kind),
        (command_id.as_str(), seq, CommandKind::CollectLogs)
    );
    let result = AgentMessage::CommandResult(CommandResult {
        seq: 1,
        push_seq: seq,
        command_id: command_id.clone(),
        outcome: CommandOutcome::Done,
        output: Some("--------- beginning of main\n".into()),
    });
    for _ in 0..2 {
        conn.send(&result).await.unwrap();
        assert_eq!(
            recv(&mut conn).await,
            Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
        );
    }
    let events = ctl.state.store.events(Some(&device), 0, 100).await.unwrap();
    let done: Vec<_> = events.iter().filter(|e| e.kind == "command.done").collect();
    assert_eq!(done.len(), 1);
    assert_eq!(
        done[0].detail["output"], "--------- beginning of main\n",
        "the collected logs reach the operator in the event"
    );
    assert!(
        ctl.state
            .store
            .pending_pushes(&device)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_answered_and_update_last_seen() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut conn, _) = agent.connect(0).await;
    let before = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(barrier(&mut conn).await.is_empty());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = ctl
            .state
            .store
            .device(&agent.device_id())
            .await
            .unwrap()
            .last_seen_at;
        if seen.is_some_and(|t| t > before) {
            break;
        }
        assert!(Instant::now() < deadline, "last seen never updated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_connection_of_the_same_device_replaces_the_older() {
    let ctl = spawn_controller().await;
    let agent = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut old, _) = agent.connect(0).await;
    let (mut new, _) = agent.connect(0).await;
    let seen = until_closed(&mut old).await;
    assert!(
        matches!(&seen[..], [ControllerMessage::Goodbye(g)] if g.reason.contains("replaced")),
        "{seen:?}"
    );
    // Pushes go to the live one.
    ctl.publish("shop", "name = \"shop\"\n").await;
    let push = next_push(&mut new).await;
    assert_eq!(push.push_seq, 1);
}
