//! Downloading profiles as TOML files: the current source as last uploaded (with its
//! `extends` and comments) and any stored version's canonical TOML.
//!
//! Must never: put anything but a sanitised file name into `Content-Disposition`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::ConsoleState;
use super::error::ConsoleError;
use super::profile_edit::profile_name;
use super::session::Viewer;
use crate::domain::VersionHash;
use crate::store::StoreError;

/// `name` reduced to letters, digits, `.`, `-` and `_` (never empty), so the header
/// needs no quoting rules.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "profile.toml".to_owned()
    } else {
        cleaned
    }
}

fn attachment(file_name: &str, text: String) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", safe_file_name(file_name));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/toml; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        text,
    )
        .into_response()
}

/// `GET /profiles/{name}/source.toml`: the source as last uploaded; for a profile
/// published without one, the current version's canonical TOML.
pub async fn source(
    _: Viewer,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let store = &console.app.store;
    match store.profile_source(&name).await {
        Ok(s) => Ok(attachment(&s.file_name, s.source)),
        Err(StoreError::NotFound(_)) => {
            let current = store.current_profile_version(&name).await?;
            Ok(attachment(&format!("{name}.toml"), current.canonical_toml))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /profiles/{name}/versions/{version}/toml`: one version's canonical TOML.
pub async fn version(
    _: Viewer,
    State(console): State<ConsoleState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let parsed: VersionHash = version
        .parse()
        .map_err(|_| ConsoleError::NotFound(format!("no version `{version}` of `{name}`")))?;
    let v = console.app.store.profile_version(&name, &parsed).await?;
    let short = v.version.as_str().trim_start_matches("sha256:");
    let short = &short[..short.len().min(12)];
    Ok(attachment(
        &format!("{name}-{short}.toml"),
        v.canonical_toml,
    ))
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn file_names_in_the_header_are_plain() {
        assert_eq!(safe_file_name("butcher-shop.toml"), "butcher-shop.toml");
        assert_eq!(safe_file_name("a\"b;c\r\n.toml"), "a_b_c__.toml");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(""), "profile.toml");
    }
}
