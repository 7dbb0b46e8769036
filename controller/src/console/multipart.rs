//! A strict reader of `multipart/form-data` bodies (RFC 7578), enough for the console's
//! file uploads: the boundary from the `Content-Type`, then each part's name, optional
//! file name and bytes. The CSRF guard reads the `csrf` part through it, the import page
//! the file.
//!
//! Must never: panic or allocate beyond the body it was given (the guard caps the body
//! first), or accept a body that does not end with the closing delimiter.

/// Most parts one form may have.
const MAX_PARTS: usize = 16;

/// Why a body is not a form this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the upload is not multipart/form-data with a boundary")]
    NoBoundary,
    #[error("the upload is malformed: {0}")]
    Malformed(&'static str),
    #[error("the upload has more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of `key="…"` in a `Content-Disposition` header.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Every part of `body`, delimited by `boundary`.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let start =
        find(body, delimiter.as_bytes()).ok_or(MultipartError::Malformed("no first boundary"))?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or(MultipartError::Malformed(
            "a boundary is not followed by a line break",
        ))?;
        let header_end =
            find(rest, b"\r\n\r\n").ok_or(MultipartError::Malformed("a part has no header end"))?;
        let headers = std::str::from_utf8(&rest[..header_end])
            .map_err(|_| MultipartError::Malformed("a part's headers are not UTF-8"))?;
        rest = &rest[header_end + 4..];
        let end = find(rest, next_delimiter.as_bytes()).ok_or(MultipartError::Malformed(
            "the body ends before its closing boundary",
        ))?;
        let data = rest[..end].to_vec();
        rest = &rest[end + next_delimiter.len()..];
        let disposition = headers
            .split("\r\n")
            .find_map(|line| {
                let (k, v) = line.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(v)
            })
            .ok_or(MultipartError::Malformed(
                "a part has no Content-Disposition",
            ))?;
        let name = parameter(disposition, "name")
            .ok_or(MultipartError::Malformed("a part has no name"))?;
        parts.push(Part {
            name,
            filename: parameter(disposition, "filename"),
            data,
        });
    }
}

/// The text of part `name`, if there is one and it is UTF-8.
pub fn text_field(parts: &[Part], name: &str) -> Option<String> {
    parts
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| String::from_utf8(p.data.clone()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"book.csv\"\r\nContent-Type: text/csv\r\n\r\nname,number\r\nA,+4930\r\n\r\n--XyZ--\r\n";

    #[test]
    fn parts_are_read_with_names_file_names_and_exact_bytes() {
        let parts = parse(BODY.as_bytes(), "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(text_field(&parts, "csrf").as_deref(), Some("tok"));
        assert_eq!(parts[1].filename.as_deref(), Some("book.csv"));
        assert_eq!(parts[1].data, b"name,number\r\nA,+4930\r\n");
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----WebKitFormBoundaryAbc").as_deref(),
            Some("----WebKitFormBoundaryAbc")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\"").as_deref(),
            Some("q")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn broken_bodies_are_errors_never_panics() {
        for cut in 0..BODY.len() {
            let _ = parse(&BODY.as_bytes()[..cut], "XyZ");
        }
        assert_eq!(
            parse(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
                "XyZ"
            ),
            Err(MultipartError::Malformed(
                "the body ends before its closing boundary"
            ))
        );
        assert_eq!(
            parse(b"--XyZ\r\nX: y\r\n\r\nx\r\n--XyZ--", "XyZ"),
            Err(MultipartError::Malformed(
                "a part has no Content-Disposition"
            ))
        );
        let many =
            "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n".repeat(20) + "--b--";
        assert_eq!(
            parse(many.as_bytes(), "b"),
            Err(MultipartError::TooManyParts)
        );
    }
}
