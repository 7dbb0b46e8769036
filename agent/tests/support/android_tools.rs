//! FIXME(devsim): Android commands the agent observes with that the device simulator does
//! not have yet — `dumpsys package PKG`, `dumpsys account --checkin` and
//! `pm query-activities --components …` — answered here from the simulated phone's state,
//! in Android's format (the same format the agent's parser tests use).
//!
//! The shell wraps the real `AdbShell`: before a script goes over ADB, each of these
//! commands in it is replaced by `cat` of a file written into the phone's file system, so
//! the output still travels through the ADB transport and the agent's framing. Delete this
//! module once corral-devsim implements the three commands.

use std::sync::Arc;

use corral_agent::shell::{AndroidShell, ShellError, ShellOutput};
use corral_devsim::phone::Phone;
use corral_devsim::phone::state::State;

/// System packages that have a launcher activity (the simulator has no activity model).
pub const LAUNCHER_SYSTEM_APPS: &[&str] = &[
    "com.android.camera2",
    "com.android.chrome",
    "com.android.settings",
    "com.android.vending",
    "com.google.android.apps.messaging",
    "com.google.android.contacts",
    "com.google.android.dialer",
    "com.google.android.gm",
    "com.google.android.youtube",
];

const DIR: &str = "/data/local/tmp/.corral-test-tools";

/// An `AndroidShell` that supplies the missing commands.
pub struct WithAndroidTools {
    pub inner: Box<dyn AndroidShell>,
    pub phone: Arc<Phone>,
    counter: u64,
}

impl WithAndroidTools {
    pub fn new(inner: Box<dyn AndroidShell>, phone: Arc<Phone>) -> Self {
        WithAndroidTools {
            inner,
            phone,
            counter: 0,
        }
    }

    fn stage(&mut self, text: &str) -> String {
        static STAGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        self.counter = STAGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.phone.fs().mkdir(DIR, true);
        let path = format!("{DIR}/{}", self.counter);
        self.phone
            .fs()
            .write(&path, 0o644, text.as_bytes())
            .expect("staging a tool output");
        format!("cat {path}")
    }
}

/// Replaces every occurrence of `prefix ARG` (ARG up to `;`, space or end) using `answer`.
fn replace_each(script: &str, prefix: &str, mut answer: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let end = after.find([';', '\n']).unwrap_or(after.len());
        out.push_str(&answer(after[..end].trim()));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

impl AndroidShell for WithAndroidTools {
    fn run(&mut self, script: &str) -> Result<ShellOutput, ShellError> {
        let phone = Arc::clone(&self.phone);
        let mut staged = Vec::new();
        let script = replace_each(script, "dumpsys package ", |pkg| {
            let text = phone.read(|s| dumpsys_package(s, pkg));
            staged.push(text);
            format!("@@{}@@", staged.len() - 1)
        });
        let script = replace_each(&script, "dumpsys account ", |_| {
            let text = phone.read(dumpsys_account);
            staged.push(text);
            format!("@@{}@@", staged.len() - 1)
        });
        let script = replace_each(&script, "pm query-activities ", |args| {
            let user: u32 = args
                .split_whitespace()
                .skip_while(|a| *a != "--user")
                .nth(1)
                .and_then(|u| u.parse().ok())
                .unwrap_or(0);
            let text = phone.read(|s| launcher_activities(s, user));
            staged.push(text);
            format!("@@{}@@", staged.len() - 1)
        });
        let mut script = script;
        for (i, text) in staged.iter().enumerate() {
            let cmd = self.stage(text);
            script = script.replace(&format!("@@{i}@@"), &cmd);
        }
        self.inner.run(&script)
    }

    fn target(&self) -> String {
        format!("{} (+ test tools)", self.inner.target())
    }
}

fn dumpsys_package(s: &State, package: &str) -> String {
    let Some(p) = s.packages.get(package) else {
        return format!("Unable to find package: {package}\n");
    };
    let mut out = format!(
        "Packages:\n  Package [{package}] (1a2b3c4):\n    appId={}\n    pkgFlags=[ {}HAS_CODE ALLOW_CLEAR_USER_DATA ]\n",
        p.app_id,
        if p.system { "SYSTEM " } else { "" }
    );
    for (user, u) in &p.users {
        out.push_str(&format!(
            "    User {user}: ceDataInode=0 installed={} hidden={} suspended={} distractionFlags=0 stopped=false notLaunched=false enabled={} instant=false virtual=false\n",
            u.installed, u.hidden, u.suspended, u.enabled
        ));
        if !p.requested_permissions.is_empty() {
            out.push_str("      runtime permissions:\n");
            for perm in &p.requested_permissions {
                if corral_devsim::phone::permissions::runtime_permissions(34)
                    .contains(&perm.as_str())
                {
                    out.push_str(&format!(
                        "        {perm}: granted={}, flags=[ USER_SENSITIVE_WHEN_GRANTED ]\n",
                        u.granted.contains(perm)
                    ));
                }
            }
        }
    }
    out.push_str("\nDexopt state:\n");
    out
}

fn dumpsys_account(s: &State) -> String {
    let mut out = String::new();
    for (id, user) in &s.users {
        out.push_str(&format!(
            "User UserInfo{{{id}:{}:{:x}}}:\n",
            user.name, user.flags
        ));
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for a in s
            .user_data
            .get(id)
            .map(|d| d.accounts.as_slice())
            .unwrap_or(&[])
        {
            *counts.entry(a.account_type.as_str()).or_default() += 1;
        }
        for (t, n) in counts {
            out.push_str(&format!("  {t},{n}\n"));
        }
        out.push('\n');
    }
    out
}

fn launcher_activities(s: &State, user: u32) -> String {
    let mut out = String::new();
    for p in s.packages.values() {
        let Some(u) = p.users.get(&user) else {
            continue;
        };
        let enabled = !matches!(u.enabled, 2..=4);
        if u.installed
            && !u.hidden
            && enabled
            && (!p.system || LAUNCHER_SYSTEM_APPS.contains(&p.name.as_str()))
        {
            out.push_str(&format!("{}/.Main\n", p.name));
        }
    }
    if out.is_empty() {
        "No activities found\n".into()
    } else {
        out
    }
}
