//! `getprop [NAME [DEFAULT]]` (toolbox `getprop.cpp`) and `setprop NAME VALUE`, which the
//! shell user may only use on the properties its SELinux domain can write.

use super::Ctx;
use crate::phone::android::build_props;

/// Property prefixes the shell domain may set.
const SHELL_SETTABLE: &[&str] = &["debug.", "log.tag", "persist.log.tag", "persist.debug."];

/// All properties: the build's, then the ones set at run time.
pub fn all_props(ctx: &Ctx<'_>) -> std::collections::BTreeMap<String, String> {
    let mut props: std::collections::BTreeMap<String, String> =
        build_props(ctx.phone.config()).into_iter().collect();
    props.extend(ctx.phone.read(|s| s.props.clone()));
    props
}

/// `getprop`.
pub fn getprop(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let props = all_props(ctx);
    match (argv.get(1), argv.get(2)) {
        (None, _) => {
            for (k, v) in props {
                ctx.outln(format!("[{k}]: [{v}]"));
            }
        }
        (Some(name), default) => {
            let value = props
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .or_else(|| default.cloned())
                .unwrap_or_default();
            ctx.outln(value);
        }
    }
    0
}

/// `setprop NAME VALUE`.
pub fn setprop(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let (Some(name), Some(value), None) = (argv.get(1), argv.get(2), argv.get(3)) else {
        ctx.errln("setprop: Need 2 arguments (see \"setprop --help\")");
        return 1;
    };
    if !SHELL_SETTABLE.iter().any(|p| name.starts_with(p)) {
        ctx.errln(format!("Failed to set property '{name}' to '{value}'."));
        ctx.errln("See dmesg for error reason.");
        return 1;
    }
    ctx.phone
        .update(|s| s.props.insert(name.clone(), value.clone()));
    0
}
