//! Benchmark of the console's fleet page (a measurement, not a test), issue 6's figure:
//! with 10,000 phones the page answers p99 ≤ 50 ms at 100 concurrent clients on loopback.
//!
//! Method: a fresh SQLite data directory is seeded *through the store* — five groups with
//! a profile each (one group with a staged rollout), three published profiles, phones
//! enrolled with one-time tokens into the groups (every tenth with a profile of its own),
//! each with its model and Android release, a report (applied version, drift on every
//! seventh), and a last-seen time (a third within the online window), plus phones being
//! provisioned and failed. The real console (`serve::router_with`, default options) is
//! served on `127.0.0.1:0` in a 2-worker runtime; the admin logs in through `POST
//! /login`, and `clients` tasks in a second 2-worker runtime, each on one keep-alive
//! HTTP/1.1 connection with a session cookie (one session per ten clients), request in
//! turn the default page, a search, a filter (group and connection) and the last page
//! sorted by last seen, descending, back to back (closed loop, no think time), until
//! `requests` answers have come back. Every answer must be a 200 with the fleet table.
//! Latency is measured per request by the client, from writing the request to the last
//! byte of the body.
//!
//! `cargo bench --workspace --bench fleet_page [-- --phones N --clients N --requests N
//! --no-page-cache --no-session-cache]`
//! Results: docs/benchmarks.md "Fleet page".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_controller::config::{Config, Overrides};
use corral_controller::console::ConsoleOptions;
use corral_controller::domain::{
    ApplyOutcome, ApplyResult, AssignmentTarget, CertSerial, DeviceId, DeviceName, DeviceReport,
    EnrollmentBinding, EnrollmentTokenSecret, GroupName, KeyHash, NewCertificate, NewDevice,
    ProfileName, ProvisionStep, RunOutcome, StepOutcome, Timestamp, VersionHash, sha256_hex,
};
use corral_controller::serve;
use corral_controller::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub phones: usize,
    pub clients: usize,
    pub requests: usize,
    /// The console's 1 s cache of a fleet page's data (`--no-page-cache` turns it off).
    pub page_cache: bool,
    /// The console's 1 s session cache (`--no-session-cache` turns it off).
    pub session_cache: bool,
}

/// The four requests every client makes in turn. The last page is filled in once the
/// page count is known.
fn paths(phones: usize) -> [String; 4] {
    let last = phones.div_ceil(50).max(1);
    [
        "/fleet".to_owned(),
        "/fleet?q=phone+01".to_owned(),
        "/fleet?group=north&connection=offline".to_owned(),
        format!("/fleet?sort=last_seen&dir=desc&page={last}"),
    ]
}

/// Latency figures of one kind of request (or of all).
#[derive(Debug, Clone)]
pub struct Figures {
    pub what: String,
    pub count: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub seeded_in: Duration,
    pub wall: Duration,
    pub throughput: f64,
    pub all: Figures,
    pub by_path: Vec<Figures>,
}

fn figures(what: &str, mut values: Vec<Duration>) -> Figures {
    values.sort();
    let at = |q: f64| {
        let i = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len().max(1)) - 1;
        values.get(i).copied().unwrap_or_default()
    };
    Figures {
        what: what.to_owned(),
        count: values.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: values.last().copied().unwrap_or_default(),
    }
}

const GROUPS: [&str; 5] = ["north", "south", "east", "west", "depot"];
const PROFILES: [&str; 3] = ["base", "kiosk", "courier"];

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn version_of(text: &str) -> VersionHash {
    VersionHash::parse(&format!("sha256:{}", &sha256_hex(text.as_bytes())[..16])).unwrap()
}

/// Seeds `phones` phones and their surroundings through the store.
pub async fn seed(store: &Store, phones: usize) {
    let now = Timestamp::now();
    let mut versions = Vec::new();
    for name in PROFILES {
        let text = format!("name = \"{name}\"\n");
        let version = version_of(&text);
        store
            .publish_profile_version(
                &ProfileName::parse(name).unwrap(),
                &version,
                &text,
                "bench",
                now,
            )
            .await
            .unwrap();
        versions.push(version);
    }
    for (i, group) in GROUPS.iter().enumerate() {
        store
            .assign_profile(
                &AssignmentTarget::Group(GroupName::parse(group).unwrap()),
                &ProfileName::parse(PROFILES[i % PROFILES.len()]).unwrap(),
                "bench",
                now,
            )
            .await
            .unwrap();
    }
    let models = [("Pixel 8", "14"), ("Galaxy A54", "13"), ("Pixel 6a", "15")];
    for i in 0..phones {
        let group = GroupName::parse(GROUPS[i % GROUPS.len()]).unwrap();
        let token = EnrollmentTokenSecret::generate();
        store
            .create_enrollment_token(
                &token,
                &EnrollmentBinding::Group(group.clone()),
                now.plus(Duration::from_secs(3600)),
                Some("bench"),
                now,
            )
            .await
            .unwrap();
        let device = NewDevice {
            id: DeviceId::generate(),
            name: DeviceName::parse(&format!("phone {i:05}")).unwrap(),
            serial: Some(format!("SER{i:06}")),
        };
        let certificate = NewCertificate {
            serial: CertSerial::parse(&random_hex(16)).unwrap(),
            key_hash: KeyHash::parse(&random_hex(32)).unwrap(),
            not_before: now,
            not_after: now.plus(Duration::from_secs(90 * 86_400)),
        };
        store
            .enroll_device(&token, &device, &certificate, now)
            .await
            .unwrap();
        let (model, release) = models[i % models.len()];
        store
            .record_device_info(&device.id, model, release)
            .await
            .unwrap();
        if i % 10 == 3 {
            store
                .assign_profile(
                    &AssignmentTarget::Device(device.id.clone()),
                    &ProfileName::parse("courier").unwrap(),
                    "bench",
                    now,
                )
                .await
                .unwrap();
        }
        let applied = &versions[(i % GROUPS.len()) % PROFILES.len()];
        let report = DeviceReport {
            seq: 1,
            observed_state: Some(serde_json::json!({ "work_profile": true })),
            drift: (i % 7 == 0).then(|| serde_json::json!([{ "setting": "backup" }])),
            applied: vec![ApplyResult {
                version: applied.clone(),
                outcome: ApplyOutcome::Applied,
            }],
        };
        store.record_report(&device.id, &report, now).await.unwrap();
        // A third seen just now, the rest minutes to days ago.
        let ago = if i % 3 == 0 {
            5
        } else {
            600 * (i as u64 % 500)
        };
        store
            .touch_device(&device.id, now.minus(Duration::from_secs(ago)))
            .await
            .unwrap();
    }
    let profile = ProfileName::parse("base").unwrap();
    for i in 0..6 {
        let run = store
            .start_provisioning_run(&format!("NEW{i:04}"), &profile, "provisioning", now)
            .await
            .unwrap();
        store
            .start_provisioning_step(run, ProvisionStep::Preflight, now)
            .await
            .unwrap();
        if i % 2 == 0 {
            store
                .finish_provisioning_step(
                    run,
                    ProvisionStep::Preflight,
                    StepOutcome::Failed,
                    None,
                    Some("a device owner is set"),
                    now,
                )
                .await
                .unwrap();
            store
                .finish_provisioning_run(
                    run,
                    RunOutcome::Failed,
                    Some("preflight: a device owner is set"),
                    None,
                    "provisioning",
                    now,
                )
                .await
                .unwrap();
        }
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends a request and reads the answer: status, headers (lower-case names), body.
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.stream.write_all(request.as_bytes()).await.unwrap();
        self.buffer.clear();
        let end = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            self.read_more().await;
        };
        let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .expect("answers carry a Content-Length");
        while self.buffer.len() < end + length {
            self.read_more().await;
        }
        let body = String::from_utf8_lossy(&self.buffer[end..end + length]).into_owned();
        (status, headers, body)
    }

    async fn read_more(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        self.buffer.extend_from_slice(&chunk[..n]);
    }
}

fn cookies(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next().map(str::to_owned))
        .collect()
}

/// Logs in as `name` and returns the `Cookie` header value of the session.
async fn log_in(addr: SocketAddr, name: &str, password: &str) -> String {
    let mut client = Client::connect(addr).await;
    let (_, headers, page) = client.call("GET", "/login", &[], "").await;
    let login_cookie = cookies(&headers).join("; ");
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &page[at..at + page[at..].find('"').unwrap()];
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", csrf)
        .append_pair("name", name)
        .append_pair("password", password)
        .finish();
    let (status, headers, _) = client
        .call(
            "POST",
            "/login",
            &[
                ("Cookie", &login_cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
        .await;
    assert_eq!(status, 303, "login");
    cookies(&headers)
        .into_iter()
        .filter(|c| c.starts_with("corral-session="))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Seeds a fresh data directory, serves the console and measures. `progress` prints.
pub fn run(plan: Plan, progress: bool) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, admin, seeded_in) = server.block_on(async {
        let env = |key: &str| match key {
            "CORRAL_GATEWAY_LISTEN" | "CORRAL_ENROLLMENT_LISTEN" => Some("127.0.0.1:0".to_owned()),
            _ => None,
        };
        let config = Config::load(dir.path(), &Overrides::default(), &env).unwrap();
        let (state, admin) = serve::open(config).await.unwrap();
        let admin = admin.expect("a fresh data directory creates the first admin");
        let started = Instant::now();
        if progress {
            eprintln!("seeding {} phones through the store…", plan.phones);
        }
        seed(&state.store, plan.phones).await;
        let seeded_in = started.elapsed();
        if progress {
            eprintln!("seeded in {:.1} s", seeded_in.as_secs_f64());
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut options = ConsoleOptions::default();
        if !plan.page_cache {
            options.fleet_cache_ttl = Duration::ZERO;
        }
        if !plan.session_cache {
            options.session_cache_ttl = Duration::ZERO;
        }
        let app =
            serve::router_with(state, options).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (
            addr,
            (admin.name.to_string(), admin.password.reveal().to_owned()),
            seeded_in,
        )
    });
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = clients.block_on(async move {
        let sessions = plan.clients.div_ceil(10).max(1);
        let mut cookies = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            cookies.push(log_in(addr, &admin.0, &admin.1).await);
        }
        let paths = Arc::new(paths(plan.phones));
        // Warm-up: every path once, checked.
        let mut warm = Client::connect(addr).await;
        for path in paths.iter() {
            let (status, _, body) = warm.call("GET", path, &[("Cookie", &cookies[0])], "").await;
            assert_eq!(status, 200, "{path}: {body}");
            assert!(body.contains("<table class=\"fleet\""), "{path}");
        }
        let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(plan.requests));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..plan.clients {
            let cookie = cookies[c % sessions].clone();
            let paths = Arc::clone(&paths);
            let remaining = Arc::clone(&remaining);
            tasks.spawn(async move {
                let mut client = Client::connect(addr).await;
                let mut measured: Vec<(usize, Duration)> = Vec::new();
                let mut turn = c;
                while remaining
                    .fetch_update(
                        std::sync::atomic::Ordering::Relaxed,
                        std::sync::atomic::Ordering::Relaxed,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
                {
                    let which = turn % paths.len();
                    turn += 1;
                    let sent = Instant::now();
                    let (status, _, body) = client
                        .call("GET", &paths[which], &[("Cookie", &cookie)], "")
                        .await;
                    let took = sent.elapsed();
                    assert_eq!(status, 200, "{}: {body}", paths[which]);
                    measured.push((which, took));
                }
                measured
            });
        }
        let mut all = Vec::with_capacity(plan.requests);
        while let Some(done) = tasks.join_next().await {
            all.extend(done.unwrap());
        }
        let wall = started.elapsed();
        let by_path = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                figures(
                    p,
                    all.iter()
                        .filter(|(w, _)| *w == i)
                        .map(|(_, d)| *d)
                        .collect(),
                )
            })
            .collect();
        Report {
            seeded_in,
            wall,
            throughput: all.len() as f64 / wall.as_secs_f64(),
            all: figures("all", all.iter().map(|(_, d)| *d).collect()),
            by_path,
        }
    });
    drop(clients);
    server.shutdown_timeout(Duration::from_secs(1));
    report
}

/// The report as the bench prints it.
pub fn print(plan: &Plan, report: &Report) {
    println!(
        "fleet page: {} phones, {} clients, {} requests in {:.2} s → {:.0} requests/s (seeded in {:.1} s)",
        plan.phones,
        plan.clients,
        report.all.count,
        report.wall.as_secs_f64(),
        report.throughput,
        report.seeded_in.as_secs_f64()
    );
    for f in std::iter::once(&report.all).chain(report.by_path.iter()) {
        println!(
            "  {:<45} n={:<6} p50 {:>7.2?}  p95 {:>7.2?}  p99 {:>7.2?}  max {:>7.2?}",
            f.what, f.count, f.p50, f.p95, f.p99, f.max
        );
    }
}

/// The machine's load average, for the record.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[allow(dead_code)]
fn main() {
    let mut plan = Plan {
        phones: 10_000,
        clients: 100,
        requests: 20_000,
        page_cache: true,
        session_cache: true,
    };
    plan.page_cache = !std::env::args().any(|a| a == "--no-page-cache");
    plan.session_cache = !std::env::args().any(|a| a == "--no-session-cache");
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        let value = || pair[1].parse().expect("a number");
        match pair[0].as_str() {
            "--phones" => plan.phones = value(),
            "--clients" => plan.clients = value(),
            "--requests" => plan.requests = value(),
            _ => {}
        }
    }
    println!(
        "load average at start: {} (page cache {}, session cache {})",
        load_average(),
        if plan.page_cache { "on" } else { "off" },
        if plan.session_cache { "on" } else { "off" }
    );
    let report = run(plan, true);
    print(&plan, &report);
    println!("load average at end: {}", load_average());
    println!(
        "target p99 ≤ 50 ms: {}",
        if report.all.p99 <= Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        }
    );
}
