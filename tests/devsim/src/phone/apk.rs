//! Test APKs: how the simulated package manager recognises an APK, and a builder that
//! makes one.
//!
//! **The test-APK format.** An APK is a ZIP archive (`PK\x03\x04` …) holding an entry
//! `AndroidManifest.xml`. Real APKs compress a *binary* XML manifest; the simulator reads
//! only a **stored (uncompressed) text** manifest, of which it needs:
//! `<manifest package="…" android:versionCode="…" android:versionName="…">`,
//! `<uses-permission android:name="…"/>`, `<application android:testOnly="true">` and
//! `<receiver android:name="…" android:permission="android.permission.BIND_DEVICE_ADMIN">`
//! (a device-admin receiver `dpm` can use). [`TestApk`] builds exactly that, as a real
//! ZIP that `unzip` and `adb install` handle. Anything that is not a ZIP with such an
//! entry is rejected the way Android rejects a file that is not an APK.

use std::fmt::Write as _;

/// What the package manager learned from an APK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkInfo {
    pub package: String,
    pub version_code: i64,
    pub version_name: String,
    pub permissions: Vec<String>,
    /// Device-admin receivers, full class names.
    pub admin_receivers: Vec<String>,
    pub test_only: bool,
}

/// Why an APK could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApkError {
    /// Not a ZIP, or no `AndroidManifest.xml` in it (`INSTALL_PARSE_FAILED_NOT_APK`).
    #[error("not an APK")]
    NotApk,
    /// The manifest lacks `package` or has a bad version (`…_MANIFEST_MALFORMED`).
    #[error("malformed manifest: {0}")]
    Malformed(String),
}

/// A test APK to build; see the module docs for the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestApk {
    pub package: String,
    pub version_code: i64,
    pub permissions: Vec<String>,
    /// Device-admin receiver class names (`.Admin` or fully qualified).
    pub admin_receivers: Vec<String>,
    pub test_only: bool,
    /// Extra bytes of padding (a stored `assets/padding.bin`), to make big APKs.
    pub padding: usize,
}

impl TestApk {
    /// A plain app with no permissions and no admin receiver.
    pub fn new(package: impl Into<String>, version_code: i64) -> Self {
        TestApk {
            package: package.into(),
            version_code,
            permissions: Vec::new(),
            admin_receivers: Vec::new(),
            test_only: false,
            padding: 0,
        }
    }

    /// The manifest text.
    pub fn manifest(&self) -> String {
        let mut m = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        let _ = writeln!(
            m,
            "<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" package=\"{}\" android:versionCode=\"{}\" android:versionName=\"{}.0\">",
            self.package, self.version_code, self.version_code
        );
        for p in &self.permissions {
            let _ = writeln!(m, "    <uses-permission android:name=\"{p}\"/>");
        }
        let test_only = if self.test_only {
            " android:testOnly=\"true\""
        } else {
            ""
        };
        let _ = writeln!(
            m,
            "    <application android:label=\"{}\"{test_only}>",
            self.package
        );
        for r in &self.admin_receivers {
            let _ = writeln!(
                m,
                "        <receiver android:name=\"{r}\" android:permission=\"android.permission.BIND_DEVICE_ADMIN\">\n            <meta-data android:name=\"android.app.device_admin\" android:resource=\"@xml/device_admin\"/>\n        </receiver>"
            );
        }
        m.push_str("    </application>\n</manifest>\n");
        m
    }

    /// The APK bytes: a stored ZIP with the manifest, a placeholder dex and padding.
    pub fn build(&self) -> Vec<u8> {
        let mut entries: Vec<(&str, Vec<u8>)> = vec![
            ("AndroidManifest.xml", self.manifest().into_bytes()),
            ("classes.dex", b"dex\n035\0".to_vec()),
        ];
        if self.padding > 0 {
            entries.push(("assets/padding.bin", vec![0x5a; self.padding]));
        }
        zip_stored(&entries)
    }
}

/// A minimal test APK for `package` at `version` (see the module docs).
pub fn build_test_apk(package: &str, version: i64) -> Vec<u8> {
    TestApk::new(package, version).build()
}

/// Reads the manifest of an APK.
pub fn parse_apk(bytes: &[u8]) -> Result<ApkInfo, ApkError> {
    let manifest = find_stored_entry(bytes, "AndroidManifest.xml").ok_or(ApkError::NotApk)?;
    let text = std::str::from_utf8(manifest).map_err(|_| ApkError::NotApk)?;
    let head = tag(text, "<manifest").ok_or(ApkError::NotApk)?;
    let package = attr(head, "package")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApkError::Malformed("<manifest> does not specify package".into()))?;
    let version_code = match attr(head, "android:versionCode") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApkError::Malformed(format!("bad versionCode {v}")))?,
    };
    let version_name = attr(head, "android:versionName").unwrap_or_default();
    let permissions = tags(text, "<uses-permission")
        .filter_map(|t| attr(t, "android:name"))
        .collect();
    let admin_receivers = tags(text, "<receiver")
        .filter(|t| {
            attr(t, "android:permission").as_deref() == Some("android.permission.BIND_DEVICE_ADMIN")
        })
        .filter_map(|t| attr(t, "android:name"))
        .map(|name| full_class_name(&package, &name))
        .collect();
    let test_only = tag(text, "<application")
        .and_then(|t| attr(t, "android:testOnly"))
        .is_some_and(|v| v == "true");
    Ok(ApkInfo {
        package,
        version_code,
        version_name,
        permissions,
        admin_receivers,
        test_only,
    })
}

/// `.Admin` → `pkg.Admin`; a name without dots is also relative to the package.
pub fn full_class_name(package: &str, name: &str) -> String {
    if name.starts_with('.') {
        format!("{package}{name}")
    } else if !name.contains('.') {
        format!("{package}.{name}")
    } else {
        name.to_string()
    }
}

fn tag<'a>(text: &'a str, open: &'a str) -> Option<&'a str> {
    tags(text, open).next()
}

fn tags<'a>(text: &'a str, open: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(open).filter_map(move |(i, _)| {
        let rest = &text[i + open.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            return None;
        }
        rest.find('>').map(|end| &rest[..end])
    })
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let mut search = tag;
    while let Some(i) = search.find(&needle) {
        let before_ok = i == 0 || search[..i].ends_with(char::is_whitespace);
        let rest = &search[i + needle.len()..];
        if before_ok {
            return rest.find('"').map(|end| rest[..end].to_string());
        }
        search = rest;
    }
    None
}

/// CRC-32 (IEEE) as ZIP uses it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn zip_stored(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let header = |sig: u32, central_dir: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central_dir {
                h.extend_from_slice(&20u16.to_le_bytes()); // version made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
            h.extend_from_slice(&0u16.to_le_bytes()); // time
            h.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra length
            if central_dir {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
                h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend_from_slice(&header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend_from_slice(&header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // disk numbers
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Finds a stored entry through the central directory; `None` for anything else
/// (including compressed entries and truncated or hostile archives).
fn find_stored_entry<'a>(b: &'a [u8], wanted: &str) -> Option<&'a [u8]> {
    if !b.starts_with(b"PK\x03\x04") || b.len() < 22 {
        return None;
    }
    let search_from = b.len().saturating_sub(22 + 65_535);
    let eocd = (search_from..=b.len() - 22)
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])?;
    let count = u16_at(b, eocd + 10)?;
    let mut at = u32_at(b, eocd + 16)?;
    for _ in 0..count {
        if u32_at(b, at)? != 0x0201_4b50 {
            return None;
        }
        let method = u16_at(b, at + 10)?;
        let size = u32_at(b, at + 20)?;
        let name_len = u16_at(b, at + 28)?;
        let extra_len = u16_at(b, at + 30)?;
        let comment_len = u16_at(b, at + 32)?;
        let local = u32_at(b, at + 42)?;
        let name = b.get(at + 46..at + 46 + name_len)?;
        if name == wanted.as_bytes() {
            if method != 0 || u32_at(b, local)? != 0x0403_4b50 {
                return None;
            }
            let data_at = local + 30 + u16_at(b, local + 26)? + u16_at(b, local + 28)?;
            return b.get(data_at..data_at.checked_add(size)?);
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_apk_parses_back() {
        let mut apk = TestApk::new("com.corral.agent", 7);
        apk.permissions
            .push("android.permission.READ_CONTACTS".into());
        apk.admin_receivers.push(".AdminReceiver".into());
        apk.test_only = true;
        let info = parse_apk(&apk.build()).unwrap();
        assert_eq!(info.package, "com.corral.agent");
        assert_eq!(info.version_code, 7);
        assert_eq!(info.permissions, vec!["android.permission.READ_CONTACTS"]);
        assert_eq!(info.admin_receivers, vec!["com.corral.agent.AdminReceiver"]);
        assert!(info.test_only);
    }

    #[test]
    fn junk_and_truncated_archives_are_not_apks() {
        assert_eq!(parse_apk(b"hello"), Err(ApkError::NotApk));
        let apk = build_test_apk("a.b", 1);
        for cut in [4, 30, apk.len() / 2, apk.len() - 1] {
            assert!(parse_apk(&apk[..cut]).is_err());
        }
    }

    #[test]
    fn crc_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
