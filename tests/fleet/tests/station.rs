//! The station as an operator runs it: `corral enroll --all` as a process against a real
//! `corral serve` and simulated phones (through a private Debian adb server and directly
//! over TCP), `corral devices --json`, and `corral demo` started, logged into, stopped
//! with SIGTERM and started again. What the phones hold is checked with `adb shell`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use corral_fleet_tests::binaries::Binary;
use corral_fleet_tests::controller::corral;
use corral_fleet_tests::process::Process;
use corral_fleet_tests::shop::{self, CONTACTS, PROFILE};
use corral_fleet_tests::{Fleet, Latency};

/// `corral enroll --all` against the fleet's controller, as its admin, with the fleet's
/// adb server and the real agent for the simulated phones' ABI; `connect` phones directly.
fn enroll(fleet: &Fleet, connect: &[String]) -> Output {
    let adb = fleet.phones.adb();
    let mut cmd = corral();
    cmd.env("CORRAL_API_TOKEN", &fleet.api().token)
        .args(["enroll", "--all", "--profile", PROFILE, "--controller"])
        .arg(format!("http://{}", fleet.api().addr))
        .args(["--adb-server", &adb.addr().to_string()])
        .args(["--adb", &adb.wrapper()])
        .arg("--adb-key")
        .arg(fleet.phones.adb_key())
        .arg("--agent")
        .arg(format!("arm64-v8a={}", Binary::Agent.path().display()))
        .args(["--concurrency", "10", "--enroll-timeout", "120"]);
    for addr in connect {
        cmd.args(["--connect", addr]);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_agent_runs_enrolled(fleet: &Fleet, i: usize) {
    let serial = &fleet.phones.serials()[i];
    let pid = fleet.phones.shell(i, "pidof corral-agent");
    assert!(
        pid.trim().parse::<u32>().is_ok(),
        "{serial}: corral-agent is not running: {pid:?}"
    );
    let config = fleet
        .phones
        .shell(i, "cat /data/local/tmp/corral/state/config.toml");
    assert!(
        config.contains("device_id = \""),
        "{serial}: not enrolled: {config}"
    );
}

#[test]
fn enroll_all_provisions_ten_phones_through_the_adb_server_and_direct_tcp() {
    let fleet = Fleet::start(10, Latency::Real);
    fleet.publish(&shop::as_refs(&shop::files()));
    let serials = fleet.phones.serials().to_vec();
    // Phones 5 to 9 are reached over direct TCP only: the adb server lets them go.
    for serial in &serials[5..] {
        fleet.phones.adb().adb_ok(&["disconnect", serial]);
    }

    let out = enroll(&fleet, &serials[5..]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("corral enroll: 10 phone(s), profile butcher-shop"),
        "{stdout}"
    );
    let table_at = stdout
        .find("PHONE ")
        .unwrap_or_else(|| panic!("no summary table:\n{stdout}"));
    let table = &stdout[table_at..];
    for (i, serial) in serials.iter().enumerate() {
        let name = if i < 5 {
            serial.clone()
        } else {
            format!("tcp:{serial}")
        };
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{table}"));
        assert!(row.contains(" ok "), "{row}");
        // Plain output (not a TTY): one line per step event, the last one for this phone.
        assert!(
            stdout.contains(&format!("{name}  step 9/9 await_enrollment  done"))
                || stdout.contains(&format!("{name}  step 9/9 await_enrollment  unchanged")),
            "{stdout}"
        );
    }
    assert!(table.contains("10 of 10 phones provisioned\n"), "{table}");

    for serial in &serials[5..] {
        fleet.phones.adb().connect(serial);
    }
    for i in 0..serials.len() {
        shop::assert_on_profile(&fleet.phones, i, &CONTACTS);
        assert_agent_runs_enrolled(&fleet, i);
    }

    // The record, through the REST API: one finished run per phone, nine steps each.
    let runs = fleet
        .api()
        .call("GET", "/api/v1/provisioning/runs", None, 200);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 10);
    for run in runs {
        assert_eq!(run["outcome"], "done", "{run}");
        assert_eq!(run["steps"].as_array().unwrap().len(), 9, "{run}");
    }

    // `corral devices --json`: the ten enrolled phones, on the profile, in sync.
    let listed = corral()
        .env("CORRAL_API_TOKEN", &fleet.api().token)
        .args(["devices", "--json", "--controller"])
        .arg(format!("http://{}", fleet.api().addr))
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let devices: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 10);
    let ids: BTreeSet<&str> = devices.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let enrolled: BTreeSet<&str> = runs.iter().map(|r| r["device"].as_str().unwrap()).collect();
    assert_eq!(ids, enrolled);
    for device in devices {
        let keys: Vec<&str> = device
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = corral_controller::station::devices::FIELDS.to_vec();
        expected.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, expected, "{device}");
        assert_eq!(device["status"], "active", "{device}");
        assert_eq!(device["profile"], PROFILE, "{device}");
        assert_eq!(device["in_sync"], true, "{device}");
        assert!(device["last_seen_at"].is_string(), "{device}");
    }
    let table = corral()
        .env("CORRAL_API_TOKEN", &fleet.api().token)
        .args(["devices", "--controller"])
        .arg(format!("http://{}", fleet.api().addr))
        .output()
        .unwrap();
    assert!(
        text(&table.stdout).ends_with("10 device(s)\n"),
        "{}",
        text(&table.stdout)
    );
}

#[test]
fn a_phone_that_fails_fails_alone_and_the_summary_names_the_remedy() {
    let fleet = Fleet::start(2, Latency::None);
    fleet.publish(&shop::as_refs(&shop::files()));
    // A third phone waits for the person to allow this station's key, and nobody does.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(Binary::Devsim.path());
    cmd.args([
        "--phones",
        "1",
        "--base-port",
        "0",
        "--auth",
        "--latency",
        "none",
    ]);
    let mut locked =
        Process::start_reading_stdout("corral-devsim --auth", cmd, &dir.path().join("devsim.log"));
    let line = locked.line(Duration::from_secs(60));
    let locked_serial = line
        .strip_prefix("phone ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();

    let out = enroll(&fleet, std::slice::from_ref(&locked_serial));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 of 3 phones provisioned, 1 failed\n"),
        "{stdout}"
    );
    let table = &stdout[stdout.find("PHONE ").unwrap()..];
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("tcp:{locked_serial} ")))
        .unwrap_or_else(|| panic!("no row for the locked phone:\n{stdout}"));
    assert!(row.contains(" FAILED "), "{row}");
    assert!(
        row.contains("accept the \"Allow USB debugging?\" prompt"),
        "{row}"
    );
    assert!(stderr.contains("1 of 3 phones failed"), "{stderr}");
    for i in 0..2 {
        shop::assert_on_profile(&fleet.phones, i, &CONTACTS);
        assert_agent_runs_enrolled(&fleet, i);
    }
}

#[test]
fn enroll_refuses_bad_arguments_with_what_to_do() {
    /// Arguments, environment, what stderr must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (&["enroll"], &[], "--all"),
        (
            &["enroll", "--all", "--controller", "http://127.0.0.1:9"],
            &[],
            "no API token: set CORRAL_API_TOKEN or give --token-file FILE",
        ),
        (
            &["enroll", "--all", "--controller", "127.0.0.1:8080"],
            &[("CORRAL_API_TOKEN", "api-x.y")],
            "it must start with http://",
        ),
        (
            &["devices", "--controller", "http://127.0.0.1:9"],
            &[("CORRAL_API_TOKEN", "api-x.y")],
            "cannot reach the controller at http://127.0.0.1:9",
        ),
    ];
    for (args, env, expected) in cases {
        let mut cmd = corral();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// What `corral demo` printed up to "ready": its addresses and credentials.
struct Ready {
    console: SocketAddr,
    gateway: SocketAddr,
    enrollment: SocketAddr,
    password: String,
    output: String,
}

fn start_demo(dir: &Path, log: &Path, at: Option<&Ready>, base_port: u16) -> (Process, Ready) {
    let listen =
        |a: Option<SocketAddr>| a.map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string());
    let mut cmd = corral();
    cmd.args(["demo", "--phones", "3", "--data-dir"])
        .arg(dir)
        .args(["--base-port", &base_port.to_string()])
        .args(["--listen", &listen(at.map(|r| r.console))])
        .args(["--gateway-listen", &listen(at.map(|r| r.gateway))])
        .args(["--enrollment-listen", &listen(at.map(|r| r.enrollment))]);
    let mut process = Process::start_reading_stdout("corral demo", cmd, log);
    let mut output = String::new();
    let (mut console, mut gateway, mut enrollment, mut password) = (None, None, None, None);
    loop {
        let line = process.line(Duration::from_secs(300));
        output.push_str(&line);
        output.push('\n');
        let addr = |rest: &str| rest.trim().parse::<SocketAddr>().ok();
        if let Some(rest) = line.strip_prefix("corral: agent gateway on ") {
            gateway = addr(rest);
        } else if let Some(rest) = line.strip_prefix("corral: enrollment on ") {
            enrollment = addr(rest);
        } else if let Some(rest) = line.strip_prefix("corral: console and API on http://") {
            console = addr(rest);
        } else if let Some(rest) = line.trim().strip_prefix("password: ") {
            password = rest.split_whitespace().next().map(str::to_owned);
        } else if line.starts_with("Ctrl-C stops the demo") {
            break;
        }
    }
    assert!(output.contains("corral demo: ready"), "{output}");
    let ready = Ready {
        console: console.unwrap(),
        gateway: gateway.unwrap(),
        enrollment: enrollment.unwrap(),
        password: password.unwrap_or_else(|| panic!("no password in:\n{output}")),
        output,
    };
    (process, ready)
}

/// One HTTP/1.1 exchange; the raw answer.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    text(&raw)
}

/// Logs into the console as `admin`; the status line of the answer to `POST /login`.
fn log_in(console: SocketAddr, password: &str) -> String {
    let form = http(
        console,
        "GET /login HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n",
    );
    let token = form
        .lines()
        .find_map(|l| {
            let l = l
                .strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))?;
            let value = l.strip_prefix("corral-login=")?;
            Some(value.split(';').next().unwrap_or_default().to_owned())
        })
        .unwrap_or_else(|| panic!("no login cookie:\n{form}"));
    let body = format!("csrf={token}&name=admin&password={password}");
    let answer = http(
        console,
        &format!(
            "POST /login HTTP/1.1\r\nHost: demo\r\nConnection: close\r\nCookie: corral-login={token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    answer.lines().next().unwrap_or_default().to_owned()
}

/// The first of `n` consecutive free ports below the kernel's ephemeral range (where
/// other tests' port-0 listeners land), so a restart can bind the same phones again.
fn free_ports(n: u16) -> u16 {
    let start = 20_000 + u16::try_from(std::process::id() % 500).unwrap() * 20;
    (start..30_000)
        .step_by(usize::from(n))
        .find(|base| (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()))
        .unwrap()
}

#[test]
fn the_demo_provisions_its_phones_serves_the_console_stops_on_sigterm_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let base_port = free_ports(3);
    let (mut demo, first) = start_demo(&data, &dir.path().join("demo-1.log"), None, base_port);
    assert!(
        first.output.contains("3 of 3 phones provisioned\n"),
        "{}",
        first.output
    );
    assert!(
        first
            .output
            .contains(&format!("console:  http://{}/", first.console)),
        "{}",
        first.output
    );
    let login = log_in(first.console, &first.password);
    assert!(login.contains(" 303 "), "{login}");
    let kept = std::fs::read_to_string(data.join("demo-admin.txt")).unwrap();
    assert_eq!(kept.trim(), first.password);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(data.join("demo-admin.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let status = demo.terminate(Duration::from_secs(60));
    assert!(status.success(), "{status}");

    // Again on the same state: the same admin, the phones resume and their agents restart.
    let (mut again, second) = start_demo(
        &data,
        &dir.path().join("demo-2.log"),
        Some(&first),
        base_port,
    );
    assert_eq!(second.password, first.password);
    assert!(
        second.output.contains("3 of 3 phones provisioned\n"),
        "{}",
        second.output
    );
    assert!(
        second.output.contains("step 2/9 work_profile  unchanged"),
        "{}",
        second.output
    );
    assert!(log_in(second.console, &second.password).contains(" 303 "));
    let status = again.terminate(Duration::from_secs(60));
    assert!(status.success(), "{status}");
}

#[test]
fn the_demo_names_a_busy_port_and_the_option_that_moves_it() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().to_string();
    let out = corral()
        .args(["demo", "--phones", "1", "--data-dir"])
        .arg(dir.path().join("demo-data"))
        .args(["--listen", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {port} for the console and API"))
            && stderr.contains("give --listen with a free address"),
        "{stderr}"
    );
}
