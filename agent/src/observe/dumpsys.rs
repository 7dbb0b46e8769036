//! `dumpsys package <pkg>`: the per-user state of one package (installed, hidden,
//! suspended, enabled state, granted runtime permissions) and whether it is a system
//! package — the only shell source for hidden/suspended state and runtime grants.
//!
//! Only what the agent needs is read, strictly; the many other sections are skipped.
//! From `Settings.dumpPackageLPr` (AOSP, Android 11–16):
//!
//! ```text
//! Packages:
//!   Package [com.whatsapp] (6b5b7a1):
//!     pkgFlags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ]
//!     User 0: ceDataInode=… installed=true hidden=false suspended=false … enabled=0 …
//!       runtime permissions:
//!         android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET ]
//! ```
//!
//! An unknown package prints `Unable to find package: <pkg>` (Android 13+); older releases
//! print no `Package [<pkg>]` block. The `User N:` line must carry `installed=`,
//! `hidden=`, `suspended=` and `enabled=`; other keys (releases add some) are ignored.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{ParseError, is_android_package, numbered};

/// One package as `dumpsys package` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageDump {
    /// `SYSTEM` is among its `pkgFlags`.
    pub system: bool,
    /// Per-user state by user id.
    pub users: BTreeMap<u32, UserPackageState>,
}

/// A package's state for one user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPackageState {
    pub installed: bool,
    pub hidden: bool,
    pub suspended: bool,
    /// `COMPONENT_ENABLED_STATE_*`: 0 default, 1 enabled, 2 disabled, 3 disabled-user,
    /// 4 disabled-until-used.
    pub enabled: u8,
    /// Runtime permissions with `granted=true`.
    pub granted: BTreeSet<String>,
}

impl UserPackageState {
    /// Disabled for this user in any of the three ways.
    pub fn disabled(&self) -> bool {
        matches!(self.enabled, 2..=4)
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Parses the dump of `package`: `Ok(None)` when the phone does not know it.
pub fn parse_package_dump(package: &str, text: &str) -> Result<Option<PackageDump>, ParseError> {
    let command = format!("dumpsys package {package}");
    let lines: Vec<(usize, &str)> = numbered(text).collect();
    let unknown = format!("Unable to find package: {package}");
    if let Some((n, first)) = lines.iter().find(|(_, l)| !l.is_empty()) {
        if *first == unknown {
            return match lines.iter().filter(|(_, l)| !l.is_empty()).nth(1) {
                None => Ok(None),
                Some((m, l)) => Err(ParseError::at(
                    &command,
                    *m,
                    l,
                    "output after `Unable to find package`",
                )),
            };
        }
        if first.starts_with("Can't find service") || first.starts_with("Error") {
            return Err(ParseError::at(&command, *n, first, "dumpsys failed"));
        }
    }
    let Some(start) = lines.iter().position(|(_, l)| *l == "Packages:") else {
        // Releases before 13 print nothing of the package when it is unknown; anything
        // that is not a dump at all is an error.
        if lines
            .iter()
            .any(|(_, l)| l.starts_with("Dexopt state:") || l.starts_with("Database versions:"))
            || lines.is_empty()
        {
            return Ok(None);
        }
        return Err(ParseError::whole(&command, text, "no `Packages:` section"));
    };
    let header = format!("  Package [{package}] (");
    let mut i = start + 1;
    let mut found = None;
    while let Some((_, l)) = lines.get(i) {
        if !l.is_empty() && indent(l) == 0 {
            break;
        }
        if l.starts_with(&header) && l.ends_with("):") {
            found = Some(i);
            break;
        }
        i += 1;
    }
    let Some(head) = found else {
        return Ok(None);
    };
    let mut dump = PackageDump::default();
    let mut flags_seen = false;
    let mut current_user: Option<u32> = None;
    let mut in_runtime = false;
    for (n, line) in lines.iter().skip(head + 1).copied() {
        let depth = indent(line);
        if depth < 4 || line.trim().is_empty() {
            break;
        }
        let body = line.trim_start();
        if depth == 4 {
            in_runtime = false;
            current_user = None;
            if let Some(flags) = body.strip_prefix("pkgFlags=[") {
                dump.system = flags.split_whitespace().any(|f| f == "SYSTEM");
                flags_seen = true;
            } else if let Some(rest) = body.strip_prefix("User ") {
                let (id, state) = parse_user(&command, n, line, rest)?;
                if dump.users.insert(id, state).is_some() {
                    return Err(ParseError::at(&command, n, line, "user listed twice"));
                }
                current_user = Some(id);
            }
            continue;
        }
        let Some(user) = current_user else { continue };
        if depth == 6 {
            in_runtime = body == "runtime permissions:";
            continue;
        }
        if in_runtime && depth == 8 {
            let (perm, rest) = body.split_once(": ").ok_or_else(|| {
                ParseError::at(&command, n, line, "expected `<permission>: granted=…`")
            })?;
            let granted = match rest.split(',').next() {
                Some("granted=true") => true,
                Some("granted=false") => false,
                _ => {
                    return Err(ParseError::at(
                        &command,
                        n,
                        line,
                        "expected `granted=true|false`",
                    ));
                }
            };
            if !is_android_package(perm) {
                return Err(ParseError::at(&command, n, line, "not a permission name"));
            }
            if granted && let Some(state) = dump.users.get_mut(&user) {
                state.granted.insert(perm.to_owned());
            }
        }
    }
    if !flags_seen {
        return Err(ParseError::whole(
            &command,
            text,
            "the package block has no `pkgFlags=[…]`",
        ));
    }
    Ok(Some(dump))
}

fn parse_user(
    command: &str,
    n: usize,
    line: &str,
    rest: &str,
) -> Result<(u32, UserPackageState), ParseError> {
    let err = |why: &str| ParseError::at(command, n, line, why);
    let (id, tokens) = rest
        .split_once(": ")
        .ok_or_else(|| err("expected `User <id>: …`"))?;
    let id: u32 = id.parse().map_err(|_| err("the user id is not a number"))?;
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for token in tokens.split_whitespace() {
        if let Some((k, v)) = token.split_once('=') {
            fields.insert(k, v);
        }
    }
    let flag = |key: &str| -> Result<bool, ParseError> {
        match fields.get(key) {
            Some(&"true") => Ok(true),
            Some(&"false") => Ok(false),
            Some(_) => Err(err(&format!("`{key}=` is not true or false"))),
            None => Err(err(&format!("no `{key}=`"))),
        }
    };
    let enabled = match fields.get("enabled") {
        Some(v) => v
            .parse::<u8>()
            .ok()
            .filter(|e| *e <= 4)
            .ok_or_else(|| err("`enabled=` is not 0–4"))?,
        None => return Err(err("no `enabled=`")),
    };
    Ok((
        id,
        UserPackageState {
            installed: flag("installed")?,
            hidden: flag("hidden")?,
            suspended: flag("suspended")?,
            enabled,
            granted: BTreeSet::new(),
        },
    ))
}

#[cfg(test)]
mod tests;
