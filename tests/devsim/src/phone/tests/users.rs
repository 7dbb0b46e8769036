//! Users and profiles: `pm list users`, `create-user`, `remove-user`, `am start-user`,
//! `am stop-user`, reboot, `dpm`.

use expect_test::expect;

use super::{check, phone, phone_with};

const MAKE_PROFILE: &str = "pm create-user --profileOf 0 --managed Work";

#[test]
fn list_users_of_a_fresh_phone() {
    check(
        &phone(14, &[]),
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
    "#]],
    );
    check(
        &phone(11, &[]),
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:c13} running
    "#]],
    );
    check(
        &phone(14, &[]),
        "cmd user list",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
    "#]],
    );
}

#[test]
fn create_a_managed_profile() {
    let p = phone(14, &[]);
    check(
        &p,
        MAKE_PROFILE,
        expect![[r#"
        Success: created user id 10
    "#]],
    );
    check(
        &p,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030}
    "#]],
    );
    check(
        &p,
        MAKE_PROFILE,
        expect![[r#"
        [stderr]
        Error: android.os.ServiceSpecificException: Cannot add more profiles of type android.os.usertype.profile.MANAGED for user 0 (code 6)
        Error: couldn't create User.
        [exit 1]
    "#]],
    );
    check(
        &phone(11, &[MAKE_PROFILE]),
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:c13} running
        	UserInfo{10:Work:1030}
    "#]],
    );
}

#[test]
fn create_user_argument_errors() {
    let p = phone(14, &[]);
    check(
        &p,
        "pm create-user",
        expect![[r#"
        [stderr]
        Error: no user name specified.
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm create-user --bogus x",
        expect![[r#"
        [stderr]
        Error: unknown option --bogus
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm create-user --profileOf 10 --managed W",
        expect![[r#"
        [stderr]
        Error: android.os.ServiceSpecificException: Cannot add more profiles of type android.os.usertype.profile.MANAGED for user 10 (code 6)
        Error: couldn't create User.
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm create-user --profileOf x --managed W",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'create-user':
        java.lang.NumberFormatException: For input string: "x"
        	at com.android.server.pm.PackageManagerShellCommand.onCommand(PackageManagerShellCommand.java:221)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "pm create-user --managed --guest W",
        expect![[r#"
        [stderr]
        Error: more than one user type was specified (android.os.usertype.profile.MANAGED and android.os.usertype.full.GUEST)
        [exit 1]
    "#]],
    );
}

#[test]
fn user_limit_applies_to_full_users() {
    let p = phone_with(14, |c| c.max_users = 2, &["pm create-user Bob"]);
    check(
        &p,
        "pm create-user Carol",
        expect![[r#"
        [stderr]
        Error: android.os.ServiceSpecificException: Cannot add user. Maximum user limit is reached. (code 6)
        Error: couldn't create User.
        [exit 1]
    "#]],
    );
    check(
        &p,
        MAKE_PROFILE,
        expect![[r#"
        Success: created user id 11
    "#]],
    );
}

#[test]
fn restriction_blocks_managed_profiles() {
    let p = phone(14, &["pm set-user-restriction no_add_managed_profile 1"]);
    check(
        &p,
        MAKE_PROFILE,
        expect![[r#"
        [stderr]
        Error: android.os.ServiceSpecificException: Cannot add user. no_add_managed_profile is enabled. (code 1)
        Error: couldn't create User.
        [exit 1]
    "#]],
    );
}

#[test]
fn remove_user() {
    let p = phone(14, &[MAKE_PROFILE]);
    check(
        &p,
        "pm remove-user 10",
        expect![[r#"
        Success: removed user
    "#]],
    );
    check(
        &p,
        "pm remove-user 10",
        expect![[r#"
        [stderr]
        Error: couldn't remove user id 10
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm remove-user 0",
        expect![[r#"
        [stderr]
        Error: couldn't remove user id 0
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm remove-user",
        expect![[r#"
        [stderr]
        Error: no user id specified.
        [exit 1]
    "#]],
    );
    check(
        &p,
        "pm create-user --profileOf 0 --managed Work2 && pm list users",
        expect![[r#"
        Success: created user id 11
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{11:Work2:1030}
    "#]],
    );
}

#[test]
fn start_and_stop_users() {
    let p = phone(14, &[MAKE_PROFILE]);
    check(
        &p,
        "am start-user -w 10",
        expect![[r#"
        Success: user started
    "#]],
    );
    check(
        &p,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030} running
    "#]],
    );
    check(
        &p,
        "am start-user 42",
        expect![[r#"
        [stderr]
        Error: could not start user
    "#]],
    );
    check(
        &p,
        "am start-user --bogus 10",
        expect![[r#"
        [stderr]
        Error: unknown option: --bogus
        [exit 255]
    "#]],
    );
    check(
        &p,
        "am start-user x",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'start-user':
        java.lang.NumberFormatException: For input string: "x"
        	at com.android.server.am.ActivityManagerShellCommand.onCommand(ActivityManagerShellCommand.java:286)
        	at com.android.modules.utils.BasicShellCommandHandler.exec(BasicShellCommandHandler.java:97)
        	at android.os.ShellCommand.exec(ShellCommand.java:38)
        [exit 255]
    "#]],
    );
    check(
        &p,
        "am stop-user -w 10; echo $?",
        expect![[r#"
        0
    "#]],
    );
    check(
        &p,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030}
    "#]],
    );
    check(
        &p,
        "am stop-user 0",
        expect![[r#"
        [stderr]

        Exception occurred while executing 'stop-user':
        java.lang.IllegalArgumentException: Can't stop system user 0
        	at com.android.server.am.UserController.stopUser(UserController.java:765)
        	at com.android.server.am.ActivityManagerService.stopUser(ActivityManagerService.java:16281)
        	at com.android.server.am.ActivityManagerShellCommand.onCommand(ActivityManagerShellCommand.java:286)
        [exit 255]
    "#]],
    );
}

#[test]
fn reboot_restarts_profiles_of_the_owner() {
    let p = phone(
        14,
        &[
            MAKE_PROFILE,
            "pm create-user Bob",
            "am start-user 10",
            "am start-user 11",
        ],
    );
    p.reboot();
    check(
        &p,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030} running
        	UserInfo{11:Bob:410}
    "#]],
    );
    let q = phone_with(
        14,
        |c| c.restart_profiles_on_boot = false,
        &[MAKE_PROFILE, "am start-user 10"],
    );
    q.reboot();
    check(
        &q,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030}
    "#]],
    );
}

#[test]
fn state_survives_a_restart_of_the_simulator() {
    let p = phone(14, &[MAKE_PROFILE, "am start-user 10"]);
    let config = p.config().clone();
    drop(p.phone.clone());
    let again = crate::phone::Phone::open(config).expect("reopen");
    check(
        &again,
        "pm list users",
        expect![[r#"
        Users:
        	UserInfo{0:Owner:4c13} running
        	UserInfo{10:Work:1030} running
    "#]],
    );
}

#[test]
fn a_corrupt_state_file_is_named() {
    let p = phone(14, &[]);
    let config = p.config().clone();
    std::fs::write(config.state_dir.join("state.json"), b"{ not json").expect("write");
    let err = crate::phone::Phone::open(config).expect_err("corrupt");
    assert!(matches!(err, crate::phone::PhoneError::Corrupt { .. }));
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[test]
fn snapshot_and_keys() {
    let p = phone(14, &[MAKE_PROFILE]);
    p.authorize_key("QAAAA... user@host");
    p.authorize_key("QAAAA... user@host");
    assert_eq!(p.authorized_keys(), vec!["QAAAA... user@host".to_string()]);
    let snap = p.snapshot();
    assert_eq!(snap["sdk"], 34);
    assert_eq!(snap["state"]["users"]["10"]["name"], "Work");
    assert_eq!(
        snap["state"]["user_data"]["10"]["secure"]["managed_profile_contact_remote_search"],
        "1"
    );
    assert!(snap["processes"].is_array());
}
