//! A small HTTP/1.1 client for the controller's REST API on plain tokio: one request per
//! connection (`Connection: close`), JSON bodies, `Authorization: Bearer`, a deadline per
//! request and a cap on the answer's size. The controller serves its API over plain HTTP
//! (put a TLS-terminating proxy in front of it across networks), so this needs no TLS
//! stack and adds no dependency.
//!
//! Errors name the controller's URL and what to do (start it, fix the token, use a
//! token whose role may do this).
//!
//! Must never: show the API token (it is redacted in `Debug`), or follow redirects.

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest answer read (the fleet of a large shop, with room to spare).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;
/// How long one request may take, connection included.
const DEADLINE: Duration = Duration::from_secs(60);

/// Why a request to the controller failed, named for what the caller can do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RestError {
    /// `--controller` is not an `http://HOST:PORT` URL.
    #[error(
        "--controller `{url}` is not usable: {reason}; give the console's address, e.g. http://127.0.0.1:8080"
    )]
    BadUrl { url: String, reason: String },
    /// Nothing answered at the URL, or the connection broke.
    #[error(
        "cannot reach the controller at {url}: {reason}; check --controller and that `corral serve` runs there"
    )]
    Unreachable { url: String, reason: String },
    /// The API token was refused.
    #[error(
        "the controller at {url} refused the API token ({message}); create one with `corral admin token` and pass it in CORRAL_API_TOKEN or --token-file"
    )]
    Unauthorized { url: String, message: String },
    /// The token's user may not do this.
    #[error(
        "the controller at {url} does not let this token's user do that ({message}); use an API token of an admin or technician"
    )]
    Forbidden { url: String, message: String },
    /// The controller answered with an error.
    #[error("the controller at {url} answered {status}: {message}")]
    Api {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The answer was not HTTP or not the JSON expected.
    #[error("the controller at {url} gave an answer corral does not understand: {reason}")]
    BadAnswer { url: String, reason: String },
}

impl RestError {
    /// Whether retrying later may help (the controller is down or overloaded).
    pub fn is_transient(&self) -> bool {
        match self {
            RestError::Unreachable { .. } => true,
            RestError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// An API token; never printed.
#[derive(Clone)]
pub struct ApiSecret(String);

impl ApiSecret {
    /// Wraps a token read from the environment or a file (surrounding space trimmed).
    pub fn new(token: &str) -> ApiSecret {
        ApiSecret(token.trim().to_owned())
    }
}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecret(<redacted>)")
    }
}

/// The controller's REST API at one base URL, with one token.
#[derive(Debug, Clone)]
pub struct Client {
    /// As given, without a trailing slash (for messages).
    url: String,
    host: String,
    port: u16,
    /// Path before `/api/v1` (empty, or e.g. `/corral` behind a proxy).
    base_path: String,
    token: ApiSecret,
}

/// An answer: status and JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    /// A client for `url` (`http://HOST[:PORT][/PATH]`).
    pub fn new(url: &str, token: ApiSecret) -> Result<Client, RestError> {
        let bad = |reason: &str| RestError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim_end_matches('/');
        let rest = if let Some(rest) = trimmed.strip_prefix("http://") {
            rest
        } else if trimmed.starts_with("https://") {
            return Err(bad(
                "the station speaks plain HTTP to the controller (as `corral serve` listens); use http:// or a tunnel",
            ));
        } else {
            return Err(bad("it must start with http://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("it needs a host and no user name"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?;
                (h, port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        Ok(Client {
            url: trimmed.to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            base_path: path.to_owned(),
            token,
        })
    }

    /// The URL as given (for messages).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The controller's host name or address, as the URL names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `GET /api/v1{path}`; the body of a 2xx answer.
    pub async fn get(&self, path: &str) -> Result<Value, RestError> {
        Ok(self.call("GET", path, None).await?.body)
    }

    /// `METHOD /api/v1{path}` with an optional JSON body; 2xx answers are returned, the
    /// others turned into [`RestError`]s.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, RestError> {
        let answer = match tokio::time::timeout(DEADLINE, self.exchange(method, path, body)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(RestError::Unreachable {
                    url: self.url.clone(),
                    reason: format!("no answer to {method} {path} within {DEADLINE:?}"),
                });
            }
        };
        let message = || {
            answer.body["error"]["message"]
                .as_str()
                .map_or_else(|| answer.body.to_string(), str::to_owned)
        };
        match answer.status {
            200..=299 => Ok(answer),
            401 => Err(RestError::Unauthorized {
                url: self.url.clone(),
                message: message(),
            }),
            403 => Err(RestError::Forbidden {
                url: self.url.clone(),
                message: message(),
            }),
            status => Err(RestError::Api {
                url: self.url.clone(),
                status,
                code: answer.body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                message: format!("{method} {path}: {}", message()),
            }),
        }
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, RestError> {
        let unreachable = |e: std::io::Error| RestError::Unreachable {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(unreachable)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut head = format!(
            "{method} {}/api/v1{path} HTTP/1.1\r\nHost: {}:{}\r\nAuthorization: Bearer {}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.base_path,
            self.host,
            self.port,
            self.token.0,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(unreachable)?;
        stream
            .write_all(body.as_bytes())
            .await
            .map_err(unreachable)?;
        let mut raw = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER + 1)
            .read_to_end(&mut raw)
            .await
            .map_err(unreachable)?;
        if raw.len() as u64 > MAX_ANSWER {
            return Err(self.bad_answer(format!("more than {MAX_ANSWER} bytes")));
        }
        let (status, body) = parse_response(&raw).map_err(|reason| self.bad_answer(reason))?;
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| self.bad_answer(format!("not JSON (HTTP {status}): {e}")))?
        };
        Ok(Answer { status, body })
    }

    fn bad_answer(&self, reason: String) -> RestError {
        RestError::BadAnswer {
            url: self.url.clone(),
            reason,
        }
    }
}

/// Splits a whole HTTP/1.1 response into its status and (de-chunked) body.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of the headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers are not text")?;
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("not a header line: {line:?}"));
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if name == "content-length" {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?,
            );
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        match length {
            Some(n) if n <= body.len() => body[..n].to_vec(),
            Some(n) => return Err(format!("{} of {n} body bytes arrived", body.len())),
            None => body.to_vec(),
        }
    };
    Ok((status, body))
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut short")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err("a chunk is cut short".into());
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Result<(String, u16, String), String> {
        Client::new(url, ApiSecret::new("t"))
            .map(|c| (c.host, c.port, c.base_path))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn urls() {
        assert_eq!(
            client("http://127.0.0.1:8080/"),
            Ok(("127.0.0.1".into(), 8080, String::new()))
        );
        assert_eq!(
            client("http://ctl.example/corral"),
            Ok(("ctl.example".into(), 80, "/corral".into()))
        );
        assert_eq!(
            client("http://[::1]:9000"),
            Ok(("::1".into(), 9000, String::new()))
        );
        expect_test::expect![[r#"
            "--controller `https://x` is not usable: the station speaks plain HTTP to the controller (as `corral serve` listens); use http:// or a tunnel; give the console's address, e.g. http://127.0.0.1:8080"
        "#]]
        .assert_debug_eq(&client("https://x").unwrap_err());
        expect_test::expect![[r#"
            "--controller `127.0.0.1:8080` is not usable: it must start with http://; give the console's address, e.g. http://127.0.0.1:8080"
        "#]]
        .assert_debug_eq(&client("127.0.0.1:8080").unwrap_err());
        assert!(client("http://h:port").is_err());
    }

    #[test]
    fn responses() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain), Ok((200, b"{}".to_vec())));
        let chunked =
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Ok((201, b"{\"a\":1}".to_vec())));
        let empty = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(parse_response(empty), Ok((204, Vec::new())));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }

    #[test]
    fn the_token_is_not_printed() {
        let c = Client::new("http://h:1", ApiSecret::new("api-secret.value")).unwrap();
        assert!(!format!("{c:?}").contains("secret.value"));
    }
}
