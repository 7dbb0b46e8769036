//! The simulated fleet on disk: N devices enrolled in the controller's data directory
//! through the controller library (store + CA), each with its own key and a certificate
//! issued by the controller's CA, kept in `<data-dir>/loadgen/fleet.jsonl` so later runs
//! reuse them.
//!
//! Owns: enrolling missing devices (one enrollment token each, the same transaction a
//! phone's enrollment runs) and reading the fleet back.
//! Must never: touch a data directory while a controller serves it (the harness starts
//! `corral serve` only after preparing).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use corral_controller::ca::Ca;
use corral_controller::domain::{
    DeviceId, DeviceName, EnrollmentBinding, EnrollmentTokenSecret, NewDevice, ProfileName,
    Timestamp,
};
use corral_controller::store::Store;
use corral_wire::tls::DeviceKey;

/// The profile every simulated device is assigned; each run publishes a new version of it.
pub const PROFILE: &str = "loadgen";

/// One simulated device: its identity and TLS material.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub id: String,
    /// PKCS#8 DER of the device key, base64.
    pub key: String,
    pub cert_pem: String,
}

impl Device {
    pub fn key_der(&self) -> Result<Vec<u8>> {
        Ok(STANDARD.decode(&self.key)?)
    }
}

fn fleet_file(data_dir: &Path) -> PathBuf {
    data_dir.join("loadgen").join("fleet.jsonl")
}

fn read_fleet(data_dir: &Path) -> Result<Vec<Device>> {
    let path = fleet_file(data_dir);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    BufReader::new(file)
        .lines()
        .map(|line| Ok(serde_json::from_str(&line?)?))
        .collect()
}

/// Makes sure `data_dir` holds at least `n` simulated devices (enrolling the missing ones)
/// and returns the first `n`, with the CA certificate they trust.
pub async fn prepare(store: &Store, data_dir: &Path, n: usize) -> Result<(Vec<Device>, String)> {
    let now = Timestamp::now();
    let ca = Ca::open_or_create(data_dir, now)?;
    let mut fleet = read_fleet(data_dir)?;
    if fleet.len() < n {
        let started = Instant::now();
        let missing = n - fleet.len();
        eprintln!("corral-loadgen: enrolling {missing} devices (once per data directory)…");
        std::fs::create_dir_all(data_dir.join("loadgen"))?;
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(fleet_file(data_dir))?;
        let binding = EnrollmentBinding::Profile(ProfileName::parse(PROFILE)?);
        let lifetime = Duration::from_secs(365 * 86_400);
        for i in fleet.len()..n {
            let now = Timestamp::now();
            let key = DeviceKey::generate()?;
            let token = EnrollmentTokenSecret::generate();
            store
                .create_enrollment_token(
                    &token,
                    &binding,
                    now.plus(Duration::from_secs(3600)),
                    Some("loadgen"),
                    now,
                )
                .await?;
            let device = NewDevice {
                id: DeviceId::generate(),
                name: DeviceName::parse(&format!("loadgen {i}"))?,
                serial: None,
            };
            let issued =
                ca.issue_device_certificate(key.csr_pem()?.as_bytes(), &device.id, lifetime, now)?;
            store
                .enroll_device(&token, &device, &issued.record, now)
                .await?;
            let record = Device {
                id: device.id.to_string(),
                key: STANDARD.encode(key.pkcs8_der()),
                cert_pem: issued.pem,
            };
            writeln!(out, "{}", serde_json::to_string(&record)?)?;
            fleet.push(record);
        }
        out.sync_all()?;
        eprintln!(
            "corral-loadgen: enrolled {missing} devices in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    fleet.truncate(n);
    Ok((fleet, ca.certificate_pem().to_owned()))
}
