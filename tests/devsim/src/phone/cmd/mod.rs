//! The programs of the simulated phone: Android's `pm`/`cmd`, `am`, `dpm`, `content`,
//! `settings`, `bmgr`, `dumpsys`, `getprop`/`setprop`, mksh's `test`, and the toybox tools
//! the project uses (`sed`, `grep`, `cut`, `tr`, `sort`, `uniq`, `printf`, the hash tools,
//! file tools).
//!
//! Each program is a function `(ctx, argv) -> exit code` that prints through
//! [`Ctx`]; the texts are the configured Android release's (see `phone::android`).
//! Programs read and change the phone through `Phone::read`/`Phone::update`, which
//! persists every change.

pub mod am;
pub mod args;
pub mod bmgr;
pub mod content;
pub mod coreutils;
pub mod cut;
pub mod digest;
pub mod dpm;
pub mod dumpsys;
pub mod fileops;
pub mod files;
pub mod getprop;
pub mod logcat;
pub mod pm;
pub mod pm_install;
pub mod pm_query;
pub mod pm_state;
pub mod pm_users;
pub mod power;
pub mod printf;
pub mod ps;
pub mod regex;
pub mod sed;
pub mod settings;
pub mod sort;
pub mod test;
pub mod text;
pub mod toybox;
pub mod tr;

use std::io::Read;

use super::Phone;
use super::shell::Output;

/// What a program gets: the phone, its output, stdin and the working directory.
pub struct Ctx<'a> {
    pub phone: &'a Phone,
    pub out: Output,
    pub stdin: &'a mut dyn Read,
    pub cwd: &'a str,
}

impl<'a> Ctx<'a> {
    /// A context with empty output.
    pub fn new(phone: &'a Phone, stdin: &'a mut dyn Read, cwd: &'a str) -> Self {
        Ctx {
            phone,
            out: Output::default(),
            stdin,
            cwd,
        }
    }

    /// Prints a line on stdout.
    pub fn outln(&mut self, line: impl AsRef<str>) {
        self.out.out(line.as_ref());
        self.out.out("\n");
    }

    /// Prints a line on stderr.
    pub fn errln(&mut self, line: impl AsRef<str>) {
        self.out.err(line.as_ref());
        self.out.err("\n");
    }

    /// A path relative to the working directory, normalised.
    pub fn path(&self, p: &str) -> String {
        super::shell::expand::resolve(self.cwd, p)
    }

    /// The Android release being imitated.
    pub fn version(&self) -> super::AndroidVersion {
        self.phone.config().android
    }

    /// A `ShellCommand` handler's uncaught exception: an empty line, the header, the
    /// exception and its frames on stderr; exit 255.
    pub fn exception(&mut self, command: &str, exception: &str, frames: &[&str]) -> u8 {
        self.out.err(format!(
            "\nException occurred while executing '{command}':\n{exception}\n"
        ));
        for f in frames {
            self.out.err(format!("\tat {f}\n"));
        }
        255
    }

    /// A Java stack trace as `Throwable.printStackTrace()` prints it (app_process tools).
    pub fn stack_trace(&mut self, exception: &str, frames: &[&str]) {
        self.out.err(format!("{exception}\n"));
        for f in frames {
            self.out.err(format!("\tat {f}\n"));
        }
    }
}

/// A program.
pub type Handler = fn(&mut Ctx<'_>, &[String]) -> u8;

/// Finds a program by name (`pm`, `/system/bin/pm`, …).
pub fn lookup(name: &str) -> Option<Handler> {
    let base = [
        "/system/bin/",
        "/system/xbin/",
        "/vendor/bin/",
        "/product/bin/",
        "/apex/com.android.runtime/bin/",
    ]
    .iter()
    .find_map(|p| name.strip_prefix(p))
    .unwrap_or(name);
    let h: Handler = match base {
        "pm" => pm::pm,
        "cmd" => cmd,
        "am" => am::am,
        "dpm" => dpm::dpm,
        "dumpsys" => dumpsys::dumpsys,
        "content" => content::content,
        "settings" => settings::settings,
        "bmgr" => bmgr::bmgr,
        "getprop" => getprop::getprop,
        "logcat" => logcat::logcat,
        "svc" => power::svc,
        "reboot" => power::reboot,
        "setprop" => getprop::setprop,
        "echo" => coreutils::echo,
        "cat" => coreutils::cat,
        "ls" => files::ls,
        "rm" => fileops::rm,
        "mkdir" => fileops::mkdir,
        "chmod" => fileops::chmod,
        "stat" => files::stat,
        "touch" => fileops::touch,
        "id" => coreutils::id,
        "whoami" => coreutils::whoami,
        "true" | ":" => |_, _| 0,
        "false" => |_, _| 1,
        "sleep" => coreutils::sleep,
        "which" => coreutils::which,
        "grep" => text::grep,
        "sed" => sed::sed,
        "printf" => printf::printf,
        "head" => text::head,
        "tail" => text::tail,
        "wc" => text::wc,
        "test" | "[" => test::test,
        "cut" => cut::cut,
        "tr" => tr::tr,
        "sort" => sort::sort,
        "uniq" => sort::uniq,
        "md5sum" | "sha1sum" | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum" => {
            digest::hashsum
        }
        "pwd" => coreutils::pwd,
        "df" => coreutils::df,
        "uname" => coreutils::uname,
        "ps" => ps::ps,
        "pidof" => ps::pidof,
        "kill" => ps::kill,
        _ => return None,
    };
    Some(h)
}

/// True for names `which` finds in `/system/bin`.
pub fn is_system_binary(name: &str) -> bool {
    !matches!(name, "true" | ":" | "false" | "test" | "[" | "pwd" | "kill")
        && lookup(name).is_some()
}

/// `cmd SERVICE …`: the binder shell commands of the services the simulator has.
fn cmd(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let Some(service) = argv.get(1) else {
        ctx.errln("cmd: No service specified; use -l to list all running services. Use -w to start and wait for a service.");
        return 20;
    };
    let rest = &argv[1..];
    match service.as_str() {
        "package" => pm::pm(ctx, rest),
        "activity" => am::am(ctx, rest),
        "device_policy" => dpm::cmd_device_policy(ctx, rest),
        "settings" => settings::settings(ctx, rest),
        "user" => pm::cmd_user(ctx, rest),
        "-l" => {
            ctx.outln("Currently running services:");
            for s in [
                "activity",
                "backup",
                "device_policy",
                "package",
                "settings",
                "user",
            ] {
                ctx.outln(format!("  {s}"));
            }
            0
        }
        other => {
            ctx.errln(format!("cmd: Can't find service: {other}"));
            20
        }
    }
}
