//! Per-user package state through `pm`: `hide`/`unhide`, `enable`/`disable-user`/…,
//! `suspend`/`unsuspend`, `grant`/`revoke` of runtime permissions and
//! `set-user-restriction`.

use super::Ctx;
use super::args::{Args, parse_user};
use super::pm::frames;
use crate::phone::permissions::{normal_permissions, runtime_permissions};
use crate::phone::state::enabled;

/// Packages `setPackagesSuspendedAsUser` refuses (dialer, installer, permission
/// controller, launcher, the framework and shell).
const UNSUSPENDABLE: &[&str] = &[
    "android",
    "com.android.shell",
    "com.google.android.dialer",
    "com.google.android.packageinstaller",
    "com.google.android.permissioncontroller",
    "com.google.android.apps.nexuslauncher",
    "com.android.vending",
];

/// Reads `[--user N]` (only as the first option, as these commands do) and the package.
fn user_and_package(
    ctx: &mut Ctx<'_>,
    command: &str,
    rest: &[String],
    missing: &str,
) -> Result<(i64, String), u8> {
    let mut a = Args::new(rest);
    let mut user = 0i64;
    if a.next_option().as_deref() == Some("--user") {
        let v = a
            .next_arg_required()
            .map_err(|e| ctx.exception(command, &e, frames()))?;
        user = parse_user(&v)
            .ok_or_else(|| ctx.exception(command, &super::args::number_format(&v), frames()))?;
    }
    match a.next_arg() {
        Some(p) => Ok((user, p)),
        None => {
            ctx.errln(missing);
            Err(1)
        }
    }
}

/// `pm hide|unhide [--user N] PKG`.
pub fn set_hidden(ctx: &mut Ctx<'_>, rest: &[String], hidden: bool) -> u8 {
    let command = if hidden { "hide" } else { "unhide" };
    let (user, package) = match user_and_package(
        ctx,
        command,
        rest,
        "Error: no package or component specified",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let state = ctx.phone.update(|s| {
        let Some(pkg) = s.packages.get_mut(&package) else {
            return true;
        };
        let Some(pu) = u32::try_from(user)
            .ok()
            .and_then(|u| pkg.users.get_mut(&u))
            .filter(|pu| pu.installed)
        else {
            return false;
        };
        pu.hidden = hidden;
        hidden
    });
    ctx.outln(format!("Package {package} new hidden state: {state}"));
    0
}

/// `pm enable|disable|disable-user|disable-until-used|default-state [--user N] PKG`.
pub fn set_enabled(ctx: &mut Ctx<'_>, command: &str, rest: &[String], new_state: u8) -> u8 {
    let (user, package) = match user_and_package(
        ctx,
        command,
        rest,
        "Error: no package or component specified",
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if package.contains('/') {
        ctx.outln(format!(
            "Component {{{package}}} new state: {}",
            enabled::word(new_state)
        ));
        return 0;
    }
    let result = ctx.phone.update(|s| {
        let pu = u32::try_from(user)
            .ok()
            .and_then(|u| {
                s.packages
                    .get_mut(&package)
                    .and_then(|p| p.users.get_mut(&u))
            })
            .filter(|pu| pu.installed)?;
        pu.enabled = new_state;
        Some(new_state)
    });
    match result {
        Some(state) => {
            ctx.outln(format!("Package {package} new state: {}", enabled::word(state)));
            0
        }
        None => ctx.exception(
            command,
            &format!("java.lang.IllegalArgumentException: Unknown package: {package}"),
            &[
                "com.android.server.pm.PackageManagerService.setEnabledSetting(PackageManagerService.java:3977)",
                "com.android.server.pm.PackageManagerService$IPackageManagerImpl.setApplicationEnabledSetting(PackageManagerService.java:5934)",
                frames()[0],
            ],
        ),
    }
}

/// `pm suspend|unsuspend [--user N] PKG`.
pub fn set_suspended(ctx: &mut Ctx<'_>, rest: &[String], suspended: bool) -> u8 {
    let command = if suspended { "suspend" } else { "unsuspend" };
    let mut a = Args::new(rest);
    let mut user = 0i64;
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "--user" => {
                let v = a.next_arg().unwrap_or_default();
                match parse_user(&v) {
                    Some(u) => user = u,
                    None => {
                        return ctx.exception(command, &super::args::number_format(&v), frames());
                    }
                }
            }
            "-d" | "--ls" | "--lb" | "--ll" | "--es" | "--ei" | "--el" | "--ed" | "--eb" => {
                let _ = a.next_arg();
                let _ = a.next_arg();
            }
            other => {
                ctx.errln(format!("Error: Unknown option: {other}"));
                return 1;
            }
        }
    }
    let packages: Vec<String> = a.rest().to_vec();
    if packages.is_empty() {
        ctx.errln("Error: package name not specified");
        return 1;
    }
    for package in packages {
        let result = ctx.phone.update(|s| {
            let admin = s
                .active_admins
                .values()
                .flatten()
                .any(|c| c.split('/').next() == Some(package.as_str()));
            let pu = u32::try_from(user)
                .ok()
                .and_then(|u| {
                    s.packages
                        .get_mut(&package)
                        .and_then(|p| p.users.get_mut(&u))
                })
                .filter(|pu| pu.installed)?;
            if !(suspended && (admin || UNSUSPENDABLE.contains(&package.as_str()))) {
                pu.suspended = suspended;
            }
            Some(pu.suspended)
        });
        match result {
            Some(state) => ctx.outln(format!("Package {package} new suspended state: {state}")),
            None => {
                return ctx.exception(
                    command,
                    &format!("java.lang.IllegalArgumentException: Unknown target package: {package}"),
                    &["com.android.server.pm.PackageManagerService.isPackageSuspendedForUser(PackageManagerService.java:4541)", frames()[0]],
                );
            }
        }
    }
    0
}

/// `pm grant|revoke [--user N] PKG PERMISSION`.
pub fn grant(ctx: &mut Ctx<'_>, rest: &[String], grant: bool) -> u8 {
    let command = if grant { "grant" } else { "revoke" };
    let mut a = Args::new(rest);
    let mut user = 0i64;
    while let Some(opt) = a.next_option() {
        if opt == "--user" {
            let v = match a.next_arg_required() {
                Ok(v) => v,
                Err(e) => return ctx.exception(command, &e, frames()),
            };
            match parse_user(&v) {
                Some(u) => user = u,
                None => return ctx.exception(command, &super::args::number_format(&v), frames()),
            }
        }
    }
    let Some(package) = a.next_arg() else {
        ctx.errln("Error: no package specified");
        return 1;
    };
    let Some(permission) = a.next_arg() else {
        ctx.errln("Error: no permission specified");
        return 1;
    };
    let runtime = runtime_permissions(ctx.version().sdk());
    let result = ctx.phone.update(|s| -> Result<(), String> {
        let Some(pkg) = s.packages.get_mut(&package) else {
            return Err(format!("java.lang.IllegalArgumentException: Unknown package: {package}"));
        };
        let requested = pkg.requested_permissions.contains(&permission);
        let Some(pu) = u32::try_from(user).ok().and_then(|u| pkg.users.get_mut(&u)).filter(|pu| pu.installed) else {
            return Err(format!("java.lang.IllegalArgumentException: Unknown package: {package}"));
        };
        if !runtime.contains(permission.as_str()) && !normal_permissions().contains(&permission.as_str()) {
            return Err(format!("java.lang.IllegalArgumentException: Unknown permission: {permission}"));
        }
        if !requested {
            return Err(format!(
                "java.lang.SecurityException: Package {package} has not requested permission {permission}"
            ));
        }
        if !runtime.contains(permission.as_str()) {
            return Err(format!(
                "java.lang.SecurityException: Permission {permission} requested by {package} is not a changeable permission type"
            ));
        }
        if grant {
            pu.granted.insert(permission.clone());
        } else {
            pu.granted.remove(&permission);
        }
        Ok(())
    });
    match result {
        Ok(()) => 0,
        Err(e) => ctx.exception(
            command,
            &e,
            &[
                "com.android.server.pm.permission.PermissionManagerServiceImpl.grantRuntimePermissionInternal(PermissionManagerServiceImpl.java:1424)",
                "com.android.server.pm.permission.PermissionManagerService.grantRuntimePermission(PermissionManagerService.java:521)",
                frames()[0],
            ],
        ),
    }
}

/// `pm set-user-restriction [--user N] RESTRICTION 0|1`.
pub fn set_user_restriction(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let mut user = 0i64;
    if a.next_option().as_deref() == Some("--user") {
        let v = a.next_arg().unwrap_or_default();
        match parse_user(&v) {
            Some(u) => user = u,
            None => {
                return ctx.exception(
                    "set-user-restriction",
                    &super::args::number_format(&v),
                    frames(),
                );
            }
        }
    }
    let restriction = a.next_arg().unwrap_or_default();
    let value = match a.next_arg().as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => {
            ctx.errln("Error: valid value not specified");
            return 1;
        }
    };
    ctx.phone.update(|s| {
        if let Some(u) = u32::try_from(user).ok().filter(|u| s.users.contains_key(u)) {
            s.data_mut(u).restrictions.insert(restriction, value);
        }
    });
    0
}
