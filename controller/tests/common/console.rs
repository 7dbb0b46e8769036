//! `spawn_console()`: the real controller (from [`super::agents`]) with its console on
//! `127.0.0.1:0`, a user per role with a known password, and a cookie-keeping browser
//! stand-in over the raw HTTP client (`Visitor`) for tests that do not need Chromium.

use std::net::SocketAddr;

use corral_controller::console::ConsoleOptions;
use corral_controller::domain::{DeviceStatus, Password, PasswordHash, Role, Timestamp, UserName};
use corral_controller::serve::router_with;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::agents::{Controller, spawn_controller};
use super::http::{Response, exchange};

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// A running controller with its console.
pub struct Console {
    pub ctl: Controller,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Console {
    /// The stored status of the phone with this id.
    pub async fn device_status(&self, id: &str) -> DeviceStatus {
        let id = id.parse().unwrap();
        self.ctl.state.store.device(&id).await.unwrap().status
    }
}

/// The user name of each role's test user.
pub fn user_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "ada",
        Role::Technician => "tess",
        Role::Auditor => "otto",
    }
}

pub async fn spawn_console() -> Console {
    spawn_console_with(ConsoleOptions::default()).await
}

pub async fn spawn_console_with(options: ConsoleOptions) -> Console {
    let ctl = spawn_controller().await;
    let hash = PasswordHash::create(&Password::parse(PASSWORD).unwrap()).unwrap();
    for role in [Role::Admin, Role::Technician, Role::Auditor] {
        ctl.state
            .store
            .create_user(
                &UserName::parse(user_of(role)).unwrap(),
                role,
                &hash,
                "test",
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let app =
        router_with(ctl.state.clone(), options).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Console {
        ctl,
        addr,
        stop: Some(stop),
    }
}

/// A client that keeps cookies like a browser (by name, the last value wins).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub addr: SocketAddr,
    pub cookies: Vec<(String, String)>,
}

/// The value of `<input … name="{name}" value="…">` in a page.
pub fn hidden_field(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    rest.split('"').next().map(str::to_owned)
}

impl Visitor {
    pub fn new(addr: SocketAddr) -> Visitor {
        Visitor {
            addr,
            cookies: Vec::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn keep(&mut self, response: &Response) {
        for (name, value) in &response.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            let Some((n, v)) = pair.split_once('=') else {
                continue;
            };
            self.cookies.retain(|(old, _)| old != n);
            if !v.is_empty() && !value.contains("Max-Age=0") {
                self.cookies.push((n.to_owned(), v.to_owned()));
            }
        }
    }

    fn head(&self, method: &str, path: &str) -> String {
        let mut head = format!("{method} {path} HTTP/1.1");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            head.push_str(&format!("\r\nCookie: {}", jar.join("; ")));
        }
        head
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let response = exchange(self.addr, &self.head("GET", path), b"").await;
        self.keep(&response);
        response
    }

    /// POSTs `fields` as a form, exactly as given (no token added).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let head = format!(
            "{}\r\nContent-Type: application/x-www-form-urlencoded",
            self.head("POST", path)
        );
        let response = exchange(self.addr, &head, body.as_bytes()).await;
        self.keep(&response);
        response
    }

    /// POSTs `fields` and one file as `multipart/form-data`, as a browser's file picker.
    #[allow(dead_code)]
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Response {
        let boundary = "----corralTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let head = format!(
            "{}\r\nContent-Type: multipart/form-data; boundary={boundary}",
            self.head("POST", path)
        );
        let response = exchange(self.addr, &head, &body).await;
        self.keep(&response);
        response
    }

    /// The CSRF token on a page of a logged-in user.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/fleet").await;
        hidden_field(&page.body, "csrf").unwrap_or_else(|| panic!("no CSRF token in {}", page.body))
    }

    /// Logs in through the form; returns the answer to the POST.
    pub async fn log_in(&mut self, user: &str, password: &str) -> Response {
        let form = self.get("/login").await;
        let token = hidden_field(&form.body, "csrf").unwrap();
        self.post(
            "/login",
            &[("csrf", &token), ("name", user), ("password", password)],
        )
        .await
    }

    /// A fresh visitor logged in as `role`'s test user.
    pub async fn logged_in(addr: SocketAddr, role: Role) -> Visitor {
        let mut v = Visitor::new(addr);
        let r = v.log_in(user_of(role), PASSWORD).await;
        assert_eq!(r.status, 303, "login as {}: {}", user_of(role), r.body);
        assert_eq!(r.header("location"), Some("/fleet"));
        v
    }
}
