//! `pm install` (from a path on the phone or streamed with `-S SIZE` on stdin),
//! `pm install-existing`, `pm uninstall` and `pm path`.
//!
//! An APK is recognised as described in `phone::apk`; failures print the
//! `Failure [INSTALL_…]` lines Android prints, with the `vmdl<session>.tmp` staging path.

use std::io::Read;

use super::Ctx;
use super::args::{Args, parse_user};
use super::pm::{frames, user_arg};
use crate::phone::android::data_app_path;
use crate::phone::apk::{ApkError, parse_apk};
use crate::phone::permissions::runtime_permissions;
use crate::phone::state::{Package, PackageUser};

/// Options of `pm install` that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "-i",
    "--originating-uri",
    "--referrer",
    "-p",
    "--pkg",
    "-S",
    "--abi",
    "--user",
    "--install-location",
    "--install-reason",
    "--force-uuid",
    "--staged-ready-timeout",
    "--update-ownership",
];
/// Options of `pm install` that are flags.
const FLAG_OPTIONS: &[&str] = &[
    "-r",
    "-R",
    "-l",
    "-t",
    "-f",
    "-d",
    "-g",
    "--dont-kill",
    "--restrict-permissions",
    "--ephemeral",
    "--instant",
    "--full",
    "--preload",
    "--force-sdk",
    "--apex",
    "--staged",
    "--force-non-staged",
    "--enable-rollback",
    "--skip-verification",
    "--bypass-low-target-sdk-block",
    "--wait",
    "--no-wait",
    "--multi-package",
];

/// Largest APK the simulator keeps in memory.
const MAX_APK: u64 = 1 << 30;

/// `pm install [options] [PATH…]`, `cmd package install … -S SIZE` (APK on stdin).
pub fn install(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let (mut user, mut size, mut installer) = (None::<u32>, None::<u64>, None::<String>);
    let (mut allow_test, mut downgrade, mut grant_all) = (false, false, false);
    while let Some(opt) = a.next_option() {
        if VALUE_OPTIONS.contains(&opt.as_str()) {
            let value = match a.next_arg_required() {
                Ok(v) => v,
                Err(e) => return ctx.exception("install", &e, frames()),
            };
            match opt.as_str() {
                "-S" => match value.parse::<u64>() {
                    Ok(n) => size = Some(n),
                    Err(_) => {
                        return ctx.exception(
                            "install",
                            &super::args::number_format(&value),
                            frames(),
                        );
                    }
                },
                "--user" => match user_arg(ctx, "install", &value) {
                    Ok(u) => user = u,
                    Err(code) => return code,
                },
                "-i" => installer = Some(value),
                _ => {}
            }
        } else if FLAG_OPTIONS.contains(&opt.as_str()) {
            match opt.as_str() {
                "-t" => allow_test = true,
                "-d" => downgrade = true,
                "-g" => grant_all = true,
                _ => {}
            }
        } else {
            return ctx.exception(
                "install",
                &format!("java.lang.IllegalArgumentException: Unknown option {opt}"),
                &["com.android.server.pm.PackageManagerShellCommand.makeInstallParams(PackageManagerShellCommand.java:3030)"],
            );
        }
    }
    let paths: Vec<String> = a.rest().to_vec();
    let bytes = if let Some(path) = paths.first() {
        let full = ctx.path(path);
        match ctx.phone.fs().read(&full) {
            Ok(b) => b,
            Err(_) => {
                ctx.errln(format!("Error: Unable to open file: {path}"));
                ctx.errln("Consider using a file under /data/local/tmp/");
                return 1;
            }
        }
    } else if let Some(size) = size {
        let mut data = Vec::new();
        let limited = size.min(MAX_APK);
        if let Err(e) = ctx.stdin.take(limited).read_to_end(&mut data) {
            ctx.outln(format!("Error: failed to write; {e}"));
            return 1;
        }
        if size > MAX_APK {
            let _ = std::io::copy(&mut ctx.stdin.take(size - MAX_APK), &mut std::io::sink());
            ctx.outln("Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE]");
            return 1;
        }
        data
    } else {
        ctx.errln("Error: must either specify a package size or an APK file");
        return 1;
    };
    let version = ctx.version();
    let sdk = version.sdk();
    let serial = ctx.phone.serial().to_string();
    let result = ctx.phone.update(|s| -> Result<(), String> {
        s.next_session = s.next_session.wrapping_add(1_337);
        let staged = format!("/data/app/vmdl{}.tmp/base.apk", s.next_session);
        let info = match parse_apk(&bytes) {
            Ok(info) => info,
            Err(ApkError::NotApk) => {
                return Err(format!(
                    "INSTALL_PARSE_FAILED_NOT_APK: Failed to parse {staged}: Failed to load asset path {staged}"
                ));
            }
            Err(ApkError::Malformed(m)) => {
                return Err(format!(
                    "INSTALL_PARSE_FAILED_MANIFEST_MALFORMED: Failed parse during installPackageLI: {staged} (at Binary XML file line #2): {m}"
                ));
            }
        };
        if info.test_only && !allow_test {
            return Err(if version.0 >= 14 {
                "INSTALL_FAILED_TEST_ONLY: Failed to install test-only apk. Did you forget to add -t?".into()
            } else {
                "INSTALL_FAILED_TEST_ONLY: installPackageLI".into()
            });
        }
        let size = bytes.len() as u64;
        let existing = s.packages.get(&info.package);
        if let Some(old) = existing.filter(|old| old.version_code > info.version_code && !downgrade) {
            return Err(format!(
                "INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code {} is older than current {}",
                info.version_code, old.version_code
            ));
        }
        let old_size = existing.filter(|p| !p.system).map(|p| p.size).unwrap_or(0);
        if size.saturating_sub(old_size) > s.free_storage_bytes {
            return Err("INSTALL_FAILED_INSUFFICIENT_STORAGE".into());
        }
        s.free_storage_bytes = s.free_storage_bytes.saturating_add(old_size).saturating_sub(size);
        let targets: Vec<u32> = match user {
            Some(u) => vec![u],
            None => s.users.keys().copied().collect(),
        };
        let app_id = match existing {
            Some(p) => p.app_id,
            None => {
                s.next_app_id += 1;
                s.next_app_id - 1
            }
        };
        let runtime = runtime_permissions(sdk);
        let mut pkg = s.packages.remove(&info.package).unwrap_or_else(|| Package {
            name: info.package.clone(),
            version_code: 0,
            version_name: String::new(),
            system: false,
            code_path: String::new(),
            app_id,
            requested_permissions: Vec::new(),
            admin_receivers: Vec::new(),
            test_only: false,
            size: 0,
            installer: installer.clone(),
            users: Default::default(),
        });
        pkg.version_code = info.version_code;
        pkg.version_name = info.version_name;
        pkg.code_path = data_app_path(version, &info.package, &format!("{serial}{}", s.next_session));
        pkg.requested_permissions = info.permissions;
        pkg.admin_receivers = info.admin_receivers;
        pkg.test_only = info.test_only;
        pkg.size = size;
        if installer.is_some() {
            pkg.installer = installer.clone();
        }
        for u in targets {
            let pu = pkg.users.entry(u).or_insert_with(PackageUser::fresh);
            pu.installed = true;
            if grant_all {
                let perms = pkg.requested_permissions.iter().filter(|p| runtime.contains(p.as_str()));
                pu.granted.extend(perms.cloned());
            }
        }
        s.packages.insert(info.package.clone(), pkg);
        Ok(())
    });
    match result {
        Ok(()) => {
            ctx.outln("Success");
            0
        }
        Err(status) => {
            ctx.outln(format!("Failure [{status}]"));
            1
        }
    }
}

/// `pm install-existing [--user N] [--wait] PKG`.
pub fn install_existing(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let (mut user, mut wait) = (0i64, false);
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "--user" => {
                let v = a.next_arg().unwrap_or_default();
                match parse_user(&v) {
                    Some(u) => user = u,
                    None => {
                        return ctx.exception(
                            "install-existing",
                            &super::args::number_format(&v),
                            frames(),
                        );
                    }
                }
            }
            "--wait" => wait = true,
            "--ephemeral" | "--instant" | "--full" | "--restrict-permissions" | "--doNotWait" => {}
            other => {
                ctx.outln(format!("Error: Unknown option: {other}"));
                return 1;
            }
        }
    }
    let Some(package) = a.next_arg() else {
        ctx.outln("Error: package name not specified");
        return 1;
    };
    let done = ctx.phone.update(|s| {
        let Some(uid) = u32::try_from(user).ok().filter(|u| s.users.contains_key(u)) else {
            return false;
        };
        let Some(pkg) = s.packages.get_mut(&package) else {
            return false;
        };
        if !pkg.system && !pkg.installed_anywhere() {
            return false;
        }
        let pu = pkg.users.entry(uid).or_insert_with(PackageUser::fresh);
        pu.installed = true;
        pu.hidden = false;
        true
    });
    if !done {
        ctx.outln(format!("android.content.pm.PackageManager$NameNotFoundException: Package {package} doesn't exist"));
        return 1;
    }
    if wait {
        ctx.outln(format!("Installing package {package} for user: {user}"));
        ctx.outln("Received intent for package install");
    } else {
        ctx.outln(format!("Package {package} installed for user: {user}"));
    }
    0
}

/// `pm uninstall [-k] [--user N] PKG`.
pub fn uninstall(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let mut user: Option<i64> = None;
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "-k" => {}
            "--user" => {
                let v = a.next_arg().unwrap_or_default();
                match parse_user(&v) {
                    Some(-1) => user = None,
                    Some(u) => user = Some(u),
                    None => {
                        return ctx.exception(
                            "uninstall",
                            &super::args::number_format(&v),
                            frames(),
                        );
                    }
                }
            }
            "--versionCode" => {
                let _ = a.next_arg();
            }
            other => {
                ctx.errln(format!("Error: Unknown option: {other}"));
                return 1;
            }
        }
    }
    let Some(package) = a.next_arg() else {
        ctx.errln("Error: package name not specified");
        return 1;
    };
    let result = ctx.phone.update(|s| -> Result<(), String> {
        let owner_pkg = |c: &String| c.split('/').next() == Some(package.as_str());
        let is_admin = |u: u32| {
            s.active_admins
                .get(&u)
                .is_some_and(|set| set.iter().any(owner_pkg))
                || s.profile_owners.get(&u).is_some_and(owner_pkg)
                || s.device_owner
                    .as_ref()
                    .is_some_and(|o| o.user == u && owner_pkg(&o.component))
        };
        match user {
            Some(u) => {
                let Some(u) = u32::try_from(u).ok().filter(|u| s.users.contains_key(u)) else {
                    return Err(format!("user {u} doesn't exist"));
                };
                let installed = s
                    .packages
                    .get(&package)
                    .is_some_and(|p| p.installed_for(u).is_some());
                if !installed {
                    return Err(format!("not installed for {u}"));
                }
                if is_admin(u) {
                    return Err("DELETE_FAILED_DEVICE_POLICY_MANAGER".into());
                }
                if let Some(pkg) = s.packages.get_mut(&package) {
                    if pkg.system {
                        if let Some(pu) = pkg.users.get_mut(&u) {
                            pu.installed = false;
                        }
                    } else {
                        pkg.users.remove(&u);
                    }
                }
            }
            None => {
                let Some(pkg) = s.packages.get(&package) else {
                    return Err("DELETE_FAILED_INTERNAL_ERROR".into());
                };
                if pkg.system || !pkg.installed_anywhere() {
                    return Err("DELETE_FAILED_INTERNAL_ERROR".into());
                }
                let users: Vec<u32> = pkg.users.keys().copied().collect();
                if users.into_iter().any(is_admin) {
                    return Err("DELETE_FAILED_DEVICE_POLICY_MANAGER".into());
                }
                if let Some(pkg) = s.packages.get_mut(&package) {
                    pkg.users.clear();
                }
            }
        }
        if let Some(pkg) = s
            .packages
            .get(&package)
            .filter(|p| !p.system && p.users.is_empty())
        {
            s.free_storage_bytes = s.free_storage_bytes.saturating_add(pkg.size);
            s.packages.remove(&package);
        }
        Ok(())
    });
    match result {
        Ok(()) => {
            ctx.outln("Success");
            0
        }
        Err(status) => {
            ctx.outln(format!("Failure [{status}]"));
            1
        }
    }
}

/// `pm path [--user N] PKG`.
pub fn path(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let mut user = 0u32;
    while let Some(opt) = a.next_option() {
        if opt == "--user" {
            let v = a.next_arg().unwrap_or_default();
            match user_arg(ctx, "path", &v) {
                Ok(u) => user = u.unwrap_or(0),
                Err(code) => return code,
            }
        }
    }
    let Some(package) = a.next_arg() else {
        ctx.errln("Error: no package specified");
        return 1;
    };
    let found = ctx.phone.read(|s| {
        s.packages
            .get(&package)
            .filter(|p| p.installed_for(user).is_some())
            .map(|p| p.code_path.clone())
    });
    match found {
        Some(p) => {
            ctx.outln(format!("package:{p}"));
            0
        }
        None => 1,
    }
}
