//! What the enrollment token page hands a technician: the `corral-enroll:` link a phone
//! (or a scanner app) needs to enroll, drawn as an inline SVG QR code, and the exact
//! commands — `corral-agent enroll` on a phone, `corral enroll --all` on a station.
//!
//! The link, `corral-enroll://HOST:PORT?ca=FINGERPRINT&token=SECRET`, carries exactly
//! the arguments of `corral-agent enroll --controller HOST:PORT --ca-fingerprint
//! FINGERPRINT --token SECRET`, form-encoded. The SVG is plain markup (a white square and
//! one black path, presentation attributes only), so the strict CSP — no inline script,
//! no inline style — lets it render.
//!
//! Must never: be cached or logged (it holds the token's secret; the page is `no-store`).

use qrcode::{Color, EcLevel, QrCode};

/// The URI scheme of enrollment links.
pub const SCHEME: &str = "corral-enroll";
/// White modules around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// The data is too long for any QR code (never for a real token: a link is ~150 bytes).
#[derive(Debug, thiserror::Error)]
#[error("the enrollment link does not fit in a QR code: {0}")]
pub struct QrError(String);

/// The enrollment link for `controller` (`HOST:PORT` of the enrollment listener).
pub fn enroll_link(controller: &str, ca_fingerprint: &str, token: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("ca", ca_fingerprint)
        .append_pair("token", token)
        .finish();
    format!("{SCHEME}://{controller}?{query}")
}

/// `text` as an SVG QR code (error correction M), one unit per module.
pub fn qr_svg(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(colors.len() * 4);
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the enrollment link\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws the SVG's path back into a grey image, `scale` pixels a module (only the
    /// `Mx yh1v1h-1z` squares `qr_svg` writes), and decodes it with rqrr.
    fn decode(svg: &str, scale: usize) -> String {
        let size: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = vec![false; size * size];
        for square in d.split('M').filter(|s| !s.is_empty()) {
            let square = square.strip_suffix("h1v1h-1z").unwrap();
            let (x, y) = square.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            dark[y * size + x] = true;
        }
        let pixels = size * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(pixels, pixels, |x, y| {
            if dark[(y / scale) * size + x / scale] {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_link_carries_the_agents_arguments_form_encoded() {
        expect_test::expect![[
            r#"corral-enroll://ctl.example:8443?ca=sha256%3Aab01&token=cet_0123456789ab.s%2Bcr%2Ft"#
        ]]
        .assert_eq(&enroll_link(
            "ctl.example:8443",
            "sha256:ab01",
            "cet_0123456789ab.s+cr/t",
        ));
    }

    #[test]
    fn the_svg_decodes_to_the_link() {
        let link = enroll_link(
            "corral.shop.example:8443",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "cet_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef",
        );
        let svg = qr_svg(&link).unwrap();
        assert_eq!(decode(&svg, 4), link);
    }

    #[test]
    fn the_svg_is_inline_markup_without_script_or_style() {
        let svg = qr_svg("corral-enroll://h:1?ca=x&token=y").unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.ends_with("/></svg>"), "{svg}");
        for banned in ["<script", "style=", "<?xml", "href", " on"] {
            assert!(!svg.contains(banned), "{banned} in {svg}");
        }
    }

    #[test]
    fn too_long_for_a_qr_code() {
        assert!(qr_svg(&"x".repeat(5000)).is_err());
    }
}
