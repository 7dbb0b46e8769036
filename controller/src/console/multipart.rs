//! A small `multipart/form-data` reader (RFC 7578) for the console's one file picker,
//! the profile upload: the parts of a body already read whole and bounded by the session
//! guard (`MAX_FORM_BYTES`), each with its field name, file name and bytes. Pure.
//!
//! Only what browsers send: a boundary parameter, CRLF line ends, a
//! `Content-Disposition: form-data; name="…"` header per part (other headers ignored).
//! Must never: panic or allocate beyond the body on any input (fuzzed by a property test).

/// A body that is not the multipart form it claims to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the form names no multipart boundary")]
    NoBoundary,
    #[error("the multipart form is malformed: {0}")]
    Malformed(&'static str),
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    /// The picked file's name (`filename=`), for file fields.
    pub file_name: Option<String>,
    pub body: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type; `None` for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
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

/// The parts of `body`, in order.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let malformed = MultipartError::Malformed;
    let delimiter = format!("--{boundary}");
    let between = format!("\r\n--{boundary}");
    let start = find(body, delimiter.as_bytes()).ok_or(malformed("no boundary in the body"))?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or(malformed("a boundary is not followed by a line end"))?;
        let head_end = find(rest, b"\r\n\r\n").ok_or(malformed("a part has no header end"))?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| malformed("a header is not UTF-8"))?;
        let after_head = &rest[head_end + 4..];
        let end = find(after_head, between.as_bytes()).ok_or(malformed("the form is cut off"))?;
        let (name, file_name) = disposition(head)?;
        parts.push(Part {
            name,
            file_name,
            body: &after_head[..end],
        });
        rest = &after_head[end + between.len()..];
    }
}

/// The field name and file name of a part's headers.
fn disposition(head: &str) -> Result<(String, Option<String>), MultipartError> {
    let value = head
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
    let mut name = None;
    let mut file_name = None;
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
            .to_owned();
        match k.trim() {
            "name" => name = Some(v),
            "filename" => file_name = Some(v),
            _ => {}
        }
    }
    let name = name.ok_or(MultipartError::Malformed("a part has no field name"))?;
    Ok((name, file_name))
}

/// The text of field `name` in a multipart `body` (the CSRF token for the guard).
pub fn field(content_type: &str, body: &[u8], name: &str) -> Option<String> {
    let boundary = boundary(content_type)?;
    parse(body, &boundary)
        .ok()?
        .into_iter()
        .find(|p| p.name == name && p.file_name.is_none())
        .and_then(|p| String::from_utf8(p.body.to_vec()).ok())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use proptest::prelude::*;

    use super::*;

    fn check(content_type: &str, body: &str, expect: Expect) {
        let out = match boundary(content_type) {
            None => "no boundary".to_owned(),
            Some(b) => match parse(body.as_bytes(), &b) {
                Err(e) => e.to_string(),
                Ok(parts) => parts
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {:?} {:?}\n",
                            p.name,
                            p.file_name,
                            String::from_utf8_lossy(p.body)
                        )
                    })
                    .collect(),
            },
        };
        expect.assert_eq(&out);
    }

    const FORM: &str = "multipart/form-data; boundary=----WebKitFormBoundaryX";

    #[test]
    fn a_browsers_upload() {
        check(
            FORM,
            "------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
             ------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"shop.toml\"\r\n\
             Content-Type: application/toml\r\n\r\nname = \"shop\"\r\n[messenger]\r\n\r\n\
             ------WebKitFormBoundaryX--\r\n",
            expect![[r#"
                csrf None "abc"
                file Some("shop.toml") "name = \"shop\"\r\n[messenger]\r\n"
            "#]],
        );
    }

    #[test]
    fn an_empty_file_and_a_quoted_boundary() {
        check(
            "multipart/form-data; boundary=\"b\"",
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n--b--",
            expect![[r#"
                file Some("") ""
            "#]],
        );
    }

    #[test]
    fn not_multipart_or_broken() {
        check(
            "application/x-www-form-urlencoded",
            "",
            expect!["no boundary"],
        );
        check(
            FORM,
            "nothing",
            expect!["the multipart form is malformed: no boundary in the body"],
        );
        check(
            FORM,
            "------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut",
            expect!["the multipart form is malformed: the form is cut off"],
        );
        check(
            FORM,
            "------WebKitFormBoundaryX\r\nX: y\r\n\r\nv\r\n------WebKitFormBoundaryX--",
            expect!["the multipart form is malformed: a part has no Content-Disposition"],
        );
    }

    #[test]
    fn the_guard_reads_the_csrf_field() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nt0k\r\n--b--";
        let ct = "multipart/form-data; boundary=b";
        assert_eq!(field(ct, body.as_bytes(), "csrf").as_deref(), Some("t0k"));
        assert_eq!(field(ct, body.as_bytes(), "other"), None);
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..512), b in "[a-z-]{1,8}") {
            let _ = parse(&body, &b);
        }
    }
}
