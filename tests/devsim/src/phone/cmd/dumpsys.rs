//! `dumpsys` for the services the agent reads: `package [PKG…]` (the `Packages:` section
//! of `Settings.dumpPackageLPr`: flags and, for every user, installed/hidden/suspended/
//! enabled state and runtime grants) and `account [--checkin]` (account types and counts
//! per user, or the accounts themselves). `-l` lists the services.
//!
//! Only these sections are printed; a real dump has many more around them.

use super::Ctx;
use crate::phone::permissions::runtime_permissions;
use crate::phone::state::{Package, State};

const SERVICES: &[&str] = &[
    "account",
    "activity",
    "backup",
    "device_policy",
    "package",
    "user",
];

/// `dumpsys [-l | SERVICE [ARGS…]]`.
pub fn dumpsys(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    match argv.get(1).map(String::as_str) {
        None | Some("-l") => {
            ctx.outln("Currently running services:");
            for s in SERVICES {
                ctx.outln(format!("  {s}"));
            }
        }
        Some("package") => package(ctx, &argv[2..]),
        Some("account") => account(ctx, &argv[2..]),
        Some(s) if SERVICES.contains(&s) => {}
        Some(other) => ctx.errln(format!("Can't find service: {other}")),
    }
    0
}

/// A stable stand-in for `Integer.toHexString(System.identityHashCode(…))`.
fn identity(seed: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in seed.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("{:07x}", h & 0x0fff_ffff)
}

fn package(ctx: &mut Ctx<'_>, args: &[String]) {
    let sdk = ctx.version().sdk();
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let text = ctx.phone.read(|s| {
        let mut out = String::new();
        let wanted: Vec<&Package> = match names.as_slice() {
            [] => s.packages.values().collect(),
            list => list
                .iter()
                .filter_map(|n| s.packages.get(n.as_str()))
                .collect(),
        };
        if wanted.is_empty() {
            // Android 13+ says so; older releases print the other sections only.
            if sdk >= 33 {
                for n in &names {
                    out.push_str(&format!("Unable to find package: {n}\n"));
                }
            }
            return out;
        }
        out.push_str("Packages:\n");
        for p in wanted {
            dump_package(&mut out, s, p, sdk);
        }
        out.push('\n');
        out
    });
    ctx.out.out(text);
}

fn dump_package(out: &mut String, s: &State, p: &Package, sdk: u32) {
    let flags = if p.system {
        "[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]"
    } else {
        "[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]"
    };
    let code_dir = p
        .code_path
        .rsplit_once('/')
        .map_or(p.code_path.as_str(), |(d, _)| d);
    let id_key = if sdk >= 31 { "appId" } else { "userId" };
    out.push_str(&format!(
        "  Package [{}] ({}):\n",
        p.name,
        identity(&p.name)
    ));
    out.push_str(&format!("    {id_key}={}\n", p.app_id));
    out.push_str(&format!(
        "    pkg=Package{{{} {}}}\n",
        identity(&p.code_path),
        p.name
    ));
    out.push_str(&format!("    codePath={code_dir}\n"));
    out.push_str(&format!(
        "    versionCode={} minSdk=21 targetSdk={sdk}\n",
        p.version_code
    ));
    out.push_str(&format!("    versionName={}\n", p.version_name));
    out.push_str(&format!("    flags={flags}\n"));
    out.push_str(&format!("    pkgFlags={flags}\n"));
    let runtime = runtime_permissions(sdk);
    if !p.requested_permissions.is_empty() {
        out.push_str("    requested permissions:\n");
        for perm in &p.requested_permissions {
            out.push_str(&format!("      {perm}\n"));
        }
        let normal: Vec<&String> = p
            .requested_permissions
            .iter()
            .filter(|r| !runtime.contains(r.as_str()))
            .collect();
        if !normal.is_empty() {
            out.push_str("    install permissions:\n");
            for perm in normal {
                out.push_str(&format!("      {perm}: granted=true\n"));
            }
        }
    }
    for user in s.users.keys() {
        let st = p.users.get(user).cloned().unwrap_or_default();
        let tail = if sdk >= 34 { " quarantined=false" } else { "" };
        out.push_str(&format!(
            "    User {user}: ceDataInode={} installed={} hidden={} suspended={} distractionFlags=0 stopped={} notLaunched={} enabled={} instant=false virtual=false{tail}\n",
            if st.installed { 100 + p.app_id } else { 0 },
            st.installed,
            st.hidden,
            st.suspended,
            !st.installed,
            !st.installed,
            st.enabled,
        ));
        if !st.installed {
            continue;
        }
        out.push_str("      installReason=0\n");
        out.push_str(&format!("      dataDir=/data/user/{user}/{}\n", p.name));
        let asked: Vec<&String> = p
            .requested_permissions
            .iter()
            .filter(|r| runtime.contains(r.as_str()))
            .collect();
        if !asked.is_empty() {
            out.push_str("      runtime permissions:\n");
            for perm in asked {
                let granted = st.granted.contains(perm.as_str());
                let flags = if granted { "[ USER_SET ]" } else { "[ ]" };
                out.push_str(&format!(
                    "        {perm}: granted={granted}, flags={flags}\n"
                ));
            }
        }
    }
}

fn account(ctx: &mut Ctx<'_>, args: &[String]) {
    let checkin = args.iter().any(|a| a == "--checkin" || a == "-c");
    let text = ctx.phone.read(|s| {
        let mut out = String::new();
        for (id, user) in &s.users {
            out.push_str(&format!(
                "User UserInfo{{{id}:{}:{:x}}}:\n",
                user.name, user.flags
            ));
            let accounts = s
                .user_data
                .get(id)
                .map(|d| d.accounts.clone())
                .unwrap_or_default();
            if checkin {
                let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
                for a in &accounts {
                    *counts.entry(a.account_type.as_str()).or_default() += 1;
                }
                for (kind, n) in counts {
                    out.push_str(&format!("  {kind},{n}\n"));
                }
            } else {
                out.push_str(&format!("  Accounts: {}\n", accounts.len()));
                for a in &accounts {
                    out.push_str(&format!(
                        "    Account {{name={}, type={}}}\n",
                        a.name, a.account_type
                    ));
                }
            }
            out.push('\n');
        }
        out
    });
    ctx.out.out(text);
}
