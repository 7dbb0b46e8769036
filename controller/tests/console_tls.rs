//! The console served over HTTPS by the controller itself, checked with a real TLS client
//! (rustls, trusting only the internal CA): the certificate is the CA's for the configured
//! name, cookies are `__Host-` prefixed and `Secure`, HSTS is sent, a login works, and a
//! plain-HTTP request to the TLS port gets no HTTP answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::agents::spawn_controller;
use common::console::{PASSWORD, hidden_field};
use corral_controller::console::{ConsoleOptions, tls};
use corral_controller::domain::{Password, PasswordHash, Role, Timestamp, UserName};
use corral_controller::serve::router_with;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One HTTP/1.1 exchange over TLS to `localhost`; returns the whole answer as text.
async fn https(addr: SocketAddr, ca: &[u8], request: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn set_cookies(answer: &str) -> Vec<String> {
    answer
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_serves_https_with_secure_cookies_and_hsts() {
    let ctl = spawn_controller().await;
    let store = &ctl.state.store;
    let hash = PasswordHash::create(&Password::parse(PASSWORD).unwrap()).unwrap();
    store
        .create_user(
            &UserName::parse("ada").unwrap(),
            Role::Admin,
            &hash,
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let (config, _certificate) = tls::config_from_ca(
        Arc::clone(&ctl.state.ca),
        &["localhost".into()],
        Timestamp::now(),
    )
    .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let app = router_with(
        ctl.state.clone(),
        ConsoleOptions {
            tls: true,
            ..ConsoleOptions::default()
        },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(tls::serve(tcp, config, app, async move {
        let _ = stopped.await;
    }));
    let ca = ctl.state.ca.certificate_der().to_vec();

    let form = https(
        addr,
        &ca,
        "GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(form.starts_with("HTTP/1.1 200"), "{form}");
    let lower = form.to_lowercase();
    assert!(
        lower.contains("strict-transport-security: max-age="),
        "{form}"
    );
    let cookies = set_cookies(&form);
    let login_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-corral-login="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(
        login_cookie.contains("; Secure") && login_cookie.contains("HttpOnly"),
        "{login_cookie}"
    );
    let token = hidden_field(&form, "csrf").unwrap();
    let cookie_pair = login_cookie.split(';').next().unwrap();

    let body = format!(
        "csrf={token}&name=ada&password={}",
        PASSWORD.replace(' ', "+")
    );
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost\r\nCookie: {cookie_pair}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let login = https(addr, &ca, &request).await;
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let session = set_cookies(&login)
        .into_iter()
        .find(|c| c.starts_with("__Host-corral-session="))
        .unwrap_or_else(|| panic!("{login}"));
    assert!(
        session.contains("; Secure") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let session_pair = session.split(';').next().unwrap();
    let fleet = https(
        addr,
        &ca,
        &format!("GET /fleet HTTP/1.1\r\nHost: localhost\r\nCookie: {session_pair}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(fleet.starts_with("HTTP/1.1 200"), "{fleet}");

    // Plain HTTP on the TLS port: the handshake fails, no HTTP answer comes back.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer).await;
    assert!(!String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"));
    let _ = stop.send(());
}

/// `corral serve` with `CORRAL_CONSOLE_TLS=ca`: the listener speaks HTTPS with a
/// certificate from the data directory's CA (`ca/ca.crt`), and says so on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corral_serve_speaks_https_when_configured() {
    use rustls::pki_types::pem::PemObject as _;
    use std::io::BufRead as _;

    let dir = tempfile::tempdir().unwrap();
    let mut child = common::binary::corral()
        .env("CORRAL_GATEWAY_LISTEN", "127.0.0.1:0")
        .env("CORRAL_ENROLLMENT_LISTEN", "127.0.0.1:0")
        .env("CORRAL_CONSOLE_TLS", "ca")
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let addr: SocketAddr = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(at) = line.strip_prefix("corral: console and API on https://") {
                return at.parse().unwrap();
            }
            assert!(!line.contains("on http://"), "{line}");
        }
        panic!("corral serve ended without announcing its HTTPS listener")
    })
    .await
    .unwrap();
    let ca_pem = std::fs::read(dir.path().join("ca").join("ca.crt")).unwrap();
    let ca = CertificateDer::from_pem_slice(&ca_pem).unwrap();
    let answer = https(
        addr,
        &ca,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");
}
