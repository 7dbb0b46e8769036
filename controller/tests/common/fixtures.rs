//! Fleet records for storage tests: devices, certificates and profile versions that are
//! valid without a CA or the profiles crate.

use std::time::Duration;

use corral_controller::domain::{
    CertSerial, DeviceId, DeviceName, EnrollmentBinding, EnrollmentTokenSecret, KeyHash,
    NewCertificate, NewDevice, ProfileName, Timestamp, VersionHash, sha256_hex,
};
use corral_controller::store::Store;
use rand::RngCore;

pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_795_000_000);
pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(24 * 3600);

pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn new_device(name: &str) -> NewDevice {
    NewDevice {
        id: DeviceId::generate(),
        name: DeviceName::parse(name).unwrap(),
        serial: Some(format!("SER{}", random_hex(3))),
    }
}

/// A certificate record valid for 30 days from `NOW`.
pub fn certificate() -> NewCertificate {
    NewCertificate {
        serial: CertSerial::parse(&random_hex(16)).unwrap(),
        key_hash: KeyHash::parse(&random_hex(32)).unwrap(),
        not_before: NOW,
        not_after: NOW.plus(30 * DAY),
    }
}

pub fn profile(name: &str) -> ProfileName {
    ProfileName::parse(name).unwrap()
}

/// A profile version named like the profiles crate names versions (`sha256:<hex>`).
pub fn version(text: &str) -> (VersionHash, String) {
    (
        VersionHash::parse(&format!("sha256:{}", &sha256_hex(text.as_bytes())[..16])).unwrap(),
        text.to_owned(),
    )
}

/// A token bound to `binding`, valid for a day from `NOW`.
pub async fn token(store: &Store, binding: EnrollmentBinding) -> EnrollmentTokenSecret {
    let token = EnrollmentTokenSecret::generate();
    store
        .create_enrollment_token(&token, &binding, NOW.plus(DAY), Some("test"), NOW)
        .await
        .unwrap();
    token
}

/// An enrolled device bound to `profile_name`.
pub async fn enrolled(store: &Store, profile_name: &str) -> DeviceId {
    let token = token(store, EnrollmentBinding::Profile(profile(profile_name))).await;
    let device = new_device("Till 1");
    store
        .enroll_device(&token, &device, &certificate(), NOW)
        .await
        .unwrap();
    device.id
}
