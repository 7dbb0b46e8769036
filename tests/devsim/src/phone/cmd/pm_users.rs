//! `pm list users` / `cmd user list`, `pm create-user` and `pm remove-user`, with
//! `UserManagerService`'s limits: one managed profile per parent, `max_users` full
//! users, the `no_add_managed_profile` / `no_add_user` restrictions.

use super::Ctx;
use super::args::{Args, parse_user};
use super::pm::frames;
use crate::phone::factory;
use crate::phone::state::{State, USER_TYPE_MANAGED, USER_TYPE_SECONDARY, User};

pub fn list_users(ctx: &mut Ctx<'_>) -> u8 {
    let users: Vec<User> = ctx.phone.read(|s| s.users.values().cloned().collect());
    ctx.outln("Users:");
    for u in users {
        let running = if u.running { " running" } else { "" };
        ctx.outln(format!(
            "\tUserInfo{{{}:{}:{:x}}}{running}",
            u.id, u.name, u.flags
        ));
    }
    0
}

fn create_failed(ctx: &mut Ctx<'_>, message: &str, code: u32) -> u8 {
    ctx.errln(format!(
        "Error: android.os.ServiceSpecificException: {message} (code {code})"
    ));
    ctx.errln("Error: couldn't create User.");
    1
}

pub fn create_user(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    let mut profile_of: Option<String> = None;
    let mut user_type: Option<&'static str> = None;
    while let Some(opt) = a.next_option() {
        let this: Option<&'static str> = match opt.as_str() {
            "--profileOf" => {
                match a.next_arg_required() {
                    Ok(v) => profile_of = Some(v),
                    Err(e) => return ctx.exception("create-user", &e, frames()),
                }
                None
            }
            "--managed" => Some(USER_TYPE_MANAGED),
            "--restricted" => Some("android.os.usertype.full.RESTRICTED"),
            "--guest" => Some("android.os.usertype.full.GUEST"),
            "--demo" => Some("android.os.usertype.full.DEMO"),
            "--ephemeral" | "--pre-create-only" | "--for-testing" => None,
            "--user-type" => match a.next_arg_required() {
                Ok(t) if t == USER_TYPE_MANAGED => Some(USER_TYPE_MANAGED),
                Ok(t) if t == USER_TYPE_SECONDARY => Some(USER_TYPE_SECONDARY),
                Ok(t) => {
                    return create_failed(
                        ctx,
                        &format!("Cannot add a user of disabled type {t}."),
                        6,
                    );
                }
                Err(e) => return ctx.exception("create-user", &e, frames()),
            },
            other => {
                ctx.errln(format!("Error: unknown option {other}"));
                return 1;
            }
        };
        if let Some(t) = this {
            if let Some(prev) = user_type.filter(|p| *p != t) {
                ctx.errln(format!(
                    "Error: more than one user type was specified ({prev} and {t})"
                ));
                return 1;
            }
            user_type = Some(t);
        }
    }
    let Some(name) = a.next_arg() else {
        ctx.errln("Error: no user name specified.");
        return 1;
    };
    let parent = match profile_of.as_deref().map(|p| (p, parse_user(p))) {
        None => None,
        Some((_, Some(id))) => Some(id),
        Some((p, None)) => {
            return ctx.exception("create-user", &super::args::number_format(p), frames());
        }
    };
    let user_type = user_type.unwrap_or(USER_TYPE_SECONDARY);
    let version = ctx.version();
    let max_users = ctx.phone.config().max_users;
    let serial = ctx.phone.serial().to_string();
    let result = ctx.phone.update(|s| -> Result<u32, (String, u32)> {
        let managed = user_type == USER_TYPE_MANAGED;
        if managed {
            let parent_id = parent.unwrap_or(0);
            let limit = || {
                (
                    format!(
                        "Cannot add more profiles of type {USER_TYPE_MANAGED} for user {parent_id}"
                    ),
                    6,
                )
            };
            let parent_user = u32::try_from(parent_id)
                .ok()
                .and_then(|p| s.users.get(&p))
                .ok_or_else(limit)?;
            if parent_user.is_profile() {
                return Err(limit());
            }
            let pid = parent_user.id;
            if s.users
                .values()
                .any(|u| u.parent == Some(pid) && u.is_managed_profile())
            {
                return Err(limit());
            }
            if s.user_data
                .get(&pid)
                .is_some_and(|d| d.restrictions.get("no_add_managed_profile") == Some(&true))
            {
                return Err((
                    "Cannot add user. no_add_managed_profile is enabled.".into(),
                    1,
                ));
            }
        } else if parent.is_some() || user_type != USER_TYPE_SECONDARY {
            return Err((
                format!("Cannot add a user of disabled type {user_type}."),
                6,
            ));
        } else {
            let full = s.users.values().filter(|u| !u.is_profile()).count();
            if full >= max_users as usize {
                return Err(("Cannot add user. Maximum user limit is reached.".into(), 6));
            }
            if s.user_data
                .get(&0)
                .is_some_and(|d| d.restrictions.get("no_add_user") == Some(&true))
            {
                return Err(("Cannot add user. no_add_user is enabled.".into(), 1));
            }
        }
        let id = s.next_user_id;
        s.next_user_id += 1;
        let (flags, parent_id) = if managed {
            (
                version.managed_profile_flags(),
                Some(parent.unwrap_or(0) as u32),
            )
        } else {
            (version.secondary_user_flags(), None)
        };
        s.users.insert(
            id,
            User {
                id,
                name: name.clone(),
                flags,
                running: false,
                parent: parent_id,
                user_type: user_type.to_string(),
            },
        );
        let mut data = factory::new_user_data(managed);
        data.secure
            .insert("android_id".into(), factory::android_id(&serial, id));
        s.user_data.insert(id, data);
        factory::install_system_packages(s, id);
        Ok(id)
    });
    match result {
        Ok(id) => {
            ctx.outln(format!("Success: created user id {id}"));
            0
        }
        Err((msg, code)) => create_failed(ctx, &msg, code),
    }
}

pub fn remove_user(ctx: &mut Ctx<'_>, rest: &[String]) -> u8 {
    let mut a = Args::new(rest);
    while let Some(opt) = a.next_option() {
        if !matches!(opt.as_str(), "--wait" | "-w" | "--set-ephemeral-if-in-use") {
            ctx.errln(format!("Error: unknown option: {opt}"));
            return 255;
        }
    }
    let Some(arg) = a.next_arg() else {
        ctx.errln("Error: no user id specified.");
        return 1;
    };
    let Some(id) = parse_user(&arg) else {
        return ctx.exception("remove-user", &super::args::number_format(&arg), frames());
    };
    let removed = u32::try_from(id)
        .ok()
        .filter(|id| *id != 0)
        .is_some_and(|id| {
            let exists = ctx.phone.read(|s| s.users.contains_key(&id));
            if exists {
                ctx.phone.update(|s| remove_user_data(s, id));
            }
            exists
        });
    if removed {
        ctx.outln("Success: removed user");
        0
    } else {
        ctx.errln(format!("Error: couldn't remove user id {id}"));
        1
    }
}

/// Deletes a user and everything that belongs to it.
pub fn remove_user_data(s: &mut State, id: u32) {
    s.users.remove(&id);
    s.user_data.remove(&id);
    s.profile_owners.remove(&id);
    s.active_admins.remove(&id);
    if s.device_owner.as_ref().is_some_and(|o| o.user == id) {
        s.device_owner = None;
    }
    for pkg in s.packages.values_mut() {
        pkg.users.remove(&id);
    }
    s.packages.retain(|_, p| p.system || !p.users.is_empty());
    let children: Vec<u32> = s
        .users
        .values()
        .filter(|u| u.parent == Some(id))
        .map(|u| u.id)
        .collect();
    for child in children {
        remove_user_data(s, child);
    }
}
