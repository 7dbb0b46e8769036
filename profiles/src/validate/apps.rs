//! The `[messenger]` and `[work_profile]` sections: packages, the personal copy,
//! permissions, APK sources and the apps allowed in the work profile.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Code, Diag, Loc, Sink};
use crate::model::{
    ApkSource, KNOWN_MESSENGERS, Messenger, OtherApps, PersonalCopy, WorkProfile, defaults,
};
use crate::names::{PackageName, Sha256Hex, nearest};
use crate::read::Reader;

use super::{display_name_ok, finish, packages_set, permissions_set, read_enum};

pub(super) fn read_messenger(mut r: Option<Reader<'_>>, anchor: Loc, sink: &mut Sink) -> Messenger {
    let packages = r.as_mut().and_then(|r| r.str_list("packages", sink));
    let packages = match packages {
        Some(list) => {
            if list.value.is_empty() {
                sink.push(
                    Diag::error(Code::Missing, list.loc, "`messenger.packages` is empty")
                        .hint("name the messenger, e.g. `packages = [\"com.whatsapp.w4b\"]`"),
                );
            }
            for p in &list.value {
                if !KNOWN_MESSENGERS.contains(&p.value.as_str())
                    && PackageName::parse(&p.value).is_ok()
                {
                    let hint = match nearest(&p.value, KNOWN_MESSENGERS) {
                        Some(n) => format!("did you mean `{n}`?"),
                        None => {
                            "corral is tested with `com.whatsapp` and `com.whatsapp.w4b`".to_owned()
                        }
                    };
                    sink.push(
                        Diag::warning(
                            Code::InvalidValue,
                            p.loc,
                            format!("`{}` is not a WhatsApp package", p.value),
                        )
                        .hint(hint),
                    );
                }
            }
            packages_set(list.value, "messenger.packages", sink)
        }
        None if r.as_ref().is_some_and(|r| r.has("packages")) => BTreeSet::new(),
        None => {
            let at = r.as_ref().map_or(anchor, |r| r.loc);
            sink.push(
                Diag::error(Code::Missing, at, "missing `messenger.packages`: which messenger goes into the work profile")
                    .hint("add `[messenger]` with `packages = [\"com.whatsapp.w4b\"]` (WhatsApp Business) or `[\"com.whatsapp\"]`"),
            );
            BTreeSet::new()
        }
    };
    let personal_copy = read_enum(r.as_mut(), "personal_copy", &PersonalCopy::ALL, sink)
        .map_or(PersonalCopy::Keep, |v| v.value);
    let grant = r
        .as_mut()
        .and_then(|r| r.str_list("grant", sink))
        .map(|l| permissions_set(l.value, sink))
        .unwrap_or_default();
    let mut apk = BTreeMap::new();
    if let Some(mut table) = r.as_mut().and_then(|r| r.table("apk", sink)) {
        for (key, entry) in table.entries() {
            let Ok(package) = PackageName::parse(key) else {
                sink.push(
                    Diag::error(
                        Code::InvalidPackage,
                        entry.key,
                        format!("`{key}` is not a package name"),
                    )
                    .hint("keys of `[messenger.apk]` are messenger package names"),
                );
                continue;
            };
            if !packages.contains(&package) {
                sink.push(
                    Diag::error(
                        Code::Conflict,
                        entry.key,
                        format!(
                            "an APK is given for `{key}`, which is not in `messenger.packages`"
                        ),
                    )
                    .hint("list the package in `messenger.packages`, or remove this APK"),
                );
            }
            let crate::tree::Value::Table(t) = &entry.node.value else {
                sink.push(crate::read::wrong_type(
                    &entry.node,
                    &format!("messenger.apk.{key}"),
                    "a table: `{ file = \"…\", sha256 = \"…\" }`",
                ));
                continue;
            };
            let mut ar = Reader::new(t, entry.node.loc, format!("messenger.apk.\"{key}\""));
            let file = ar.str("file", sink);
            let sha = ar.str("sha256", sink);
            let sha = sha.and_then(|s| match Sha256Hex::parse(&s.value) {
                Ok(h) => Some(h),
                Err(e) => {
                    sink.push(
                        Diag::error(
                            Code::InvalidValue,
                            s.loc,
                            format!("bad `sha256` for `{key}`"),
                        )
                        .label(e.0),
                    );
                    None
                }
            });
            for (k, v) in [("file", file.is_some()), ("sha256", sha.is_some())] {
                if !v && !t.entries.contains_key(k) {
                    sink.push(Diag::error(Code::Missing, entry.node.loc, format!("missing `{k}` in the APK for `{key}`")).hint("write `{ file = \"whatsapp-business.apk\", sha256 = \"<64 hex digits>\" }`"));
                }
            }
            ar.finish(sink, &|_| None);
            if let (Some(file), Some(sha256)) = (file, sha) {
                apk.insert(
                    package,
                    ApkSource {
                        file: file.value,
                        sha256,
                    },
                );
            }
        }
    }
    finish(r, sink);
    Messenger {
        packages,
        personal_copy,
        grant,
        apk,
    }
}

pub(super) fn read_work_profile(
    mut r: Option<Reader<'_>>,
    messenger: &Messenger,
    sink: &mut Sink,
) -> WorkProfile {
    let name = match r.as_mut().and_then(|r| r.str("name", sink)) {
        Some(n) if display_name_ok(&n.value, 64) => n.value,
        Some(n) => {
            sink.push(Diag::error(
                Code::InvalidValue,
                n.loc,
                "the work profile's name must be 1 to 64 characters on one line",
            ));
            n.value
        }
        None => defaults::WORK_PROFILE_NAME.to_owned(),
    };
    let mut lists = Vec::new();
    for key in ["allowed_apps", "install"] {
        let list = r
            .as_mut()
            .and_then(|r| r.str_list(key, sink))
            .map(|l| l.value)
            .unwrap_or_default();
        for p in &list {
            if messenger.packages.iter().any(|m| m.as_str() == p.value) {
                sink.push(
                    Diag::warning(
                        Code::Redundant,
                        p.loc,
                        format!(
                            "`{}` is the messenger; it is always in the work profile",
                            p.value
                        ),
                    )
                    .hint(format!("remove it from `work_profile.{key}`")),
                );
            }
        }
        lists.push(packages_set(list, &format!("work_profile.{key}"), sink));
    }
    let install = lists.pop().unwrap_or_default();
    let allowed_apps = lists.pop().unwrap_or_default();
    let other_apps = read_enum(
        r.as_mut(),
        "other_apps",
        &[("hide", OtherApps::Hide), ("keep", OtherApps::Keep)],
        sink,
    )
    .map_or(OtherApps::Hide, |v| v.value);
    finish(r, sink);
    WorkProfile {
        name,
        allowed_apps,
        install,
        other_apps,
    }
}
