//! Security headers on every console response: a strict Content Security Policy (no inline
//! script, no framing), no MIME sniffing, no referrer to other sites, no caching of pages
//! that show fleet data, and HSTS when served over TLS; a stricter policy still, and no
//! referrer at all, on the public consent pages.
//!
//! Must never: allow inline script or framing; send HSTS over plain HTTP (it would be
//! ignored there, and pins nothing).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content Security Policy: everything from this origin only, no plugins, forms post
/// only here, no framing by anyone.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the public consent pages: nothing but this site's stylesheet, forms
/// post only here, no framing.
pub const PUBLIC_CSP: &str =
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'";

/// Sets the headers of a public consent page: [`apply`] with [`PUBLIC_CSP`] and no
/// referrer at all (the address holds the link's token).
pub fn apply_public(headers: &mut HeaderMap, tls: bool) {
    apply(headers, tls);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PUBLIC_CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Sets the headers on `headers` (already-set values are replaced).
pub fn apply(headers: &mut HeaderMap, tls: bool) {
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    if tls {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
}

/// Middleware: [`apply`] to every response.
pub async fn security_headers(State(tls): State<bool>, request: Request, next: Next) -> Response {
    let public = super::session::is_consent_page(request.uri().path());
    let mut response = next.run(request).await;
    if public {
        apply_public(response.headers_mut(), tls);
    } else {
        apply(response.headers_mut(), tls);
    }
    response
}
