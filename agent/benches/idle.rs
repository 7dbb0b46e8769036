//! Idle cost and reconcile cost of the agent. `cargo bench -p corral-agent --bench idle`.
//!
//! 1. **Reconcile cost:** the butcher-shop profile applied to a fresh simulated phone with
//!    a real phone's latencies (`LatencyModel::real()`), then a steady-state reconcile:
//!    wall time and shell round trips of each.
//! 2. **Idle cost:** the real `corral-agent` binary (`run --adb …`), enrolled with an
//!    in-process controller and started on a state directory whose profile is applied,
//!    left alone for `CORRAL_IDLE_SECS` (default 60): resident memory, threads, wake-ups
//!    (context switches of all its threads, `/proc/<pid>/task/*/status`) and CPU time
//!    (`/proc/<pid>/stat`) during that window.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corral_agent::observe::Observer;
use corral_agent::reconcile::reconcile;
use corral_agent::run::{self, Options};
use corral_agent::state::StateDir;
use corral_devsim::latency::LatencyModel;
use corral_devsim::simulator::SimulatorConfig;
use support::controller::{Controller, eventually};
use support::{TestPhone, butcher_shop};
use tokio::sync::watch;

fn status_field(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Context switches of every thread of `pid`.
fn wakeups(pid: u32) -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let text = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for key in ["voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"] {
                total += text
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

async fn reconcile_cost() {
    let phone = TestPhone::start_with(SimulatorConfig {
        latency: LatencyModel::real(),
        ..SimulatorConfig::default()
    })
    .await;
    let target = butcher_shop();
    let mut shell = phone.shell();
    let mut observer = Observer::new();
    let t = Instant::now();
    let first = reconcile(&mut shell, &mut observer, &target).await;
    assert!(first.clean(), "{:?}", first.errors());
    println!(
        "first apply (fresh phone, real latency): {:.1} s, {} round trips, {} actions",
        t.elapsed().as_secs_f64(),
        first.round_trips,
        first.done.len()
    );
    let t = Instant::now();
    let again = reconcile(&mut shell, &mut observer, &target).await;
    assert!(again.found.actions.is_empty());
    println!(
        "steady-state reconcile (real latency): {:.2} s, {} round trip(s)",
        t.elapsed().as_secs_f64(),
        again.round_trips
    );
    phone.stop().await;
}

async fn idle_cost(idle: u64) {
    let ctl = Controller::start().await;
    let (token, version) = ctl.publish_and_token().await;
    let phone = TestPhone::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("corral"));
    let device = ctl.enroll(&phone, &state, &token).await;
    // Apply the profile in-process first.
    let (stop, stopped) = watch::channel(false);
    let agent = tokio::spawn(run::run(
        Options::new(state.clone(), phone.maker()),
        stopped,
    ));
    let store = ctl.state.store.clone();
    eventually("the profile applied", || {
        let (store, device, version) = (store.clone(), device.clone(), version.clone());
        async move {
            store
                .device(&device)
                .await
                .is_ok_and(|d| d.applied_version.map(|v| v.to_string()) == Some(version))
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send_replace(true);
    agent.await.unwrap().unwrap();

    // The binary on that state directory.
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral-agent"))
        .args(["run", "--state-dir"])
        .arg(state.root())
        .args(["--adb", &phone.addr.to_string()])
        .env("RUST_LOG", "error")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    eventually("the binary connected", || {
        let online = ctl.state.gateway.is_online(&device);
        async move { online }
    })
    .await;
    // Its start-up reconcile and the reports it sends, then quiet; tokio's blocking
    // threads (the shell runs there) exit after 10 s idle, and a thread that exits takes
    // its switch counts with it, so the window starts after that.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let threads0 = status_field(pid, "Threads:");
    let (w0, c0) = (wakeups(pid), cpu_ticks(pid));
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let secs = t0.elapsed().as_secs_f64();
    let (w1, c1) = (wakeups(pid), cpu_ticks(pid));
    let rss = status_field(pid, "VmRSS:");
    let hwm = status_field(pid, "VmHWM:");
    let threads = status_field(pid, "Threads:");
    let online = ctl.state.gateway.is_online(&device);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "corral-agent binary, idle, connected={online}, profile heartbeat 60 s, reconcile 15 min:"
    );
    println!("  window    {secs:.0} s");
    let woke = w1.saturating_sub(w0);
    println!(
        "  memory    RSS {rss} kB (peak {hwm} kB), threads {threads0} at the start, {threads} at the end"
    );
    println!(
        "  wake-ups  {woke} ({:.3}/s; context switches of all threads)",
        woke as f64 / secs
    );
    println!(
        "  CPU       {} ticks of 10 ms ({:.3}% of one core)",
        c1 - c0,
        (c1 - c0) as f64 / secs
    );
    phone.stop().await;
}

fn main() {
    corral_devsim::phone::run_shim_if_invoked();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let idle: u64 = std::env::var("CORRAL_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reconcile_cost().await;
        idle_cost(idle).await;
    });
}
