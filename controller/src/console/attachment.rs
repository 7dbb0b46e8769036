//! File downloads from the console: a body with its content type and a sanitised
//! `Content-Disposition` file name (the contact book export, the person record, the
//! records of processing).
//!
//! Must never: put anything but a sanitised file name into the header.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::profile_download::safe_file_name;

/// `body` as a download named `file_name`.
pub fn attachment(file_name: &str, content_type: &'static str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", safe_file_name(file_name));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}
