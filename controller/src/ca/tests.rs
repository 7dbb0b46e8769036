//! Behaviour of the CA: first start, reload, refusal of readable keys, and what an issued
//! device certificate says.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use rcgen::{CertificateParams, KeyPair};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::*;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_795_000_000);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn csr_pem(key: &KeyPair) -> String {
    // A phone may ask for anything; the CA must ignore all of it but the key.
    let mut params = CertificateParams::new(vec!["evil.example".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.serialize_request(key).unwrap().pem().unwrap()
}

#[test]
fn first_start_creates_a_private_key_and_later_starts_reuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let created = Ca::open_or_create(dir.path(), NOW).unwrap();
    let key = dir.path().join("ca/ca.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("ca"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let reloaded = Ca::open_or_create(dir.path(), NOW).unwrap();
    assert_eq!(created.fingerprint(), reloaded.fingerprint());
    assert_eq!(created.fingerprint().len(), 64);
    assert_eq!(
        created.fingerprint(),
        sha256_hex(reloaded.certificate_der())
    );
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Ca::open_or_create(dir.path(), NOW).unwrap();
    let key = dir.path().join("ca/ca.key");
    for mode in [0o640, 0o604, 0o644] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = Ca::open_or_create(dir.path(), NOW).unwrap_err();
        assert!(matches!(err, CaError::InsecureKeyFile { .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}

#[test]
fn a_missing_half_is_not_silently_replaced_by_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    Ca::open_or_create(dir.path(), NOW).unwrap();
    std::fs::remove_file(dir.path().join("ca/ca.crt")).unwrap();
    let err = Ca::open_or_create(dir.path(), NOW).unwrap_err();
    assert!(matches!(err, CaError::Incomplete { .. }), "{err}");
}

#[test]
fn debug_output_never_contains_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::open_or_create(dir.path(), NOW).unwrap();
    let key_pem = std::fs::read_to_string(dir.path().join("ca/ca.key")).unwrap();
    let body = key_pem.lines().nth(1).unwrap();
    assert!(!format!("{ca:?}").contains(body));
    let server = ca.server_identity(&["localhost".into()], DAY, NOW).unwrap();
    assert!(format!("{server:?}").contains("key: \"…\""));
}

#[test]
fn device_certificates_are_client_auth_only_and_name_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::open_or_create(dir.path(), NOW).unwrap();
    let phone_key = KeyPair::generate().unwrap();
    let device = DeviceId::generate();
    let issued = ca
        .issue_device_certificate(csr_pem(&phone_key).as_bytes(), &device, 30 * DAY, NOW)
        .unwrap();

    let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
    assert_eq!(cert.subject().to_string(), format!("CN={device}"));
    assert!(!cert.is_ca());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth && !eku.any && eku.other.is_empty());
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && !ku.key_cert_sign());
    assert_eq!(
        cert.validity().not_after.timestamp(),
        NOW.plus(30 * DAY).unix_seconds()
    );

    let peer = peer_identity(&issued.der).unwrap();
    assert_eq!(peer.device, device);
    assert_eq!(peer.serial, issued.record.serial);
    assert_eq!(peer.key_hash, issued.record.key_hash);
    assert_eq!(
        issued.record.key_hash.as_str(),
        sha256_hex(&phone_key.subject_public_key_info())
    );
    assert_eq!(
        (peer.not_before, peer.not_after),
        (issued.record.not_before, issued.record.not_after)
    );
    assert_eq!(issued.record.serial.as_str().len(), 32);
}

#[test]
fn der_csrs_work_and_garbage_or_forged_csrs_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::open_or_create(dir.path(), NOW).unwrap();
    let key = KeyPair::generate().unwrap();
    let der = CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .der()
        .to_vec();
    assert!(
        ca.issue_device_certificate(&der, &DeviceId::generate(), DAY, NOW)
            .is_ok()
    );

    assert!(matches!(
        ca.issue_device_certificate(b"not a csr", &DeviceId::generate(), DAY, NOW),
        Err(CaError::Invalid(_))
    ));
    let mut forged = der.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x01; // breaks the signature
    assert!(matches!(
        ca.issue_device_certificate(&forged, &DeviceId::generate(), DAY, NOW),
        Err(CaError::Invalid(_))
    ));
}

#[test]
fn the_server_certificate_chains_to_the_ca_and_is_server_auth_only() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::open_or_create(dir.path(), NOW).unwrap();
    let server = ca
        .server_identity(&["localhost".into(), "127.0.0.1".into()], DAY, NOW)
        .unwrap();
    assert_eq!(server.cert_chain_der[1], ca.certificate_der());
    let (_, leaf) = X509Certificate::from_der(&server.cert_chain_der[0]).unwrap();
    let (_, root) = X509Certificate::from_der(ca.certificate_der()).unwrap();
    leaf.verify_signature(Some(root.public_key())).unwrap();
    let eku = leaf.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);
    assert!(
        peer_identity(&server.cert_chain_der[0]).is_err(),
        "a server certificate names no device"
    );
}
