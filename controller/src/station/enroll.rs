//! `enroll --all` as a library function: find every attached phone (the adb server's
//! list plus each `--connect HOST:PORT`), provision them in parallel through
//! [`provision_all`] with a [`RestLink`] to the controller, draw the progress, and
//! return the summary rows. `corral enroll --all` and `corral demo` both call
//! [`enroll_all`], so the demo shows exactly what a station does.
//!
//! Must never: stop the other phones because one failed, or hide a phone the adb server
//! lists but cannot use (an unauthorized phone is provisioned, fails at preflight and
//! shows its remedy in the summary).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::board::{self, Board, SummaryRow};
use super::http::{Client, RestError};
use super::rest_link::{RestLink, current_profile};
use crate::adb::{self, AdbError, PhoneAddress, Station};
use crate::domain::ProfileName;
use crate::provision::engine::AgentBuild;
use crate::provision::{ProvisionSpec, provision_all};

/// How `enroll_all` draws progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// One bar per phone, redrawn in place (a terminal).
    Live,
    /// One line per event (a log, a pipe, a test).
    Lines,
}

/// What to provision and how.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    /// The profile to enroll into (`None`: the only published one).
    pub profile: Option<ProfileName>,
    /// Phones reached directly over TCP.
    pub connect: Vec<SocketAddr>,
    /// Whether to ask the adb server for its phones.
    pub use_adb_server: bool,
    /// Whether to take the phones on USB directly, without an adb server (needs the
    /// `usb` cargo feature).
    pub usb: bool,
    pub concurrency: usize,
    pub station: Station,
    /// `corral-agent` builds by ABI.
    pub agent_builds: BTreeMap<String, AgentBuild>,
    pub apk_dir: Option<PathBuf>,
    /// The enrollment address phones are given (`None`: what the controller says).
    pub enroll_address: Option<String>,
    pub enroll_timeout: Duration,
}

/// Why `enroll --all` could not start (per-phone failures are in the summary instead).
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The controller could not be asked.
    #[error(transparent)]
    Controller(#[from] RestError),
    /// No `--profile` and not exactly one profile published.
    #[error(
        "give --profile NAME: the controller at {url} has {} published profiles ({})",
        .published.len(),
        .published.join(", ")
    )]
    WhichProfile { url: String, published: Vec<String> },
    /// Nothing to provision.
    #[error(
        "no phones found{server}; plug them in with USB debugging on (and accept the \"Allow USB debugging?\" prompt), check `adb devices`, or name phones with --connect HOST:PORT"
    )]
    NoPhones { server: String },
    /// The adb server is needed (no `--connect`) but does not answer.
    #[error(transparent)]
    AdbServer(AdbError),
    /// `--usb` given to a build without the `usb` feature.
    #[error(
        "--usb needs a corral built with the `usb` feature (cargo build --release --features usb); use the adb server instead"
    )]
    NoUsb,
    /// Listing the USB buses failed.
    #[error(transparent)]
    Usb(AdbError),
    /// Writing the progress failed (stdout closed).
    #[error("cannot write the progress: {0}")]
    Output(#[from] std::io::Error),
}

/// The profile to use: the one given, or the only one published.
async fn choose_profile(
    client: &Client,
    given: Option<ProfileName>,
) -> Result<ProfileName, EnrollError> {
    if let Some(p) = given {
        return Ok(p);
    }
    let listed = client.get("/profiles").await?;
    let names: Vec<String> = listed
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    match names.as_slice() {
        [one] => one.parse().map_err(|_| EnrollError::WhichProfile {
            url: client.url().to_owned(),
            published: names.clone(),
        }),
        _ => Err(EnrollError::WhichProfile {
            url: client.url().to_owned(),
            published: names,
        }),
    }
}

/// Every phone to provision: the adb server's (in serial order) and then `connect`, each
/// once.
async fn discover(
    options: &EnrollOptions,
    out: &mut dyn Write,
) -> Result<Vec<PhoneAddress>, EnrollError> {
    let mut phones = Vec::new();
    let mut server_note = String::new();
    if options.use_adb_server {
        match adb::list(&options.station).await {
            Ok(listed) => phones.extend(listed.into_iter().map(|p| p.address)),
            Err(e) if !options.connect.is_empty() => {
                writeln!(out, "note: {e}; going on with the --connect phones")?;
            }
            Err(e) => return Err(EnrollError::AdbServer(e)),
        }
        server_note = format!(" (adb server {})", options.station.server);
    }
    if options.usb {
        phones.extend(usb_phones()?);
    }
    for addr in &options.connect {
        let serial = addr.to_string();
        let listed = phones.iter().any(|p| p.serial() == serial);
        if !listed {
            phones.push(PhoneAddress::Tcp(*addr));
        }
    }
    if phones.is_empty() {
        return Err(EnrollError::NoPhones {
            server: server_note,
        });
    }
    Ok(phones)
}

/// The phones on the station's USB buses with an ADB interface.
#[cfg(feature = "usb")]
fn usb_phones() -> Result<Vec<PhoneAddress>, EnrollError> {
    let listed = adb::usb::list().map_err(EnrollError::Usb)?;
    Ok(listed
        .into_iter()
        .map(|p| PhoneAddress::Usb {
            bus: p.bus,
            address: p.address,
        })
        .collect())
}

/// Without the `usb` feature there is no USB access of our own.
#[cfg(not(feature = "usb"))]
fn usb_phones() -> Result<Vec<PhoneAddress>, EnrollError> {
    Err(EnrollError::NoUsb)
}

/// The phone's model (`getprop ro.product.model`), or `-` when it cannot be asked.
async fn model(station: &Station, phone: &PhoneAddress) -> String {
    let mut station = station.clone();
    station.timeout = station.timeout.min(Duration::from_secs(10));
    let mut shell = adb::phone_shell(&station, phone);
    match shell.run("getprop ro.product.model").await {
        Ok(out) if out.exit == 0 => {
            let model = out.output.trim().replace(' ', "_");
            if model.is_empty() { "-".into() } else { model }
        }
        _ => "-".into(),
    }
}

/// Provisions every attached phone; draws progress to `out`; returns one row per phone.
pub async fn enroll_all(
    client: Client,
    options: EnrollOptions,
    display: Display,
    out: &mut (dyn Write + Send),
) -> Result<Vec<SummaryRow>, EnrollError> {
    let profile = choose_profile(&client, options.profile.clone()).await?;
    let (version, canonical_toml) = current_profile(&client, &profile).await?;
    let link = RestLink::connect(client.clone(), options.enroll_address.clone()).await?;
    let phones = discover(&options, &mut *out).await?;
    writeln!(
        out,
        "corral enroll: {} phone(s), profile {profile} ({version}), controller {}, at most {} at once",
        phones.len(),
        client.url(),
        options.concurrency.max(1)
    )?;
    let spec = Arc::new(ProvisionSpec {
        station: options.station.clone(),
        profile,
        version,
        canonical_toml,
        agent_builds: options.agent_builds.clone(),
        apk_dir: options.apk_dir.clone(),
        link: Arc::new(link),
        enroll_timeout: options.enroll_timeout,
    });
    let names: Vec<String> = phones.iter().map(ToString::to_string).collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let work = tokio::spawn(provision_all(
        spec,
        phones.clone(),
        options.concurrency,
        Some(tx),
    ));
    let mut board = Board::new(&names);
    let mut drawn = 0;
    let mut times: HashMap<String, (Instant, Instant)> = HashMap::new();
    if display == Display::Live {
        drawn = draw(out, &board, 0)?;
    }
    while let Some(event) = rx.recv().await {
        let now = Instant::now();
        times
            .entry(event.phone.clone())
            .and_modify(|t| t.1 = now)
            .or_insert((now, now));
        board.apply(&event);
        match display {
            Display::Live => drawn = draw(out, &board, drawn)?,
            Display::Lines => writeln!(out, "{}", board::event_line(&event))?,
        }
    }
    let results = work.await.map_err(|e| {
        EnrollError::Output(std::io::Error::other(format!(
            "the provisioning task failed: {e}"
        )))
    })?;
    // The models, asked of every phone at once (a phone that cannot answer costs its
    // timeout once, not once per phone before it).
    let mut asking = tokio::task::JoinSet::new();
    for (i, phone) in phones.iter().cloned().enumerate() {
        let station = options.station.clone();
        asking.spawn(async move { (i, model(&station, &phone).await) });
    }
    let mut models = vec!["-".to_owned(); phones.len()];
    while let Some(joined) = asking.join_next().await {
        if let Ok((i, m)) = joined {
            models[i] = m;
        }
    }
    let mut rows = Vec::new();
    for (result, model) in results.into_iter().zip(models) {
        let name = result.phone.to_string();
        let duration = times.get(&name).map_or(Duration::ZERO, |(a, b)| *b - *a);
        rows.push(SummaryRow {
            model,
            phone: name,
            result: result
                .outcome
                .map(|d| d.to_string())
                .map_err(|e| e.to_string()),
            duration,
        });
    }
    Ok(rows)
}

/// Draws the board over the `drawn` lines drawn before; returns how many it drew.
fn draw(out: &mut dyn Write, board: &Board, drawn: usize) -> std::io::Result<usize> {
    let lines = board.lines();
    let mut text = board::redraw_prefix(drawn);
    for line in &lines {
        text.push_str(board::CLEAR_LINE);
        text.push_str(line);
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(lines.len())
}
