//! Benchmark of provisioning (a measurement, not a test), issue 5's two figures:
//!
//! 1. **Parallel ÷ single**: wall time to provision 10 simulated phones at once (the
//!    station's `provision_all`, concurrency 10) divided by the wall time for one phone,
//!    with the real-device latency model on, through a private Debian adb server and over
//!    direct TCP. 1.0 would be perfect overlap; the target is ≤ 1.3.
//! 2. **Agent push throughput**: pushing an agent-sized file (16 MiB) to a simulated phone
//!    through the controller's `adb` module (adb_client, via the adb server and direct)
//!    divided by Debian `adb push` of the same file to the same phone through the same
//!    server; target ≥ 0.9. With the latency model (USB 2.0's 36 MB/s) and without it.
//!
//! Each figure is the median of `runs` fresh runs (new phones every time, so every run
//! does all nine steps). The agent is a stand-in that enrolls at once, padded to the
//! size of a release `corral-agent`, so the push costs what the real one costs and the
//! wall time is the station's and the phones', not a controller's. Method and results:
//! docs/benchmarks.md "Provisioning".
//!
//! `cargo bench -p corral-controller --bench provisioning [-- --quick]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/adb_support/mod.rs"]
mod adb_support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adb_support::devsim::AdbServer;
use adb_support::*;
use corral_controller::adb::{self, PhoneAddress, Station};
use corral_controller::provision::provision_all;
use corral_devsim::latency::LatencyModel;
use corral_devsim::simulator::SimulatorConfig;

/// Size of a release `corral-agent` for x86_64 (what the simulator runs), rounded up.
const AGENT_BYTES: usize = 8 * 1024 * 1024;
/// Size of the file of the push-throughput figure.
const PUSH_BYTES: usize = 16 * 1024 * 1024;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 1 } else { 3 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("load average at start: {}", load_average());
        for via in [Via::Server, Via::Tcp] {
            let single = median(runs, || provision(via, 1)).await;
            let ten = median(runs, || provision(via, 10)).await;
            println!(
                "provisioning via {via:?}, latency model on: 1 phone {single:.2?}, 10 phones {ten:.2?}, ratio {:.2}",
                ten.as_secs_f64() / single.as_secs_f64()
            );
        }
        for latency in [true, false] {
            let figures = push_throughput(latency, if quick { 2 } else { 5 }).await;
            println!(
                "push of {} MiB, latency model {}: adb push {:.1} MB/s, controller via server {:.1} MB/s (ratio {:.2}), controller direct {:.1} MB/s (ratio {:.2})",
                PUSH_BYTES / (1024 * 1024),
                if latency { "on" } else { "off" },
                figures.cli,
                figures.server,
                figures.server / figures.cli,
                figures.direct,
                figures.direct / figures.cli,
            );
        }
        println!("load average at end: {}", load_average());
    });
}

#[derive(Debug, Clone, Copy)]
enum Via {
    Server,
    Tcp,
}

async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(f().await);
    }
    times.sort();
    times[times.len() / 2]
}

/// A stand-in agent (see `adb_support::stand_in_agent`) padded after its `exit` to the
/// size of the real one; the shell never reads the padding.
fn padded_agent(dir: &Path) -> std::path::PathBuf {
    let path = stand_in_agent(dir);
    let mut script = std::fs::read(&path).unwrap();
    script.extend_from_slice(b"exit 0\n");
    let line = [b"#".repeat(79), b"\n".to_vec()].concat();
    while script.len() < AGENT_BYTES {
        script.extend_from_slice(&line);
    }
    std::fs::write(&path, script).unwrap();
    path
}

/// Wall time of provisioning `n` fresh phones at once, from the first command to the
/// last phone's result.
async fn provision(via: Via, n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let sim = Phones::start(SimulatorConfig {
        latency: LatencyModel::real(),
        ..sim_config(n, |_, _| {})
    })
    .await;
    let agent = padded_agent(dir.path());
    let store = store(dir.path()).await;
    let link = StandInLink(store_link(&store, "127.0.0.1:1", &"ab".repeat(32)));
    let server = matches!(via, Via::Server).then(AdbServer::start);
    let (station, phones): (Station, Vec<PhoneAddress>) = match &server {
        Some(server) => {
            for i in 0..n {
                server.connect(&sim.serial(i));
            }
            let station = Station {
                server: server.addr(),
                adb_path: Some(server.wrapper()),
                ..tcp_station(dir.path())
            };
            let listed = adb::list(&station).await.unwrap();
            assert_eq!(listed.len(), n);
            let phones = listed.into_iter().map(|p| p.address).collect();
            (station, phones)
        }
        None => (
            tcp_station(dir.path()),
            (0..n).map(|i| tcp(sim.addr(i))).collect(),
        ),
    };
    let spec = Arc::new(spec(station, Arc::new(link), &agent));
    let start = Instant::now();
    let results = provision_all(spec, phones, n, None).await;
    let elapsed = start.elapsed();
    for result in &results {
        assert!(result.outcome.is_ok(), "{:?}", result.outcome);
    }
    sim.stop().await;
    drop(server);
    elapsed
}

struct PushFigures {
    /// Debian `adb push` through the adb server, MB/s.
    cli: f64,
    /// The controller's `adb::push` through the same adb server, MB/s.
    server: f64,
    /// The controller's `adb::push` over direct TCP, MB/s.
    direct: f64,
}

/// Median MB/s (10^6 bytes per second) of `runs` pushes each way, alternating, to one
/// phone.
async fn push_throughput(latency: bool, runs: usize) -> PushFigures {
    let dir = tempfile::tempdir().unwrap();
    let sim = Phones::start(SimulatorConfig {
        latency: if latency {
            LatencyModel::real()
        } else {
            LatencyModel::none()
        },
        ..sim_config(1, |_, _| {})
    })
    .await;
    let server = AdbServer::start();
    let serial = sim.serial(0);
    server.connect(&serial);
    let data = Arc::new(adb_support::devsim::random_bytes(PUSH_BYTES, 16));
    let local = dir.path().join("corral-agent.bin");
    std::fs::write(&local, data.as_slice()).unwrap();
    let local = local.to_str().unwrap().to_owned();
    let via_server = Station {
        server: server.addr(),
        adb_path: Some(server.wrapper()),
        ..tcp_station(dir.path())
    };
    let direct = tcp_station(dir.path());
    let listed = adb::list(&via_server).await.unwrap();
    let server_address = listed[0].address.clone();
    let tcp_address = tcp(sim.addr(0));
    let target = "/data/local/tmp/bench.bin";
    let mb = PUSH_BYTES as f64 / 1e6;
    let (mut cli, mut through_server, mut through_tcp) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let (serial, local) = (serial.clone(), local.clone());
        let out = {
            let server = &server;
            tokio::task::block_in_place(|| server.adb(&["-s", &serial, "push", &local, target]))
        };
        assert!(out.status.success(), "{out:?}");
        cli.push(mb / start.elapsed().as_secs_f64());

        let start = Instant::now();
        adb::push(&via_server, &server_address, Arc::clone(&data), target)
            .await
            .unwrap();
        through_server.push(mb / start.elapsed().as_secs_f64());

        let start = Instant::now();
        adb::push(&direct, &tcp_address, Arc::clone(&data), target)
            .await
            .unwrap();
        through_tcp.push(mb / start.elapsed().as_secs_f64());
    }
    sim.stop().await;
    PushFigures {
        cli: median_f64(cli),
        server: median_f64(through_server),
        direct: median_f64(through_tcp),
    }
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
