//! Enrollment as a phone meets it, over real TLS with the real CA: a token and a CSR give a
//! client-auth-only certificate bound to a new device; a token works once; an expired or
//! unknown token and a bad CSR are refused (with an event, without using the token); an
//! agent pinning another CA refuses the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::agents::*;
use corral_controller::domain::{DeviceStatus, Timestamp, TokenPrefix, sha256_hex};
use corral_controller::enrollment::TOKEN_REFUSED;
use corral_wire::client::ConnectError;
use corral_wire::tls::DeviceKey;
use corral_wire::{ControllerMessage, EnrollResponse};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

fn refused(answer: EnrollResponse) -> String {
    match answer {
        EnrollResponse::Refused(r) => r.reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn token_prefix(token: &str) -> TokenPrefix {
    let prefix = token
        .strip_prefix("enr-")
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    TokenPrefix::parse(prefix).unwrap()
}

async fn refusal_events(ctl: &Controller) -> usize {
    let events = ctl.state.store.events(None, 0, 1000).await.unwrap();
    events
        .iter()
        .filter(|e| e.kind == "enrollment.refused")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_and_a_csr_enroll_a_device_with_a_client_auth_only_certificate() {
    let ctl = spawn_controller().await;
    let token = ctl.token("shop").await;
    let agent = TestAgent::enroll(&ctl, &token).await;

    assert_eq!(
        agent.enrolled.ca_certificate_pem,
        ctl.state.ca.certificate_pem()
    );
    assert_eq!(agent.enrolled.gateway_port, ctl.gateway_addr.port());
    let pem = corral_wire::tls::certificates_from_pem(&agent.enrolled.certificate_pem).unwrap();
    let (_, cert) = X509Certificate::from_der(pem[0].as_ref()).unwrap();
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(
        eku.client_auth && !eku.server_auth && eku.other.is_empty(),
        "{eku:?}"
    );
    assert!(!cert.is_ca());
    let san = cert.subject_alternative_name().unwrap().unwrap().value;
    assert_eq!(
        san.general_names,
        vec![GeneralName::URI(&format!(
            "corral://device/{}",
            agent.enrolled.device_id
        ))]
    );

    // The store binds the certificate (serial and key hash) to the new device.
    let device = ctl.state.store.device(&agent.device_id()).await.unwrap();
    assert_eq!(device.status, DeviceStatus::Active);
    assert_eq!(device.name.as_str(), "Pixel 8");
    assert_eq!(device.serial.as_deref(), Some("TEST123"));
    let serial: String = cert
        .raw_serial()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(device.cert_serial.unwrap().as_str(), serial);
    assert_eq!(
        device.cert_key_hash.unwrap().as_str(),
        sha256_hex(cert.public_key().raw),
        "the certificate carries the phone's own key"
    );
    let record = token_record(&ctl, &token).await;
    assert_eq!(record.used_by, Some(agent.device_id()));

    // And the certificate opens the gateway.
    let (_conn, welcome) = agent.connect(0).await;
    assert_eq!(welcome.device_id, agent.enrolled.device_id);
}

async fn token_record(ctl: &Controller, token: &str) -> corral_controller::domain::EnrollmentToken {
    ctl.state
        .store
        .enrollment_token(&token_prefix(token))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_enrolls_one_device_only() {
    let ctl = spawn_controller().await;
    let token = ctl.token("shop").await;
    TestAgent::enroll(&ctl, &token).await;
    let key = DeviceKey::generate().unwrap();
    let again = try_enroll(&ctl, &token, &key, &ctl.fingerprint())
        .await
        .unwrap();
    assert_eq!(refused(again), TOKEN_REFUSED);
    assert_eq!(refusal_events(&ctl).await, 1);
    assert_eq!(ctl.state.store.devices().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_unknown_and_malformed_tokens_are_refused_alike() {
    let ctl = spawn_controller().await;
    let expired = ctl
        .token_expiring("shop", Timestamp::now().minus(Duration::from_secs(1)))
        .await;
    let unknown = corral_controller::domain::EnrollmentTokenSecret::generate().reveal();
    let key = DeviceKey::generate().unwrap();
    for token in [expired.as_str(), unknown.as_str(), "not a token"] {
        let answer = try_enroll(&ctl, token, &key, &ctl.fingerprint())
            .await
            .unwrap();
        assert_eq!(refused(answer), TOKEN_REFUSED, "{token}");
    }
    assert_eq!(refusal_events(&ctl).await, 3);
    assert!(ctl.state.store.devices().await.unwrap().is_empty());
    let events = ctl.state.store.events(None, 0, 1000).await.unwrap();
    let text = format!("{events:?}");
    assert!(
        !text.contains(unknown.split('.').nth(1).unwrap()),
        "no secret in events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_csr_is_refused_and_leaves_the_token_unused() {
    let ctl = spawn_controller().await;
    let token = ctl.token("shop").await;
    let request = corral_wire::EnrollRequest {
        token: token.clone(),
        csr_pem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
            .into(),
        device_info: device_info(),
    };
    let answer = corral_wire::client::enroll(
        &ctl.enrollment_addr.to_string(),
        "127.0.0.1",
        &ctl.fingerprint(),
        &request,
    )
    .await
    .unwrap();
    assert_eq!(
        refused(answer),
        "the certificate signing request is not acceptable"
    );
    assert_eq!(token_record(&ctl, &token).await.used_at, None);
    TestAgent::enroll(&ctl, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_pinning_another_ca_refuses_the_server() {
    let ctl = spawn_controller().await;
    let token = ctl.token("shop").await;
    let key = DeviceKey::generate().unwrap();
    let wrong = sha256_hex(b"some other CA");
    let err = try_enroll(&ctl, &token, &key, &wrong).await.unwrap_err();
    assert!(matches!(err, ConnectError::Handshake { .. }), "{err}");
    assert!(err.to_string().contains("pinned CA"), "{err}");
    // Nothing reached the controller: the token is still usable.
    assert_eq!(token_record(&ctl, &token).await.used_at, None);
    // The right pin, with colons and capitals as some tools print it, works.
    let fingerprint = ctl.fingerprint().to_uppercase();
    let pretty: Vec<&str> = (0..32).map(|i| &fingerprint[2 * i..2 * i + 2]).collect();
    let answer = try_enroll(&ctl, &token, &key, &pretty.join(":"))
        .await
        .unwrap();
    assert!(matches!(answer, EnrollResponse::Enrolled(_)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_is_answered_and_closed() {
    use tokio::io::AsyncWriteExt;
    let ctl = spawn_controller().await;
    let config = corral_wire::tls::enrollment_client_config(&ctl.fingerprint()).unwrap();
    let mut stream = corral_wire::client::connect(
        &ctl.enrollment_addr.to_string(),
        "127.0.0.1",
        std::sync::Arc::new(config),
    )
    .await
    .unwrap();
    // Announces more than the enrollment limit (64 KiB): refused on the header alone.
    stream.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let mut reader = corral_wire::io::FrameReader::new(stream, corral_wire::MAX_FRAME_LEN);
    let answer: EnrollResponse = reader.read().await.unwrap().unwrap();
    assert!(refused(answer).contains("exceeds the limit"));
    let _: Option<ControllerMessage> = reader.read().await.unwrap_or(None);
}
