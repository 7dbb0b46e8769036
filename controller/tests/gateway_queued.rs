//! Pushes handed to live sessions straight from memory after the transaction that queued
//! them commits (`Gateway::send_queued`), with their bookkeeping (lease, attempts) recorded
//! afterwards: they arrive at once, never twice on one connection, offline devices get
//! theirs on connecting, and a controller killed right after the send loses nothing —
//! the push is sent again on the next connection and applied once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::agents::*;
use corral_controller::domain::DeliveryState;
use corral_wire::{Ack, ControllerMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_pushes_go_to_online_sessions_at_once_and_to_offline_ones_on_connect() {
    let ctl = spawn_controller().await;
    let online = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let offline = TestAgent::enroll(&ctl, &ctl.token("shop").await).await;
    let (mut conn, _) = online.connect(0).await;
    assert!(barrier(&mut conn).await.is_empty());

    let publication = ctl.publish_in_store("shop", "name = \"shop\"\n").await;
    assert_eq!(publication.queued.len(), 2);
    ctl.gateway().send_queued(&publication.queued);
    // Told twice (from memory and through the outbox): sent once on this connection.
    ctl.gateway().notify(&online.device_id());
    let push = next_push(&mut conn).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(barrier(&mut conn).await.is_empty(), "sent once");
    conn.send(&applied(1, &push)).await.unwrap();
    assert_eq!(
        recv(&mut conn).await,
        Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
    );
    let delivery = ctl
        .state
        .store
        .deliveries(&online.device_id())
        .await
        .unwrap();
    assert_eq!(delivery.last().unwrap().state(), DeliveryState::Applied);

    let (mut late, _) = offline.connect(0).await;
    let theirs = next_push(&mut late).await;
    assert_eq!(theirs.version, push.version);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Test timings with a short lease: whether or not the first controller's bookkeeping
/// committed before it died, the second one may send the push again soon.
fn short_lease() -> corral_controller::gateway::GatewayOptions {
    corral_controller::gateway::GatewayOptions {
        lease: Duration::from_millis(300),
        ..test_options()
    }
}

#[test]
fn a_push_sent_from_memory_is_resent_after_a_crash_and_applied_once() {
    // The first controller runs on its own runtime: dropping that runtime stops every one
    // of its tasks wherever it is, as a killed process would.
    let first = runtime();
    let ctl = first.block_on(spawn_controller_in(
        Arc::new(tempfile::tempdir().unwrap()),
        short_lease(),
    ));
    let test = runtime();
    let token = first.block_on(ctl.token("shop"));
    let mut agent = test.block_on(TestAgent::enroll(&ctl, &token));
    let device = agent.device_id();
    let (mut conn, _) = test.block_on(agent.connect(0));
    assert!(test.block_on(barrier(&mut conn)).is_empty());

    let publication = first.block_on(ctl.publish_in_store("shop", "name = \"shop\"\n"));
    ctl.gateway().send_queued(&publication.queued);
    let push = test.block_on(next_push(&mut conn));
    assert_eq!(push.push_seq, publication.queued[0].seq);

    // Killed right after the send, the agent not having acted yet: its bookkeeping may or
    // may not have committed (`gateway_store.rs` pins that a push never recorded sent is
    // claimable like any pending one).
    first.shutdown_background();
    drop(conn);

    // A new controller on the same data: the push comes again and is applied once.
    let ctl2 = test.block_on(spawn_controller_in(Arc::clone(&ctl.dir), short_lease()));
    agent.gateway_addr = ctl2.gateway_addr;
    test.block_on(async {
        let (mut conn, _) = agent.connect(0).await;
        let again = next_push(&mut conn).await;
        assert_eq!(again, push);
        conn.send(&applied(1, &again)).await.unwrap();
        assert_eq!(
            recv(&mut conn).await,
            Some(ControllerMessage::Ack(Ack { agent_seq: 1 }))
        );
        let store = &ctl2.state.store;
        let deliveries = store.deliveries(&device).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].state(), DeliveryState::Applied);
        assert!(store.pending_pushes(&device).await.unwrap().is_empty());
        let applied_events = store
            .events(Some(&device), 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "profile.applied")
            .count();
        assert_eq!(applied_events, 1);

        // Answered: never sent again.
        drop(conn);
        let (mut conn, _) = agent.connect(again.push_seq).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(barrier(&mut conn).await.is_empty());
    });
    let _inside = test.enter();
    drop(ctl2);
    drop(ctl);
}
