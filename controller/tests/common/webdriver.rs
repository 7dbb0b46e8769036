//! A small W3C WebDriver client over the raw HTTP client: starts Debian's `chromedriver`
//! on a free loopback port, opens a headless Chromium session, and offers the few
//! commands the console's browser tests need (navigate, find, type, click, text, cookies,
//! screenshots). Dropping the [`Browser`] ends the session and stops the driver.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium driven over WebDriver.
pub struct Browser {
    driver: SocketAddr,
    session: String,
    child: Child,
    _profile: tempfile::TempDir,
}

/// A found element.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One WebDriver command. ChromeDriver keeps connections open whatever the request says,
/// so the answer is read by its `Content-Length`, not to the end of the stream.
async fn call(driver: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, value) = call_status(driver, method, path, body).await;
    assert!(status < 300, "WebDriver {method} {path}: {status} {value}");
    value["value"].clone()
}

/// One WebDriver command, answered with its HTTP status and whole JSON body.
async fn call_status(
    driver: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = tokio::net::TcpStream::connect(driver).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {driver}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await.unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut bytes = vec![0u8; length];
    reader.read_exact(&mut bytes).await.unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium.
    pub async fn start() -> Browser {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so the Chromium it starts goes with it on drop.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {CHROMEDRIVER} ({e}); ./test.sh installs chromium-driver")
            });
        let driver = SocketAddr::from(([127, 0, 0, 1], port));
        let mut ready = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(driver).await.is_ok() {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not listen on {driver}");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1280,1000",
                        "--no-first-run", "--disable-extensions",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            }}
        });
        let created = call(driver, "POST", "/session", Some(&capabilities)).await;
        let session = created["sessionId"].as_str().unwrap().to_owned();
        Browser {
            driver,
            session,
            child,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(
            self.driver,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
        .await
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear (a
    /// click that submits a form may return before the next page is there).
    pub async fn find(&self, css: &str) -> Element {
        for _ in 0..100 {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no `{css}` on {}: {}",
            self.url().await,
            self.body_text_now().await
        )
    }

    /// Waits up to 10 s for the current URL to satisfy `done`.
    pub async fn wait_for_url(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        for _ in 0..100 {
            let url = self.url().await;
            if done(&url) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("waited for {what}; still on {}", self.url().await)
    }

    async fn body_text_now(&self) -> String {
        match self.find_all("body").await.into_iter().next() {
            Some(e) => self.element_text(&e).await,
            None => String::new(),
        }
    }

    pub async fn element_text(&self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.0), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .cmd(
                "POST",
                "/elements",
                Some(&json!({ "using": "css selector", "value": css })),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Element(e[ELEMENT].as_str().unwrap().to_owned()))
            .collect()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{}/clear", e.0), Some(&json!({})))
            .await;
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(&json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.click_element(&e).await;
    }

    pub async fn click_element(&self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(&json!({})))
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.element_text(&e).await
    }

    /// The page's visible text. A page that is being replaced (a form just submitted)
    /// can make the found `body` stale before its text is read: then it is looked up
    /// again, and an empty text is returned if the page keeps changing.
    pub async fn body_text(&self) -> String {
        for _ in 0..10 {
            let Some(body) = self.find_all("body").await.into_iter().next() else {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            let path = format!("/session/{}/element/{}/text", self.session, body.0);
            match call_status(self.driver, "GET", &path, None).await {
                (status, value) if status < 300 => {
                    return value["value"].as_str().unwrap_or_default().to_owned();
                }
                (_, value) if value["value"]["error"] == "stale element reference" => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                (status, value) => panic!("WebDriver GET {path}: {status} {value}"),
            }
        }
        String::new()
    }

    /// A cookie's value (HttpOnly cookies included: WebDriver sees them all).
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let all = self.cmd("GET", "/cookie", None).await;
        all.as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str().map(str::to_owned))
    }

    /// Saves a PNG of the viewport as `target/console-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.cmd("GET", "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Ends the session (Chromium exits) and stops the driver.
    pub async fn quit(self) {
        let _ = self.cmd("DELETE", "", None).await;
    }
}

impl Drop for Browser {
    /// Stops chromedriver and every Chromium process it started, also when a test panics
    /// before [`Browser::quit`]: they share the driver's process group.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// Where screenshots go: `$CARGO_TARGET_DIR/console-screenshots`, else `target/…`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}
