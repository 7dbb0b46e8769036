//! Rendering and evaluating batches.

use corral_profiles::{Action, PackageName, UserRef};
use expect_test::expect;

use super::*;

fn pkg(s: &str) -> PackageName {
    PackageName::parse(s).unwrap_or_else(|_| unreachable!())
}

fn users() -> Users {
    Users {
        personal: UserId(0),
        work: Some(UserId(10)),
    }
}

fn batch() -> Vec<Action> {
    vec![
        Action::Hide {
            user: UserRef::Work,
            package: pkg("com.android.chrome"),
        },
        Action::SetBackup {
            user: UserRef::Work,
            enabled: false,
        },
        Action::Uninstall {
            user: UserRef::Personal,
            package: pkg("com.whatsapp.w4b"),
        },
    ]
}

const M: &str = "__CORRAL_STEP_0000000000000001__\n";

fn eval(output: &str, exit: u8) -> String {
    let b = batch();
    let s = render(&b, users(), 1).unwrap_or_else(|_| unreachable!());
    format!("{:?}", evaluate(&s, b.len(), output, exit, 1).results)
}

#[test]
fn renders_markers_between_commands() {
    let s = render(&batch(), users(), 1).unwrap_or_else(|_| unreachable!());
    expect!["pm hide --user 10 com.android.chrome && echo __CORRAL_STEP_0000000000000001__ && bmgr --user 10 enable false && echo __CORRAL_STEP_0000000000000001__ && pm uninstall --user 0 com.whatsapp.w4b && echo __CORRAL_STEP_0000000000000001__"]
        .assert_eq(&s.script);
}

#[test]
fn all_done() {
    let out = format!(
        "Package com.android.chrome new hidden state: true\n{M}Backup Manager now disabled\n{M}Success\n{M}"
    );
    expect!["[Done, Done, Done]"].assert_eq(&eval(&out, 0));
}

#[test]
fn a_failure_in_words_with_status_zero() {
    let out = format!(
        "Package com.android.chrome new hidden state: false\n{M}Backup Manager now disabled\n{M}Success\n{M}"
    );
    expect![[r#"[Failed { command: "pm hide --user 10 com.android.chrome", reason: "expected \"Package com.android.chrome new hidden state: true\", got \"Package com.android.chrome new hidden state: false\\n\"" }, Done, Done]"#]]
        .assert_eq(&eval(&out, 0));
}

#[test]
fn a_failing_exit_status_stops_the_chain() {
    let out = format!(
        "Package com.android.chrome new hidden state: true\n{M}Error: Backup Manager is not activated for user 10\nboom\n"
    );
    expect![[r#"[Done, Failed { command: "bmgr --user 10 enable false", reason: "exit status 1: \"Error: Backup Manager is not activated for user 10\\nboom\\n\"" }, NotRun]"#]]
        .assert_eq(&eval(&out, 1));
}

#[test]
fn a_multi_command_action_cut_in_the_middle_is_not_done() {
    let b = vec![
        Action::Hide {
            user: UserRef::Work,
            package: pkg("com.android.chrome"),
        },
        Action::InstallApk {
            user: UserRef::Work,
            package: pkg("com.example.orders"),
            apk: corral_profiles::ApkSource {
                file: "orders.apk".into(),
                sha256: corral_profiles::Sha256Hex::parse(&"a".repeat(64))
                    .unwrap_or_else(|_| unreachable!()),
            },
        },
    ];
    let s = render(&b, users(), 1).unwrap_or_else(|_| unreachable!());
    let out = format!("Package com.android.chrome new hidden state: true\n{M}");
    let got = evaluate(&s, b.len(), &out, 1, 1);
    expect![[r#"[Done, Failed { command: "[ \"$(sha256sum /data/local/tmp/corral/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.apk | cut -d' ' -f1)\" = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ]", reason: "exit status 1: \"\"" }]"#]]
        .assert_eq(&format!("{:?}", got.results));
}

#[test]
fn profile_creation_reports_the_new_user() {
    let b = vec![Action::CreateWorkProfile {
        name: "Shop".into(),
    }];
    let u = Users {
        personal: UserId(0),
        work: None,
    };
    let s = render(&b, u, 1).unwrap_or_else(|_| unreachable!());
    let got = evaluate(&s, 1, &format!("Success: created user id 11\n{M}"), 0, 1);
    assert_eq!(got.created_user, Some(UserId(11)));
    assert_eq!(got.results, vec![ActionResult::Done]);
}

#[test]
fn trailing_garbage_is_a_failure() {
    let out = format!(
        "Package com.android.chrome new hidden state: true\n{M}Backup Manager now disabled\n{M}Success\n{M}surprise\n"
    );
    expect![[r#"[Done, Done, Failed { command: "pm uninstall --user 0 com.whatsapp.w4b", reason: "unexpected output after the last command: \"surprise\\n\"" }]"#]]
        .assert_eq(&eval(&out, 0));
}
