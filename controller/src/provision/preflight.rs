//! Preflight, the pure half: the facts script (one round trip), its strict parser, and
//! the checks that turn facts into per-phone errors. The users, work profile, profile
//! owner and messenger state come from the agent's own observation
//! (`corral_agent::observe`), checked in [`super::steps`].
//!
//! **Minimum Android: 10 (API 29).** The planner turns backup off with `bmgr --user N`,
//! which Android 9 and older do not have (their `bmgr` has no `--user`), and starts the
//! profile with `am start-user -w`; the agent's observation reads `dpm list-owners` on 12+
//! and works without it on 10–11.

use std::collections::{BTreeMap, BTreeSet};

use corral_agent::observe::ParseError;
use corral_agent::observe::accounts::parse_account_types;
use corral_agent::observe::sections::{Section, SectionOutput};

use super::ProvisionError;

/// The oldest API level corral provisions (Android 10).
pub const MIN_SDK: u32 = 29;
/// Space kept free beyond what corral writes (agent, APKs): the agent's state, logs, and
/// room for the phone to keep working.
pub const HEADROOM_BYTES: u64 = 64 * 1024 * 1024;

const OWNERS: &str = "if [ \"$(getprop ro.build.version.sdk)\" -ge 31 ]; then dpm list-owners; else dumpsys device_policy; fi";

/// The facts script's sections.
pub fn sections() -> Vec<Section> {
    vec![
        Section::new("release", "getprop ro.build.version.release"),
        Section::new("sdk", "getprop ro.build.version.sdk"),
        Section::new("abi", "getprop ro.product.cpu.abi"),
        Section::new("df", "df /data"),
        Section::new("owners", OWNERS),
        Section::new("accounts", "dumpsys account --checkin"),
    ]
}

/// What the facts script found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `ro.build.version.release` (`14`).
    pub release: String,
    /// `ro.build.version.sdk` (`34`).
    pub sdk: u32,
    /// `ro.product.cpu.abi` (`arm64-v8a`).
    pub abi: String,
    /// Available bytes on `/data`.
    pub free_bytes: u64,
    /// The device owner's component, if the phone has one.
    pub device_owner: Option<String>,
    /// Account types per user (types only, never names).
    pub account_types: BTreeMap<u32, BTreeSet<String>>,
}

fn section<'a>(
    parts: &'a BTreeMap<String, SectionOutput>,
    name: &str,
) -> Result<&'a SectionOutput, ParseError> {
    parts
        .get(name)
        .ok_or_else(|| ParseError::whole("preflight script", "", format!("no section `{name}`")))
}

fn one_line(out: &SectionOutput) -> Result<&str, ParseError> {
    let text = out.ok()?.trim();
    if text.is_empty() || text.contains('\n') {
        return Err(ParseError::whole(&out.command, text, "expected one line"));
    }
    Ok(text)
}

/// Parses the facts script's sections. The Android version is parsed first and the rest
/// only on a release corral supports, so an old phone gets "too old", not a parse error.
pub fn parse(
    parts: &BTreeMap<String, SectionOutput>,
) -> Result<(String, u32, Option<Facts>), ParseError> {
    let release = one_line(section(parts, "release")?)?.to_owned();
    let sdk_out = section(parts, "sdk")?;
    let sdk: u32 = one_line(sdk_out)?
        .parse()
        .map_err(|_| ParseError::whole(&sdk_out.command, &sdk_out.text, "not an API level"))?;
    if sdk < MIN_SDK {
        return Ok((release, sdk, None));
    }
    let abi = one_line(section(parts, "abi")?)?.to_owned();
    let df = section(parts, "df")?;
    let free_bytes = parse_df(&df.command, df.ok()?)?;
    let owners = section(parts, "owners")?;
    let device_owner = parse_device_owner(&owners.command, sdk, owners.ok()?)?;
    let account_types = parse_account_types(section(parts, "accounts")?.ok()?)?;
    Ok((
        release.clone(),
        sdk,
        Some(Facts {
            release,
            sdk,
            abi,
            free_bytes,
            device_owner,
            account_types,
        }),
    ))
}

/// toybox `df /data`: a header, then `FS 1K-blocks Used Available Use% /data`.
pub fn parse_df(command: &str, text: &str) -> Result<u64, ParseError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.starts_with("Filesystem") => {}
        Some((i, l)) => return Err(ParseError::at(command, i + 1, l, "expected the df header")),
        None => return Err(ParseError::whole(command, text, "no output")),
    }
    let Some((i, line)) = lines.next() else {
        return Err(ParseError::whole(command, text, "no /data line"));
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() != 6 || fields[5] != "/data" {
        return Err(ParseError::at(
            command,
            i + 1,
            line,
            "expected the /data line",
        ));
    }
    let kb: u64 = fields[3]
        .parse()
        .map_err(|_| ParseError::at(command, i + 1, line, "available is not a number"))?;
    Ok(kb * 1024)
}

/// The device owner from `dpm list-owners` (API 31+) or `dumpsys device_policy` (older).
pub fn parse_device_owner(
    command: &str,
    sdk: u32,
    text: &str,
) -> Result<Option<String>, ParseError> {
    if sdk >= 31 {
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let t = line.trim();
            if t.is_empty() || t == "no owners" || t.ends_with("owner:") || t.ends_with("owners:") {
                continue;
            }
            let Some(rest) = t
                .strip_prefix("User ")
                .and_then(|r| r.split_once(": admin="))
            else {
                return Err(ParseError::at(
                    command,
                    line_no,
                    line,
                    "expected `User N: admin=…`",
                ));
            };
            let mut parts = rest.1.split(',');
            let component = parts.next().unwrap_or_default();
            if parts.any(|flag| flag == "DeviceOwner") {
                return Ok(Some(component.to_owned()));
            }
        }
        return Ok(None);
    }
    // `dumpsys device_policy` prints a "Device Owner:" block with `admin=ComponentInfo{…}`.
    let mut in_block = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Device Owner:") {
            in_block = true;
        } else if in_block {
            if let Some(c) = t
                .strip_prefix("admin=ComponentInfo{")
                .and_then(|r| r.strip_suffix('}'))
            {
                return Ok(Some(c.to_owned()));
            }
            if t.ends_with(':') {
                in_block = false;
            }
        }
    }
    Ok(None)
}

/// The checks on facts alone: supported Android, space for what will be written, an
/// agent build for the ABI, no device owner.
pub fn check(
    phone: &str,
    facts: &Facts,
    agent_bytes: Option<u64>,
    apk_bytes: u64,
) -> Result<(), ProvisionError> {
    if let Some(owner) = &facts.device_owner {
        return Err(ProvisionError::ForeignOwner {
            phone: phone.to_owned(),
            what: "the phone (device owner)".into(),
            owner: owner.clone(),
        });
    }
    let Some(agent_bytes) = agent_bytes else {
        return Err(ProvisionError::NoAgentBuild {
            phone: phone.to_owned(),
            abi: facts.abi.clone(),
        });
    };
    let needed = agent_bytes + apk_bytes + HEADROOM_BYTES;
    if facts.free_bytes < needed {
        let mib = |b: u64| b.div_ceil(1024 * 1024);
        return Err(ProvisionError::NoSpace {
            phone: phone.to_owned(),
            free_mib: facts.free_bytes / (1024 * 1024),
            needed_mib: mib(needed),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check_df(text: &str, expected: Expect) {
        let got = match parse_df("df /data", text) {
            Ok(b) => format!("{} KiB", b / 1024),
            Err(e) => e.to_string(),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn df_reads_the_available_column_of_data() {
        check_df(
            "Filesystem       1K-blocks    Used Available Use% Mounted on\n/dev/block/dm-46 115249236 9478288 105639876   9% /data\n",
            expect!["105639876 KiB"],
        );
        check_df(
            "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/root 100 50 50 50% /\n",
            expect![[
                r#"unexpected output of `df /data` (line 2): expected the /data line: "/dev/root 100 50 50 50% /""#
            ]],
        );
        check_df(
            "df: /data: Permission denied\n",
            expect![[
                r#"unexpected output of `df /data` (line 1): expected the df header: "df: /data: Permission denied""#
            ]],
        );
    }

    #[track_caller]
    fn check_owner(sdk: u32, text: &str, expected: Expect) {
        let got = match parse_device_owner("owners", sdk, text) {
            Ok(o) => format!("{o:?}"),
            Err(e) => e.to_string(),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn device_owners_are_found_in_both_formats() {
        check_owner(34, "no owners\n", expect!["None"]);
        check_owner(
            34,
            "1 owner:\nUser 10: admin=com.x/.Admin,ProfileOwner,ManagedProfileOwner(parentUserId=0)\n",
            expect!["None"],
        );
        check_owner(
            34,
            "2 owners:\nUser  0: admin=com.mdm/.Admin,DeviceOwner,Affiliated\nUser 10: admin=com.x/.Admin,ProfileOwner\n",
            expect![[r#"Some("com.mdm/.Admin")"#]],
        );
        check_owner(
            34,
            "Unknown command\n",
            expect![[
                r#"unexpected output of `owners` (line 1): expected `User N: admin=…`: "Unknown command""#
            ]],
        );
        check_owner(
            30,
            "Current Device Policy Manager state:\n  Device Owner: \n    admin=ComponentInfo{com.mdm/com.mdm.Admin}\n    name=MDM\n",
            expect![[r#"Some("com.mdm/com.mdm.Admin")"#]],
        );
        check_owner(30, "", expect!["None"]);
    }
}
