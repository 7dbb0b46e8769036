//! `pm query-activities [--brief | --components] [--user N] -a ACTION -c CATEGORY`: the
//! launcher activities (`android.intent.action.MAIN` + `android.intent.category.LAUNCHER`)
//! of the packages a user can open (installed, not hidden, not disabled).
//!
//! The simulator does not model manifests' activities: system apps with a launcher
//! icon are listed here, and every app that is not a system app has one.

use super::Ctx;
use super::pm::user_arg;
use crate::phone::state::enabled;

/// System packages with a launcher activity, and its class.
const LAUNCHERS: &[(&str, &str)] = &[
    ("com.android.camera2", "com.android.camera.CameraLauncher"),
    ("com.android.settings", ".Settings"),
    ("com.android.chrome", "com.google.android.apps.chrome.Main"),
    ("com.android.vending", ".AssetBrowserActivity"),
    (
        "com.google.android.contacts",
        "com.android.contacts.activities.PeopleActivity",
    ),
    (
        "com.google.android.dialer",
        ".extensions.GoogleDialtactsActivity",
    ),
    (
        "com.google.android.apps.messaging",
        ".ui.ConversationListActivity",
    ),
    ("com.google.android.gm", ".ConversationListActivityGmail"),
    (
        "com.google.android.youtube",
        "com.google.android.youtube.app.honeycomb.Shell$HomeActivity",
    ),
];

/// The launcher activity of `package`, if it has one.
pub fn launcher_activity(package: &str, system: bool) -> Option<String> {
    if let Some((_, class)) = LAUNCHERS.iter().find(|(p, _)| *p == package) {
        return Some((*class).to_string());
    }
    if system {
        return None;
    }
    Some(if package.starts_with("com.whatsapp") {
        "com.whatsapp.Main".to_string()
    } else {
        ".MainActivity".to_string()
    })
}

pub fn query_activities(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let (mut brief, mut components) = (false, false);
    let mut user = 0;
    let (mut action, mut categories) = (None, Vec::new());
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--brief" => brief = true,
            "--components" => components = true,
            "--user" => {
                let arg = it.next().cloned().unwrap_or_default();
                match user_arg(ctx, "query-activities", &arg) {
                    Ok(u) => user = u.unwrap_or(0),
                    Err(code) => return code,
                }
            }
            "-a" => action = it.next().cloned(),
            "-c" => categories.extend(it.next().cloned()),
            _ => {}
        }
    }
    let launcher = action.as_deref() == Some("android.intent.action.MAIN")
        && categories
            .iter()
            .any(|c| c == "android.intent.category.LAUNCHER");
    let found: Vec<(String, String)> = if launcher {
        ctx.phone.read(|s| {
            s.packages
                .values()
                .filter(|p| {
                    p.installed_for(user).is_some_and(|u| {
                        !u.hidden
                            && !matches!(
                                u.enabled,
                                enabled::DISABLED
                                    | enabled::DISABLED_USER
                                    | enabled::DISABLED_UNTIL_USED
                            )
                    })
                })
                .filter_map(|p| Some((p.name.clone(), launcher_activity(&p.name, p.system)?)))
                .collect()
        })
    } else {
        Vec::new()
    };
    if found.is_empty() {
        ctx.outln("No activities found");
        return 0;
    }
    if components {
        for (pkg, class) in &found {
            ctx.outln(format!("{pkg}/{class}"));
        }
        return 0;
    }
    let info = "priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false";
    if brief {
        for (pkg, class) in &found {
            ctx.outln(format!("{info}\n{pkg}/{class}"));
        }
        return 0;
    }
    ctx.outln(format!("{} activities found:", found.len()));
    for (i, (pkg, class)) in found.iter().enumerate() {
        let full = if class.starts_with('.') {
            format!("{pkg}{class}")
        } else {
            class.clone()
        };
        ctx.outln(format!(
            "  Activity #{i}:\n    {info}\n    ActivityInfo:\n      name={full}\n      packageName={pkg}\n      enabled=true exported=true directBootAware=false"
        ));
    }
    0
}
