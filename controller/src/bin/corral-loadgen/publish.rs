//! The fleet-wide push as an administrator makes it: a profile upload to the REST API
//! (`POST /api/v1/profiles`) of the running controller, so the publish transaction and
//! the hand-over of the queued pushes to the gateway run in the controller, as in
//! production.
//!
//! Owns: the API token (created through the store for the first admin), the profile
//! files of a run (the `base` example and the butcher-shop example renamed `loadgen`,
//! with a per-run description so every run is a new version), and a minimal HTTP/1.1
//! client for two requests.
//! Must never: publish anything but the `loadgen` profile and its parent.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use corral_controller::domain::{ApiToken, Timestamp};
use corral_controller::store::Store;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fleet;

/// An upload of one run's profile version.
pub struct Upload {
    api: SocketAddr,
    token: String,
    body: Value,
}

impl Upload {
    /// A new API token for the first admin and this run's files.
    pub async fn prepare(store: &Store, api: SocketAddr) -> Result<Upload> {
        let now = Timestamp::now();
        let admin = store
            .first_admin()
            .await
            .context("no admin account in the data directory")?;
        let token = ApiToken::generate();
        store
            .create_api_token(
                &admin,
                &token,
                "corral-loadgen",
                Some(now.plus(std::time::Duration::from_secs(3600))),
                now,
            )
            .await?;
        let profile = include_str!("../../../../profiles/examples/butcher-shop.toml")
            .replace(
                "name = \"butcher-shop\"",
                &format!("name = \"{}\"", fleet::PROFILE),
            )
            .lines()
            .map(|line| {
                if line.starts_with("description = ") {
                    format!("description = \"corral-loadgen run {}\"", now.unix_millis())
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let body = json!({ "files": [
            { "name": "base.toml", "text": include_str!("../../../../profiles/examples/base.toml") },
            { "name": "loadgen.toml", "text": profile },
        ]});
        Ok(Upload {
            api,
            token: token.reveal(),
            body,
        })
    }

    /// The version the upload will publish (`POST /profiles/validate`, changes nothing).
    pub async fn version(&self) -> Result<String> {
        let answer = self.post("/api/v1/profiles/validate", 200).await?;
        find_version(&answer["profiles"])
    }

    /// Publishes; returns the version and how many devices got a push.
    pub async fn publish(&self) -> Result<(String, usize)> {
        let answer = self.post("/api/v1/profiles", 201).await?;
        let version = find_version(&answer["published"])?;
        let affected = answer["published"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == fleet::PROFILE))
            .and_then(|p| p["devices_affected"].as_u64())
            .unwrap_or(0);
        Ok((version, usize::try_from(affected).unwrap_or(0)))
    }

    async fn post(&self, path: &str, expect: u16) -> Result<Value> {
        let body = self.body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.api,
            self.token,
            body.len()
        );
        let mut stream = TcpStream::connect(self.api).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n").context("no HTTP answer")?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no HTTP status")?;
        if status != expect {
            bail!("{path} answered {status}: {body}");
        }
        Ok(serde_json::from_str(body)?)
    }
}

fn find_version(profiles: &Value) -> Result<String> {
    profiles
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == fleet::PROFILE))
        .and_then(|p| p["version"].as_str())
        .map(str::to_owned)
        .context("the answer names no version of the loadgen profile")
}
