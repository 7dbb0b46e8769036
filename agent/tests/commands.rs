//! The controller's commands against a simulated phone over ADB, through the keeper (the
//! part of the agent that acts on pushes and commands) with its real outbox: the result
//! each command leaves for the controller, and what the phone did.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral_agent::metrics::Metrics;
use corral_agent::outbox::Outbox;
use corral_agent::run::keeper::{Event, Keeper};
use corral_agent::shell::PhoneShell;
use corral_agent::state::StateDir;
use corral_wire::{AgentMessage, Command, CommandKind, CommandOutcome, CommandResult};
use support::TestPhone;
use support::controller::eventually;
use tokio::sync::{Notify, mpsc, watch};

/// A keeper (no profile applied) for `phone`, fed commands through the returned sender;
/// its results are read back from the outbox in `state`.
struct Agent {
    events: mpsc::Sender<Event>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    state: StateDir,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(phone: &TestPhone) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("corral"));
        state.create().unwrap();
        let (outbox, _) = Outbox::open(&state.outbox_dir()).unwrap();
        let shell = PhoneShell::new(phone.maker(), Duration::from_secs(60));
        let (keeper, _status) = Keeper::new(
            state.clone(),
            None,
            shell,
            Arc::new(Mutex::new(outbox)),
            Arc::new(Notify::new()),
            Arc::new(Metrics::default()),
        )
        .unwrap();
        let (events, events_rx) = mpsc::channel(4);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(keeper.run(events_rx, stopped));
        Agent {
            events,
            stop,
            task,
            state,
            _dir: dir,
        }
    }

    async fn command(&self, push_seq: u64, kind: CommandKind) {
        let command = Command {
            push_seq,
            command_id: format!("cmd-{push_seq}"),
            kind,
        };
        self.events.send(Event::Command(command)).await.unwrap();
    }

    /// The command results in the outbox, oldest first.
    fn results(&self) -> Vec<CommandResult> {
        let (mut outbox, _) = Outbox::open(&self.state.outbox_dir()).unwrap();
        outbox
            .take_unsent()
            .into_iter()
            .filter_map(|m| match m {
                AgentMessage::CommandResult(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    async fn stop(self) {
        self.stop.send_replace(true);
        drop(self.events);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_logs_reports_a_bounded_logcat_excerpt() {
    let phone = TestPhone::start().await;
    let agent = Agent::start(&phone);
    agent.command(1, CommandKind::CollectLogs).await;
    eventually("the logs collected", || {
        let n = agent.results().len();
        async move { n == 1 }
    })
    .await;
    let result = agent.results().remove(0);
    assert_eq!(result.outcome, CommandOutcome::Done);
    assert_eq!((result.push_seq, result.command_id.as_str()), (1, "cmd-1"));
    let logs = result.output.unwrap();
    assert!(
        logs.starts_with("--------- beginning of system\n"),
        "{logs}"
    );
    assert!(
        logs.contains(" I SystemServer: Entered the Android system server!\n"),
        "{logs}"
    );
    assert!(logs.len() <= corral_agent::run::keeper::LOG_BYTES);
    agent.stop().await;
    phone.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reboot_reboots_the_phone_once_and_is_recorded_before_it_goes_down() {
    let phone = TestPhone::start().await;
    let boots = phone.phone.boot_count();
    let agent = Agent::start(&phone);
    agent.command(1, CommandKind::Reboot).await;
    eventually("the phone rebooted", || {
        let n = phone.phone.boot_count();
        async move { n == boots + 1 }
    })
    .await;
    eventually("the reboot recorded", || {
        let results = agent.results();
        async move { results.len() == 1 }
    })
    .await;
    let result = agent.results().remove(0);
    assert_eq!(result.outcome, CommandOutcome::Done, "{result:?}");
    // The same command again (a re-sent push) is not acted on: one reboot, one result.
    agent.command(1, CommandKind::Reboot).await;
    // A later command runs, so the repeated one was seen and skipped by then.
    agent.command(2, CommandKind::CollectLogs).await;
    eventually("the next command answered", || {
        let n = agent.results().len();
        async move { n == 2 }
    })
    .await;
    assert_eq!(phone.phone.boot_count(), boots + 1);
    // The log restarted with the boot (logd keeps it in memory).
    let logs = agent.results()[1].output.clone().unwrap();
    assert!(!logs.contains("ShutdownThread"), "{logs}");
    agent.stop().await;
    phone.stop().await;
}
