//! The mutual-TLS matrix: the gateway accepts an enrolled device's certificate and rejects
//! every other — no certificate, a foreign CA, expired, serverAuth only, no extended key
//! usage, revoked, and certificates that claim another device's identity. The bad
//! certificates are made here with rcgen, some signed with the controller's real CA key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::agents::*;
use corral_controller::domain::{DeviceId, Timestamp};
use corral_wire::client::AgentConnection;
use corral_wire::tls::{DeviceKey, provider};
use corral_wire::{ControllerMessage, Goodbye};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore};

/// How a forged device certificate differs from a good one.
struct Forge {
    device: String,
    serial: Option<Vec<u8>>,
    eku: Vec<ExtendedKeyUsagePurpose>,
    not_after_days: i64,
}

impl Forge {
    fn device(device: &DeviceId) -> Self {
        Forge {
            device: device.to_string(),
            serial: None,
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            not_after_days: 30,
        }
    }

    /// A certificate for `key` signed by `issuer`, PEM.
    fn sign(&self, key: &KeyPair, issuer: &Issuer<'_, KeyPair>) -> String {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, self.device.as_str());
        params.distinguished_name = dn;
        params.subject_alt_names = vec![SanType::URI(
            format!("corral://device/{}", self.device)
                .try_into()
                .unwrap(),
        )];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = self.eku.clone();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(60);
        params.not_after = now + time::Duration::days(self.not_after_days);
        let serial = self.serial.clone().unwrap_or_else(|| {
            let mut s = common::fixtures::random_hex(16).into_bytes();
            s.truncate(16);
            s[0] = 0x41;
            s
        });
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.signed_by(key, issuer).unwrap().pem()
    }
}

fn config(ca_pem: &str, cert_pem: Option<&str>, key: &KeyPair) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    match cert_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap(),
    }
}

/// Connects with `config` and says hello: the gateway must never answer with a welcome.
async fn assert_rejected(ctl: &Controller, config: ClientConfig, case: &str) {
    let connected =
        AgentConnection::connect(&ctl.gateway_addr.to_string(), "127.0.0.1", Arc::new(config))
            .await;
    // TLS 1.3: a refused client certificate may only show after the client's handshake.
    let Ok(mut conn) = connected else { return };
    if conn.send(&hello(0)).await.is_err() {
        return;
    }
    let answer = tokio::time::timeout(PATIENCE, conn.recv())
        .await
        .expect(case);
    match answer {
        Err(_) | Ok(None) => {}
        Ok(Some(ControllerMessage::Goodbye(Goodbye { reason }))) => {
            assert_eq!(reason, "the certificate is not accepted", "{case}");
            assert!(matches!(conn.recv().await, Ok(None) | Err(_)), "{case}");
        }
        Ok(Some(other)) => panic!("{case}: accepted, the gateway answered {other:?}"),
    }
}

async fn enrolled(ctl: &Controller) -> TestAgent {
    let token = ctl.token("shop").await;
    TestAgent::enroll(ctl, &token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mtls_matrix_is_rejected_and_the_enrolled_certificate_accepted() {
    let ctl = spawn_controller().await;
    let a = enrolled(&ctl).await;
    let b = enrolled(&ctl).await;
    let ca_pem = ctl.state.ca.certificate_pem().to_owned();
    let issuer = ctl.ca_issuer();
    let key = KeyPair::generate().unwrap();

    // Control: the enrolled certificate works.
    let (_conn, welcome) = a.connect(0).await;
    assert_eq!(welcome.device_id, a.enrolled.device_id);

    assert_rejected(&ctl, config(&ca_pem, None, &key), "no client certificate").await;

    let foreign_key = KeyPair::generate().unwrap();
    let mut foreign = CertificateParams::default();
    foreign.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let foreign = Issuer::new(foreign, foreign_key);
    let cert = Forge::device(&a.device_id()).sign(&key, &foreign);
    assert_rejected(&ctl, config(&ca_pem, Some(&cert), &key), "foreign CA").await;

    let expired = Forge {
        not_after_days: -1,
        ..Forge::device(&a.device_id())
    };
    let cert = expired.sign(&key, &issuer);
    assert_rejected(&ctl, config(&ca_pem, Some(&cert), &key), "expired").await;

    let server_only = Forge {
        eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
        ..Forge::device(&a.device_id())
    };
    let cert = server_only.sign(&key, &issuer);
    assert_rejected(&ctl, config(&ca_pem, Some(&cert), &key), "serverAuth only").await;

    let no_eku = Forge {
        eku: vec![],
        ..Forge::device(&a.device_id())
    };
    let cert = no_eku.sign(&key, &issuer);
    assert_rejected(
        &ctl,
        config(&ca_pem, Some(&cert), &key),
        "no extended key usage",
    )
    .await;

    // Signed by the right CA, naming device A, but with device B's serial: the serial
    // belongs to B, so the identity does not match the record.
    let b_serial = ctl
        .state
        .store
        .device(&b.device_id())
        .await
        .unwrap()
        .cert_serial
        .unwrap();
    let b_serial_bytes: Vec<u8> = (0..b_serial.as_str().len() / 2)
        .map(|i| u8::from_str_radix(&b_serial.as_str()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let crossed = Forge {
        serial: Some(b_serial_bytes),
        ..Forge::device(&a.device_id())
    };
    let cert = crossed.sign(&key, &issuer);
    assert_rejected(
        &ctl,
        config(&ca_pem, Some(&cert), &key),
        "A's identity, B's serial",
    )
    .await;

    // Re-issued for device B with a serial the controller never issued.
    let cert = Forge::device(&b.device_id()).sign(&key, &issuer);
    assert_rejected(
        &ctl,
        config(&ca_pem, Some(&cert), &key),
        "B's identity, unknown serial",
    )
    .await;

    // A device id nobody enrolled.
    let cert = Forge::device(&DeviceId::generate()).sign(&key, &issuer);
    assert_rejected(&ctl, config(&ca_pem, Some(&cert), &key), "unknown device").await;

    // B's genuine certificate still works: nothing above disturbed it.
    let (_conn, welcome) = b.connect(0).await;
    assert_eq!(welcome.device_id, b.enrolled.device_id);
    assert!(
        !log_lines(&["Agent connection refused", &a.enrolled.device_id]).is_empty(),
        "the refusal is logged with its reason"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_or_device_is_rejected() {
    let ctl = spawn_controller().await;
    let a = enrolled(&ctl).await;
    let b = enrolled(&ctl).await;
    let serial = ctl
        .state
        .store
        .device(&a.device_id())
        .await
        .unwrap()
        .cert_serial
        .unwrap();
    ctl.state
        .store
        .revoke_certificate(&serial, "lost", "test", Timestamp::now())
        .await
        .unwrap();
    let key = KeyPair::try_from(a.key.pkcs8_der()).unwrap();
    let ca_pem = &a.enrolled.ca_certificate_pem;
    assert_rejected(
        &ctl,
        config(ca_pem, Some(&a.enrolled.certificate_pem), &key),
        "revoked certificate",
    )
    .await;

    ctl.gateway()
        .revoke_device(&b.device_id(), "stolen", "test", Timestamp::now())
        .await
        .unwrap();
    let key = KeyPair::try_from(b.key.pkcs8_der()).unwrap();
    assert_rejected(
        &ctl,
        config(ca_pem, Some(&b.enrolled.certificate_pem), &key),
        "revoked device",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_connects_and_the_old_one_still_does_until_it_expires() {
    let ctl = spawn_controller().await;
    let mut a = enrolled(&ctl).await;
    let (mut conn, _) = a.connect(0).await;
    let fresh = DeviceKey::generate().unwrap();
    conn.send(&corral_wire::AgentMessage::RenewRequest(
        corral_wire::RenewRequest {
            csr_pem: fresh.csr_pem().unwrap(),
        },
    ))
    .await
    .unwrap();
    let renewed = match recv(&mut conn).await {
        Some(ControllerMessage::Renewed(r)) => r.certificate_pem,
        other => panic!("expected a renewed certificate, got {other:?}"),
    };
    drop(conn);
    let old = a.connect(0).await;
    drop(old);
    a.key = fresh;
    a.enrolled.certificate_pem = renewed;
    let (_conn, welcome) = a.connect(0).await;
    assert_eq!(welcome.device_id, a.enrolled.device_id);
    let device = ctl.state.store.device(&a.device_id()).await.unwrap();
    assert_eq!(
        ctl.state
            .store
            .certificates_of(&device.id)
            .await
            .unwrap()
            .len(),
        2
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
}
