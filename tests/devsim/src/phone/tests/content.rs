//! The contacts provider through `content`.

use expect_test::expect;

use super::{TestPhone, check, phone};

const URI: &str = "content://com.android.contacts";

fn profile_with_contact() -> TestPhone {
    phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Work",
            "am start-user 10",
            "content insert --user 10 --uri content://com.android.contacts/raw_contacts --bind account_type:n: --bind account_name:n:",
            "content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:1 --bind mimetype:s:vnd.android.cursor.item/name --bind data1:s:'Jane Doe'",
            "content insert --user 10 --uri content://com.android.contacts/data --bind raw_contact_id:i:1 --bind mimetype:s:vnd.android.cursor.item/phone_v2 --bind data1:s:+15551234567 --bind data2:i:2",
        ],
    )
}

#[test]
fn insert_and_query() {
    let p = profile_with_contact();
    check(
        &p,
        &format!(
            "content query --user 10 --uri {URI}/raw_contacts --projection _id:display_name:account_type"
        ),
        expect![[r#"
        Row: 0 _id=1, display_name=Jane Doe, account_type=NULL
    "#]],
    );
    check(
        &p,
        &format!(
            "content query --user 10 --uri {URI}/data --projection raw_contact_id:mimetype:data1 --where \"mimetype='vnd.android.cursor.item/phone_v2'\""
        ),
        expect![[r#"
        Row: 0 raw_contact_id=1, mimetype=vnd.android.cursor.item/phone_v2, data1=+15551234567
    "#]],
    );
    check(
        &p,
        &format!(
            "content query --user 10 --uri {URI}/contacts --projection _id:display_name:has_phone_number"
        ),
        expect![[r#"
        Row: 0 _id=1, display_name=Jane Doe, has_phone_number=1
    "#]],
    );
    check(
        &p,
        &format!(
            "content query --user 10 --uri {URI}/raw_contacts --projection _id --sort \"_id DESC\""
        ),
        expect![[r#"
        Row: 0 _id=1
    "#]],
    );
    check(
        &p,
        &format!("content query --uri {URI}/raw_contacts"),
        expect![[r#"
        No result found.
    "#]],
    );
}

#[test]
fn where_clauses_and_bindings() {
    let p = profile_with_contact();
    let q = |w: &str| {
        format!("content query --user 10 --uri {URI}/data --projection _id:data1 --where \"{w}\"")
    };
    check(
        &p,
        &q("data2 IS NULL"),
        expect![[r#"
        Row: 0 _id=1, data1=Jane Doe
    "#]],
    );
    check(
        &p,
        &q("_id IN (1, 3) OR data1 LIKE '%555%'"),
        expect![[r#"
        Row: 0 _id=1, data1=Jane Doe
        Row: 1 _id=2, data1=+15551234567
    "#]],
    );
    check(
        &p,
        &q("NOT (_id >= 2) AND data1 <> 'x'"),
        expect![[r#"
        Row: 0 _id=1, data1=Jane Doe
    "#]],
    );
    check(
        &p,
        &q("nope = 1"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        android.database.sqlite.SQLiteException: no such column: nope (code 1 SQLITE_ERROR)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.query(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$QueryCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        &q("_id = = 1"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        android.database.sqlite.SQLiteException: near "=": syntax error (code 1 SQLITE_ERROR)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.query(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$QueryCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    // `Content.parseBindValue` takes everything after the second `:` literally: no
    // escapes, so `\:` stays two characters and a plain `:` needs none.
    check(
        &p,
        &format!(
            "content insert --user 10 --uri {URI}/data --bind raw_contact_id:i:1 --bind mimetype:s:a\\\\:b --bind data1:s:x:y"
        ),
        expect![[""]],
    );
    check(
        &p,
        &format!(
            "content query --user 10 --uri {URI}/data --projection mimetype:data1 --where \"_id=3\""
        ),
        expect![[r#"
            Row: 0 mimetype=a\:b, data1=x:y
        "#]],
    );
}

#[test]
fn update_and_delete() {
    let p = profile_with_contact();
    check(
        &p,
        &format!(
            "content update --user 10 --uri {URI}/data --bind data1:s:+4912345 --where \"mimetype='vnd.android.cursor.item/phone_v2'\""
        ),
        expect![[""]],
    );
    check(
        &p,
        &format!("content query --user 10 --uri {URI}/data --projection data1"),
        expect![[r#"
        Row: 0 data1=Jane Doe
        Row: 1 data1=+4912345
    "#]],
    );
    check(
        &p,
        &format!("content delete --user 10 --uri {URI}/raw_contacts --where \"_id=1\""),
        expect![[""]],
    );
    check(
        &p,
        &format!("content query --user 10 --uri {URI}/data"),
        expect![[r#"
        No result found.
    "#]],
    );
}

#[test]
fn raw_contacts_with_an_account_are_only_marked_deleted() {
    let p = phone(
        14,
        &[&format!(
            "content insert --uri {URI}/raw_contacts --bind account_type:s:com.google --bind account_name:s:a@b.c"
        )],
    );
    check(
        &p,
        &format!(
            "content delete --uri {URI}/raw_contacts --where \"_id=1\" && content query --uri {URI}/raw_contacts --projection _id:deleted"
        ),
        expect![[r#"
        Row: 0 _id=1, deleted=1
    "#]],
    );
    check(
        &p,
        &format!(
            "content delete --uri '{URI}/raw_contacts?caller_is_syncadapter=true' && content query --uri {URI}/raw_contacts"
        ),
        expect![[r#"
        No result found.
    "#]],
    );
}

#[test]
fn provider_errors() {
    let p = profile_with_contact();
    check(
        &p,
        &format!("content query --user 10 --uri {URI}/raw_contacts --projection nope"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.IllegalArgumentException: Invalid column nope
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.query(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$QueryCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        &format!("content insert --user 10 --uri {URI}/contacts --bind display_name:s:x"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.UnsupportedOperationException: Aggregate contacts are created automatically
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.insert(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$InsertCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        &format!("content insert --user 10 --uri {URI}/data --bind data1:s:x"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.IllegalArgumentException: raw_contact_id is required
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.insert(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$InsertCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        &format!("content insert --user 10 --uri {URI}/raw_contacts --bind bogus:s:x"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        android.database.sqlite.SQLiteException: table raw_contacts has no column named bogus (code 1 SQLITE_ERROR)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.insert(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$InsertCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        &format!("content query --user 10 --uri {URI}/groups"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.IllegalArgumentException: Unknown URL content://com.android.contacts/groups
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:172)
        	at android.database.DatabaseUtils.readExceptionFromParcel(DatabaseUtils.java:142)
        	at android.content.ContentProviderProxy.query(ContentProviderNative.java:483)
        	at com.android.commands.content.Content$QueryCommand.onExecute(Content.java:660)
        	at com.android.commands.content.Content$Command.execute(Content.java:522)
        	at com.android.commands.content.Content.main(Content.java:746)
    "#]],
    );
    check(
        &p,
        "content query --user 10 --uri content://settings/secure",
        expect![[r#"
        [stderr]
        Error while accessing provider:settings
        java.lang.IllegalStateException: Could not find provider: settings
        	at com.android.commands.content.Content$Command.execute(Content.java:524)
        	at com.android.commands.content.Content.main(Content.java:746)
        	at com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)
        	at com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)
    "#]],
    );
}

#[test]
fn a_stopped_user_has_no_provider() {
    let p = profile_with_contact();
    check(&p, "am stop-user 10", expect![[""]]);
    check(
        &p,
        &format!("content query --user 10 --uri {URI}/raw_contacts"),
        expect![[r#"
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.IllegalStateException: Could not find provider: com.android.contacts
        	at com.android.commands.content.Content$Command.execute(Content.java:524)
        	at com.android.commands.content.Content.main(Content.java:746)
        	at com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)
        	at com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)
    "#]],
    );
    check(
        &p,
        &format!("content query --user 99 --uri {URI}/raw_contacts; echo exit=$?"),
        expect![[r#"
        exit=0
        [stderr]
        Error while accessing provider:com.android.contacts
        java.lang.IllegalStateException: Could not find provider: com.android.contacts
        	at com.android.commands.content.Content$Command.execute(Content.java:524)
        	at com.android.commands.content.Content.main(Content.java:746)
        	at com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)
        	at com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)
    "#]],
    );
}

#[test]
fn parse_errors_print_usage_and_error() {
    let p = phone(14, &[]);
    let last_line = |cmd: &str| {
        let out = p.run_shell(cmd, &mut std::io::empty());
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            text.starts_with("usage: adb shell content [subcommand] [options]\n"),
            "{text}"
        );
        format!("{} exit={}", text.lines().last().unwrap_or(""), out.exit)
    };
    expect!["[ERROR] Unsupported operation: frob exit=0"].assert_eq(&last_line("content frob"));
    expect!["[ERROR] Content provider URI not specified. Did you specify --uri argument? exit=0"]
        .assert_eq(&last_line("content query"));
    expect!["[ERROR] Bindings not specified. Did you specify --bind argument(s)? exit=0"]
        .assert_eq(&last_line(&format!("content insert --uri {URI}/data")));
    expect!["[ERROR] Binding not well formed: x exit=0"].assert_eq(&last_line(&format!(
        "content insert --uri {URI}/data --bind x"
    )));
    expect!["[ERROR] Unsupported type: q exit=0"].assert_eq(&last_line(&format!(
        "content insert --uri {URI}/data --bind x:q:1"
    )));
    expect![[r#"[ERROR] For input string: "abc" exit=0"#]].assert_eq(&last_line(&format!(
        "content insert --uri {URI}/data --bind x:i:abc"
    )));
    expect![[r#"[ERROR] For input string: "x" exit=0"#]].assert_eq(&last_line(&format!(
        "content query --uri {URI}/data --user x"
    )));
    expect!["[ERROR] Unsupported argument: --foo exit=0"].assert_eq(&last_line(&format!(
        "content query --uri {URI}/data --foo 1"
    )));
    expect!["[ERROR] No value for argument: --uri exit=0"]
        .assert_eq(&last_line("content query --uri --user 0"));
    expect!["[ERROR] Unsupported argument: --bind exit=0"].assert_eq(&last_line(&format!(
        "content delete --uri {URI}/data --bind a:s:b"
    )));
}
