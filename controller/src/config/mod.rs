//! The controller's one typed configuration.
//!
//! Owns: defaults, the TOML file (`--config FILE`, else `<data-dir>/corral.toml` when it
//! exists), `CORRAL_…` environment overrides, command-line overrides — in that order, later
//! wins — and the rule that an invalid value refuses to start with a message naming the key.
//! Must never: read the process environment directly (callers pass a lookup function, so
//! tests need no `set_var`), or print secrets (`Display` redacts the database password).
//!
//! ```toml
//! [console]     listen = "127.0.0.1:8080"   tls = "off" | "ca" | "files" (tls_cert, tls_key)
//! [gateway]     listen = "0.0.0.0:8443"
//! [enrollment]  listen = "0.0.0.0:8444"     token_ttl = "24h"
//! [database]    url = "postgres://corral@db/corral"   # default: SQLite in the data dir
//! [certificates] device_lifetime = "30d"    server_names = ["localhost", "127.0.0.1"]
//! [retention]   ended_contacts = "30d"  events = "365d"  audit_detail = "90d"  every = "1h"
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Invalid configuration; `key` names the setting (and where it came from).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value does not parse.
    #[error("invalid {key}: {reason}")]
    Invalid { key: String, reason: String },
    /// The configuration file cannot be read or is not valid TOML for this struct.
    #[error("cannot use config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// Where the database is.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://…`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH` or `postgres[ql]://…`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_owned()));
        }
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("sqlite URL names no file".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err("expected postgres://… or sqlite://PATH".into())
    }

    /// The URL for the store, password included.
    pub fn connection_url(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }
}

/// Shows the URL with any password replaced by `***`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The effective configuration of `corral serve` and its sibling commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Console and REST API (`console.listen`).
    pub console_listen: SocketAddr,
    /// Agent gateway, mutual TLS (`gateway.listen`).
    pub gateway_listen: SocketAddr,
    /// Enrollment, server-authenticated TLS (`enrollment.listen`).
    pub enrollment_listen: SocketAddr,
    /// Default lifetime of enrollment tokens (`enrollment.token_ttl`).
    pub enrollment_token_ttl: Duration,
    pub database: DatabaseUrl,
    /// Lifetime of device certificates (`certificates.device_lifetime`).
    pub device_cert_lifetime: Duration,
    /// Names in the listeners' server certificate (`certificates.server_names`).
    pub server_names: Vec<String>,
    /// Whether and how the console serves HTTPS itself (`console.tls`).
    pub console_tls: ConsoleTls,
    /// How long personal data is kept (`[retention]`).
    pub retention: Retention,
}

/// The retention job's windows (`[retention]`); see `docs/privacy.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// A contact without a lawful basis is erased this long after its last change
    /// (`retention.ended_contacts`, default 30 days).
    pub ended_contacts: Duration,
    /// Event-log entries (device events and audit entries: one hash chain) older than this
    /// are deleted through a checkpoint (`retention.events`, default 365 days).
    pub events: Duration,
    /// The detail of event-log entries older than this is redacted; who, what and when
    /// stay until `events` (`retention.audit_detail`, default 90 days, at most `events`).
    pub audit_detail: Duration,
    /// How often `corral serve` runs the job (`retention.every`, default 1 hour).
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Retention {
            ended_contacts: Duration::from_secs(30 * DAY),
            events: Duration::from_secs(365 * DAY),
            audit_detail: Duration::from_secs(90 * DAY),
            every: Duration::from_secs(3600),
        }
    }
}

/// How the console listener speaks: plain HTTP (for loopback or behind a TLS-terminating
/// proxy), HTTPS with a certificate from the internal CA for `certificates.server_names`,
/// or HTTPS with a supplied certificate chain and key (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleTls {
    /// `console.tls = "off"` (the default).
    Off,
    /// `console.tls = "ca"`.
    Ca,
    /// `console.tls = "files"` with `console.tls_cert` and `console.tls_key`.
    Files { cert: PathBuf, key: PathBuf },
}

impl fmt::Display for ConsoleTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleTls::Off => write!(f, "tls = \"off\""),
            ConsoleTls::Ca => write!(f, "tls = \"ca\""),
            ConsoleTls::Files { cert, key } => write!(
                f,
                "tls = \"files\"\ntls_cert = {:?}\ntls_key = {:?}",
                cert.display().to_string(),
                key.display().to_string()
            ),
        }
    }
}

/// Command-line values; `None` leaves the file/environment value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub console_listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    console: ConsoleSection,
    #[serde(default)]
    gateway: Listen,
    #[serde(default)]
    enrollment: EnrollmentSection,
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    certificates: CertificatesSection,
    #[serde(default)]
    retention: RetentionSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionSection {
    ended_contacts: Option<String>,
    events: Option<String>,
    audit_detail: Option<String>,
    every: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Listen {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsoleSection {
    listen: Option<String>,
    tls: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollmentSection {
    listen: Option<String>,
    token_ttl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificatesSection {
    device_lifetime: Option<String>,
    server_names: Option<Vec<String>>,
}

/// One setting's raw value and where it came from, for error messages.
struct Raw {
    value: String,
    origin: String,
}

/// Picks a setting: command line, else environment, else file. `None` means default.
fn pick(
    key: &str,
    cli: Option<&String>,
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<&String>,
) -> Option<Raw> {
    let var = format!("CORRAL_{}", key.replace('.', "_").to_uppercase());
    if let Some(v) = cli {
        return Some(Raw {
            value: v.clone(),
            origin: format!("{key} (command line)"),
        });
    }
    if let Some(v) = env(&var) {
        return Some(Raw {
            value: v,
            origin: format!("{key} (from {var})"),
        });
    }
    file.map(|v| Raw {
        value: v.clone(),
        origin: key.to_owned(),
    })
}

fn parse_with<T>(
    raw: Option<Raw>,
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => parse(raw.value.trim()).map_err(|reason| ConfigError::Invalid {
            key: raw.origin,
            reason,
        }),
    }
}

fn socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:8080"))
}

/// `90s`, `15m`, `24h`, `30d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 90s, 15m, 24h or 30d");
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let d = Duration::from_secs(n.checked_mul(secs).ok_or_else(bad)?);
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

/// Formats a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

impl Config {
    /// Builds the effective configuration for `data_dir`: defaults, then the file, then
    /// `env` (`CORRAL_CONSOLE_LISTEN`, `CORRAL_DATABASE_URL`, …), then `overrides`.
    pub fn load(
        data_dir: &Path,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = Self::read_file(data_dir, overrides.config_file.as_deref())?;
        let sqlite = DatabaseUrl::Sqlite(data_dir.join("corral.db"));
        let names = file.certificates.server_names.as_ref().map(|v| v.join(","));
        Ok(Config {
            data_dir: data_dir.to_owned(),
            console_listen: parse_with(
                pick(
                    "console.listen",
                    overrides.console_listen.as_ref(),
                    env,
                    file.console.listen.as_ref(),
                ),
                SocketAddr::from(([127, 0, 0, 1], 8080)),
                socket_addr,
            )?,
            gateway_listen: parse_with(
                pick("gateway.listen", None, env, file.gateway.listen.as_ref()),
                SocketAddr::from(([0, 0, 0, 0], 8443)),
                socket_addr,
            )?,
            enrollment_listen: parse_with(
                pick(
                    "enrollment.listen",
                    None,
                    env,
                    file.enrollment.listen.as_ref(),
                ),
                SocketAddr::from(([0, 0, 0, 0], 8444)),
                socket_addr,
            )?,
            enrollment_token_ttl: parse_with(
                pick(
                    "enrollment.token_ttl",
                    None,
                    env,
                    file.enrollment.token_ttl.as_ref(),
                ),
                Duration::from_secs(24 * 3600),
                parse_duration,
            )?,
            database: parse_with(
                pick(
                    "database.url",
                    overrides.database_url.as_ref(),
                    env,
                    file.database.url.as_ref(),
                ),
                sqlite,
                DatabaseUrl::parse,
            )?,
            device_cert_lifetime: parse_with(
                pick(
                    "certificates.device_lifetime",
                    None,
                    env,
                    file.certificates.device_lifetime.as_ref(),
                ),
                Duration::from_secs(30 * 86_400),
                parse_duration,
            )?,
            server_names: parse_with(
                pick("certificates.server_names", None, env, names.as_ref()),
                vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
                |s| {
                    let names: Vec<String> = s
                        .split(',')
                        .map(|n| n.trim().to_owned())
                        .filter(|n| !n.is_empty())
                        .collect();
                    if names.is_empty() {
                        Err("must name at least one host".into())
                    } else {
                        Ok(names)
                    }
                },
            )?,
            console_tls: console_tls(&file.console, env)?,
            retention: retention(&file.retention, env)?,
        })
    }

    fn read_file(data_dir: &Path, explicit: Option<&Path>) -> Result<FileConfig, ConfigError> {
        let default = data_dir.join("corral.toml");
        let path = match explicit {
            Some(p) => p.to_owned(),
            None if default.exists() => default,
            None => return Ok(FileConfig::default()),
        };
        let file_err = |reason: String| ConfigError::File {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| file_err(e.to_string().trim_end().to_owned()))
    }
}

/// `console.tls` and, for `files`, `console.tls_cert` and `console.tls_key`.
fn console_tls(
    file: &ConsoleSection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConsoleTls, ConfigError> {
    let mode = parse_with(
        pick("console.tls", None, env, file.tls.as_ref()),
        "off".to_owned(),
        |s| match s {
            "off" | "ca" | "files" => Ok(s.to_owned()),
            _ => Err("must be \"off\", \"ca\" or \"files\"".into()),
        },
    )?;
    let path = |key: &str, value: Option<&String>| {
        parse_with(
            pick(key, None, env, value),
            None,
            |s| -> Result<Option<PathBuf>, String> { Ok(Some(PathBuf::from(s))) },
        )
    };
    let cert = path("console.tls_cert", file.tls_cert.as_ref())?;
    let key = path("console.tls_key", file.tls_key.as_ref())?;
    Ok(match (mode.as_str(), cert, key) {
        ("off", _, _) => ConsoleTls::Off,
        ("ca", _, _) => ConsoleTls::Ca,
        (_, Some(cert), Some(key)) => ConsoleTls::Files { cert, key },
        _ => {
            return Err(ConfigError::Invalid {
                key: "console.tls".into(),
                reason: "\"files\" needs console.tls_cert and console.tls_key".into(),
            });
        }
    })
}

/// `[retention]`: each window a duration; the detail never outlives its entry.
fn retention(
    file: &RetentionSection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Retention, ConfigError> {
    let defaults = Retention::default();
    let window = |key: &str, value: Option<&String>, default: Duration| {
        parse_with(pick(key, None, env, value), default, parse_duration)
    };
    let retention = Retention {
        ended_contacts: window(
            "retention.ended_contacts",
            file.ended_contacts.as_ref(),
            defaults.ended_contacts,
        )?,
        events: window("retention.events", file.events.as_ref(), defaults.events)?,
        audit_detail: window(
            "retention.audit_detail",
            file.audit_detail.as_ref(),
            defaults.audit_detail,
        )?,
        every: window("retention.every", file.every.as_ref(), defaults.every)?,
    };
    if retention.audit_detail > retention.events {
        return Err(ConfigError::Invalid {
            key: "retention.audit_detail".into(),
            reason: format!(
                "{} is longer than retention.events ({}): the detail goes with its entry",
                format_duration(retention.audit_detail),
                format_duration(retention.events)
            ),
        });
    }
    if retention.every > Duration::from_secs(86_400) {
        return Err(ConfigError::Invalid {
            key: "retention.every".into(),
            reason: "must be at most 1d, or data outlives its window by more than a day".into(),
        });
    }
    Ok(retention)
}

/// The effective configuration as TOML, secrets redacted (what `corral check-config` prints).
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.server_names.iter().map(|n| format!("{n:?}")).collect();
        writeln!(f, "# data directory: {}", self.data_dir.display())?;
        writeln!(
            f,
            "[console]\nlisten = \"{}\"\n{}\n",
            self.console_listen, self.console_tls
        )?;
        writeln!(f, "[gateway]\nlisten = \"{}\"\n", self.gateway_listen)?;
        writeln!(
            f,
            "[enrollment]\nlisten = \"{}\"\ntoken_ttl = \"{}\"\n",
            self.enrollment_listen,
            format_duration(self.enrollment_token_ttl)
        )?;
        writeln!(f, "[database]\nurl = \"{}\"\n", self.database)?;
        writeln!(
            f,
            "[certificates]\ndevice_lifetime = \"{}\"\nserver_names = [{}]\n",
            format_duration(self.device_cert_lifetime),
            names.join(", ")
        )?;
        write!(
            f,
            "[retention]\nended_contacts = \"{}\"\nevents = \"{}\"\naudit_detail = \"{}\"\nevery = \"{}\"\n",
            format_duration(self.retention.ended_contacts),
            format_duration(self.retention.events),
            format_duration(self.retention.audit_detail),
            format_duration(self.retention.every)
        )
    }
}

#[cfg(test)]
mod tests;
