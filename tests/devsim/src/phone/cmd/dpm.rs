//! `dpm` and `cmd device_policy`: active admins, device owner, profile owners.
//!
//! Android 12+ `dpm` is `cmd device_policy` (ShellCommand: exceptions print the
//! "Exception occurred while executing" block, exit 255; components print with
//! `flattenToShortString`). Android ≤ 11 `dpm` is the app_process tool `Dpm.java`
//! (`IllegalArgumentException` → usage plus `Error: …`, exit 0; other exceptions → a
//! stack trace, exit 1; components print with `toShortString`/`toString`), and it has
//! no `list-owners`.

use super::Ctx;
use super::args::{Args, parse_user};
use crate::phone::state::{Owner, State};

/// A `ComponentName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub package: String,
    pub class: String,
}

impl Component {
    /// `ComponentName.unflattenFromString`: `pkg/cls`, `pkg/.Cls`.
    pub fn parse(s: &str) -> Option<Component> {
        let (package, class) = s.split_once('/')?;
        if package.is_empty() || class.is_empty() {
            return None;
        }
        let class = if class.starts_with('.') {
            format!("{package}{class}")
        } else {
            class.to_string()
        };
        Some(Component {
            package: package.to_string(),
            class,
        })
    }

    /// `flattenToShortString()`: `pkg/.Cls`.
    pub fn short(&self) -> String {
        match self
            .class
            .strip_prefix(&self.package)
            .filter(|r| r.starts_with('.'))
        {
            Some(rest) => format!("{}/{rest}", self.package),
            None => format!("{}/{}", self.package, self.class),
        }
    }

    /// `flattenToString()`: `pkg/pkg.Cls`, the form kept in the state.
    pub fn flat(&self) -> String {
        format!("{}/{}", self.package, self.class)
    }

    /// `toString()`: `ComponentInfo{pkg/pkg.Cls}`.
    pub fn info(&self) -> String {
        format!("ComponentInfo{{{}/{}}}", self.package, self.class)
    }

    /// `toShortString()`: `{pkg/pkg.Cls}`.
    pub fn braces(&self) -> String {
        format!("{{{}/{}}}", self.package, self.class)
    }
}

const DPM_FRAMES: &[&str] = &[
    "com.android.server.devicepolicy.DevicePolicyManagerServiceShellCommand.onCommand(DevicePolicyManagerServiceShellCommand.java:111)",
    "com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)",
    "android.os.ShellCommand.exec(ShellCommand.java:38)",
];
const LEGACY_FRAMES: &[&str] = &[
    "android.os.Parcel.createExceptionOrNull(Parcel.java:2373)",
    "android.os.Parcel.createException(Parcel.java:2357)",
    "android.os.Parcel.readException(Parcel.java:2340)",
    "com.android.commands.dpm.Dpm.onRun(Dpm.java:116)",
    "com.android.internal.os.BaseCommand.run(BaseCommand.java:56)",
    "com.android.commands.dpm.Dpm.main(Dpm.java:41)",
    "com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)",
    "com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)",
];

const LEGACY_USAGE: &str = "usage: dpm [subcommand] [options]
usage: dpm set-active-admin [ --user <USER_ID> | current ] <COMPONENT>
usage: dpm set-device-owner [ --user <USER_ID> | current *EXPERIMENTAL* ] [ --name <NAME> ] <COMPONENT>
usage: dpm set-profile-owner [ --user <USER_ID> | current ] [ --name <NAME> ] <COMPONENT>
usage: dpm remove-active-admin [ --user <USER_ID> | current ] [ --name <NAME> ] <COMPONENT>

dpm set-active-admin: Sets the given component as active admin for an existing user.

dpm set-device-owner: Sets the given component as active admin, and its package as device owner.

dpm set-profile-owner: Sets the given component as active admin and profile owner for an existing user.

dpm remove-active-admin: Disables an active admin, the admin must have declared android:testOnly in the application in its manifest. This will also remove device and profile owners.

dpm clear-freeze-period-record: clears framework-maintained record of past freeze periods that the device went through. For use during feature development to prevent triggering restriction on setting freeze periods.

dpm force-network-logs: makes all network logs available to the DPC and triggers DeviceAdminReceiver.onNetworkLogsAvailable() if needed.

dpm force-security-logs: makes all security logs available to the DPC and triggers DeviceAdminReceiver.onSecurityLogsAvailable() if needed.
";

/// A thrown exception: its Java class and message.
struct Thrown {
    class: &'static str,
    message: String,
}

fn illegal_argument(message: String) -> Thrown {
    Thrown {
        class: "java.lang.IllegalArgumentException",
        message,
    }
}

fn illegal_state(message: String) -> Thrown {
    Thrown {
        class: "java.lang.IllegalStateException",
        message,
    }
}

/// `dpm …`.
pub fn dpm(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    if ctx.version().dpm_is_cmd() {
        return modern(ctx, argv);
    }
    let Some(sub) = argv.get(1) else {
        ctx.out.out(LEGACY_USAGE);
        return 0;
    };
    match run(ctx, sub, &argv[2..], false) {
        Ok(()) => 0,
        Err(t) if t.class == "java.lang.IllegalArgumentException" => {
            ctx.out.err(LEGACY_USAGE);
            ctx.errln("");
            ctx.errln(format!("Error: {}", t.message));
            0
        }
        Err(t) => {
            ctx.stack_trace(&format!("{}: {}", t.class, t.message), LEGACY_FRAMES);
            1
        }
    }
}

/// `cmd device_policy …`.
pub fn cmd_device_policy(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    if ctx.version().dpm_is_cmd() {
        return modern(ctx, argv);
    }
    ctx.outln(format!(
        "Unknown command: {}",
        argv.get(1).map(String::as_str).unwrap_or("")
    ));
    255
}

fn modern(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(sub) = argv.get(1) else {
        ctx.outln("DevicePolicyManager Service (device_policy) commands:\n  help\n    Prints this help text.");
        return 255;
    };
    match run(ctx, sub, &argv[2..], true) {
        Ok(()) => 0,
        Err(t) if t.class == "unknown" => {
            ctx.outln(format!("Unknown command: {sub}"));
            255
        }
        Err(t) => ctx.exception(sub, &format!("{}: {}", t.class, t.message), DPM_FRAMES),
    }
}

fn parse_args(rest: &[String], can_have_name: bool) -> Result<(u32, Component), Thrown> {
    let mut a = Args::new(rest);
    let mut user = 0u32;
    while let Some(opt) = a.next_option() {
        match opt.as_str() {
            "--user" => {
                let v = a.next_arg().ok_or_else(|| {
                    illegal_argument(format!("Argument expected after \"{opt}\""))
                })?;
                let id = parse_user(&v).ok_or_else(|| Thrown {
                    class: "java.lang.NumberFormatException",
                    message: format!("For input string: \"{v}\""),
                })?;
                user = u32::try_from(id).unwrap_or(0);
            }
            "--name" if can_have_name => {
                let _ = a.next_arg();
            }
            "--device-owner-only" => {}
            other => return Err(illegal_argument(format!("Unknown option: {other}"))),
        }
    }
    let arg = a
        .next_arg()
        .ok_or_else(|| illegal_argument("Argument expected after \"\"".into()))?;
    let component = Component::parse(&arg)
        .ok_or_else(|| illegal_argument(format!("Invalid component {arg}")))?;
    Ok((user, component))
}

/// `findAdmin`: the package is installed in `user` and declares the receiver.
fn is_admin_receiver(s: &State, user: u32, c: &Component) -> bool {
    s.packages
        .get(&c.package)
        .is_some_and(|p| p.installed_for(user).is_some() && p.admin_receivers.contains(&c.class))
}

fn run(ctx: &mut Ctx<'_>, sub: &str, rest: &[String], modern: bool) -> Result<(), Thrown> {
    let show = |c: &Component| if modern { c.short() } else { c.braces() };
    match sub {
        "set-active-admin" => {
            let (user, c) = parse_args(rest, false)?;
            ctx.phone.update(|s| {
                if !is_admin_receiver(s, user, &c) {
                    return Err(illegal_argument(format!("Unknown admin: {}", c.info())));
                }
                s.active_admins.entry(user).or_default().insert(c.flat());
                Ok(())
            })?;
            ctx.outln(format!(
                "Success: Active admin set to component {}",
                show(&c)
            ));
            Ok(())
        }
        "set-profile-owner" => {
            let (user, c) = parse_args(rest, true)?;
            ctx.phone.update(|s| {
                if !is_admin_receiver(s, user, &c) {
                    return Err(illegal_argument(format!("Unknown admin: {}", c.info())));
                }
                if s.profile_owners.contains_key(&user) {
                    return Err(illegal_state("Trying to set the profile owner, but profile owner is already set.".into()));
                }
                if s.device_owner.as_ref().is_some_and(|o| o.user == user) {
                    return Err(illegal_state("Trying to set the profile owner, but the user already has a device owner.".into()));
                }
                if s.user_data.get(&user).is_some_and(|d| !d.accounts.is_empty()) {
                    return Err(illegal_state(
                        "Not allowed to set the profile owner because there are already some accounts on the profile".into(),
                    ));
                }
                s.active_admins.entry(user).or_default().insert(c.flat());
                s.profile_owners.insert(user, c.flat());
                Ok(())
            })?;
            ctx.outln(format!(
                "Success: Active admin and profile owner set to {} for user {user}",
                show(&c)
            ));
            Ok(())
        }
        "set-device-owner" => {
            let (user, c) = parse_args(rest, true)?;
            let user = if modern { user } else { 0 };
            let (known, already) = ctx.phone.read(|s| {
                let already = s
                    .active_admins
                    .get(&user)
                    .is_some_and(|a| a.contains(&c.flat()));
                (is_admin_receiver(s, user, &c), already)
            });
            if modern && (!known || already) {
                ctx.outln(format!(
                    "{} was already an admin for user {user}. No need to set it again.",
                    c.short()
                ));
            }
            ctx.phone.update(|s| {
                if !is_admin_receiver(s, user, &c) {
                    return Err(if modern {
                        illegal_argument(format!("Invalid component {} for device owner", c.info()))
                    } else {
                        illegal_argument(format!("Unknown admin: {}", c.info()))
                    });
                }
                if let Some(owner) = &s.device_owner {
                    return Err(illegal_state(format!(
                        "Trying to set the device owner ({}), but device owner ({}) is already set.",
                        c.info(),
                        Component::parse(&owner.component).map(|o| o.info()).unwrap_or_default()
                    )));
                }
                if s.profile_owners.contains_key(&user) {
                    return Err(illegal_state(format!(
                        "Trying to set the device owner ({}), but the user already has a profile owner.",
                        c.info()
                    )));
                }
                if s.users.len() > 1 {
                    return Err(illegal_state(
                        "Not allowed to set the device owner because there are already several users on the device.".into(),
                    ));
                }
                if s.user_data.values().any(|d| !d.accounts.is_empty()) {
                    return Err(illegal_state(
                        "Not allowed to set the device owner because there are already some accounts on the device.".into(),
                    ));
                }
                s.active_admins.entry(user).or_default().insert(c.flat());
                s.device_owner = Some(Owner { user, component: c.flat() });
                // DevicePolicyManagerService turns the backup service off for a managed device.
                s.data_mut(0).backup_activated = false;
                Ok(())
            })?;
            if modern {
                ctx.outln(format!(
                    "Success: Device owner set to package {}",
                    c.short()
                ));
                ctx.outln(format!("Active admin set to component {}", c.short()));
            } else {
                ctx.outln(format!("Success: Device owner set to package {}", c.info()));
                ctx.outln(format!("Active admin set to component {}", c.braces()));
            }
            Ok(())
        }
        "remove-active-admin" => {
            let (user, c) = parse_args(rest, false)?;
            ctx.phone.update(|s| {
                let active = s
                    .active_admins
                    .get(&user)
                    .is_some_and(|a| a.contains(&c.flat()));
                let test_only = s.packages.get(&c.package).is_some_and(|p| p.test_only);
                if !active || !test_only {
                    return Err(Thrown {
                        class: "java.lang.SecurityException",
                        message: format!("Attempt to remove non-test admin {} {user}", c.info()),
                    });
                }
                if let Some(set) = s.active_admins.get_mut(&user) {
                    set.remove(&c.flat());
                }
                if s.profile_owners.get(&user) == Some(&c.flat()) {
                    s.profile_owners.remove(&user);
                }
                if s.device_owner
                    .as_ref()
                    .is_some_and(|o| o.component == c.flat())
                {
                    s.device_owner = None;
                    s.data_mut(0).backup_activated = true;
                }
                Ok(())
            })?;
            ctx.outln(format!("Success: Admin removed {}", c.info()));
            Ok(())
        }
        "list-owners" if modern => {
            list_owners(ctx);
            Ok(())
        }
        "clear-freeze-period-record" | "force-network-logs" | "force-security-logs" => Ok(()),
        _ if modern => Err(Thrown {
            class: "unknown",
            message: String::new(),
        }),
        other => Err(illegal_argument(format!("unknown command '{other}'"))),
    }
}

fn list_owners(ctx: &mut Ctx<'_>) {
    let lines = ctx.phone.read(|s| {
        let mut lines = Vec::new();
        if let Some(o) = &s.device_owner {
            let c = Component::parse(&o.component)
                .map(|c| c.short())
                .unwrap_or_default();
            lines.push(format!("User {:2}: admin={c},DeviceOwner", o.user));
        }
        for (user, comp) in &s.profile_owners {
            let c = Component::parse(comp)
                .map(|c| c.short())
                .unwrap_or_default();
            let mut line = format!("User {user:2}: admin={c},ProfileOwner");
            if let Some(u) = s.users.get(user).filter(|u| u.is_managed_profile()) {
                line.push_str(&format!(
                    ",ManagedProfileOwner(parentUserId={})",
                    u.parent.unwrap_or(0)
                ));
            }
            lines.push(line);
        }
        lines
    });
    match lines.len() {
        0 => ctx.outln("no owners"),
        1 => ctx.outln("1 owner:"),
        n => ctx.outln(format!("{n} owners:")),
    }
    for l in lines {
        ctx.outln(l);
    }
}
