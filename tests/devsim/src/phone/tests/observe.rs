//! What the agent's observer runs besides `pm`/`settings`/`content`: `dumpsys package`,
//! `dumpsys account --checkin`, `pm query-activities`, and `printf`.

use expect_test::expect;

use super::{check, phone};

#[test]
fn dumpsys_package_shows_every_user() {
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Shop",
            "pm install-existing --user 10 com.whatsapp.w4b",
            "pm grant --user 10 com.whatsapp.w4b android.permission.READ_CONTACTS",
            "pm hide --user 0 com.whatsapp.w4b",
        ],
    );
    check(
        &p,
        "dumpsys package com.whatsapp.w4b",
        expect![[r#"
            Packages:
              Package [com.whatsapp.w4b] (f626f3b):
                appId=10201
                pkg=Package{17f0631 com.whatsapp.w4b}
                codePath=/data/app/~~KEcFVtsL8zznnEL_UHaVlB==/com.whatsapp.w4b-KrOuCGmDnSWyWYxZSEHkcO==
                versionCode=241523001 minSdk=21 targetSdk=34
                versionName=2.24.15.23
                flags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]
                pkgFlags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]
                requested permissions:
                  android.permission.INTERNET
                  android.permission.ACCESS_NETWORK_STATE
                  android.permission.READ_CONTACTS
                  android.permission.WRITE_CONTACTS
                  android.permission.GET_ACCOUNTS
                  android.permission.CAMERA
                  android.permission.RECORD_AUDIO
                  android.permission.READ_PHONE_STATE
                  android.permission.ACCESS_FINE_LOCATION
                  android.permission.POST_NOTIFICATIONS
                install permissions:
                  android.permission.INTERNET: granted=true
                  android.permission.ACCESS_NETWORK_STATE: granted=true
                User 0: ceDataInode=10301 installed=true hidden=true suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false quarantined=false
                  installReason=0
                  dataDir=/data/user/0/com.whatsapp.w4b
                  runtime permissions:
                    android.permission.READ_CONTACTS: granted=false, flags=[ ]
                    android.permission.WRITE_CONTACTS: granted=false, flags=[ ]
                    android.permission.GET_ACCOUNTS: granted=false, flags=[ ]
                    android.permission.CAMERA: granted=false, flags=[ ]
                    android.permission.RECORD_AUDIO: granted=false, flags=[ ]
                    android.permission.READ_PHONE_STATE: granted=false, flags=[ ]
                    android.permission.ACCESS_FINE_LOCATION: granted=false, flags=[ ]
                    android.permission.POST_NOTIFICATIONS: granted=false, flags=[ ]
                User 10: ceDataInode=10301 installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false quarantined=false
                  installReason=0
                  dataDir=/data/user/10/com.whatsapp.w4b
                  runtime permissions:
                    android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET ]
                    android.permission.WRITE_CONTACTS: granted=false, flags=[ ]
                    android.permission.GET_ACCOUNTS: granted=false, flags=[ ]
                    android.permission.CAMERA: granted=false, flags=[ ]
                    android.permission.RECORD_AUDIO: granted=false, flags=[ ]
                    android.permission.READ_PHONE_STATE: granted=false, flags=[ ]
                    android.permission.ACCESS_FINE_LOCATION: granted=false, flags=[ ]
                    android.permission.POST_NOTIFICATIONS: granted=false, flags=[ ]

        "#]],
    );
    check(
        &p,
        "dumpsys package com.android.settings | grep -E 'pkgFlags|User'; dumpsys package com.nope; dumpsys nosuch",
        expect![[r#"
                pkgFlags=[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]
                User 0: ceDataInode=1100 installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false quarantined=false
                User 10: ceDataInode=1100 installed=true hidden=false suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false quarantined=false
            Unable to find package: com.nope
            [stderr]
            Can't find service: nosuch
        "#]],
    );
    check(
        &phone(11, &[]),
        "dumpsys package com.nope | wc -c",
        expect![[r#"
        0
    "#]],
    );
}

#[test]
fn dumpsys_account_checkin_counts_types() {
    let p = phone(14, &["pm create-user --profileOf 0 --managed Shop"]);
    check(
        &p,
        "dumpsys account --checkin",
        expect![[r#"
        User UserInfo{0:Owner:4c13}:
          com.google,1

        User UserInfo{10:Shop:1030}:

    "#]],
    );
    check(
        &p,
        "dumpsys account",
        expect![[r#"
        User UserInfo{0:Owner:4c13}:
          Accounts: 1
            Account {name=corral.test.owner@gmail.com, type=com.google}

        User UserInfo{10:Shop:1030}:
          Accounts: 0

    "#]],
    );
}

#[test]
fn query_activities_lists_what_a_person_can_open() {
    let p = phone(
        14,
        &[
            "pm create-user --profileOf 0 --managed Shop",
            "pm install-existing --user 10 com.whatsapp.w4b",
            "pm hide --user 10 com.android.chrome",
            "pm disable-user --user 10 com.google.android.youtube",
        ],
    );
    let q = "-a android.intent.action.MAIN -c android.intent.category.LAUNCHER";
    check(
        &p,
        &format!("pm query-activities --components --user 10 {q}"),
        expect![[r#"
            com.android.settings/.Settings
            com.android.vending/.AssetBrowserActivity
            com.google.android.apps.messaging/.ui.ConversationListActivity
            com.google.android.contacts/com.android.contacts.activities.PeopleActivity
            com.google.android.dialer/.extensions.GoogleDialtactsActivity
            com.google.android.gm/.ConversationListActivityGmail
            com.whatsapp.w4b/com.whatsapp.Main
        "#]],
    );
    check(
        &p,
        &format!(
            "pm query-activities --components --user 10 -a android.intent.action.VIEW; pm query-activities --user 0 {q} | head -8"
        ),
        expect![[r#"
            No activities found
            10 activities found:
              Activity #0:
                priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false
                ActivityInfo:
                  name=com.google.android.apps.chrome.Main
                  packageName=com.android.chrome
                  enabled=true exported=true directBootAware=false
              Activity #1:
        "#]],
    );
}

#[test]
fn printf_formats_like_toybox() {
    let p = phone(14, &[]);
    check(
        &p,
        "printf '%s-%d|%5s|%-3s|%03d|%x|%o|%c|%%\\n' a 42 right l 7 255 8 xyz; printf '%s\\n' one two three",
        expect![[r#"
            a-42|right|l  |007|ff|10|x|%
            one
            two
            three
        "#]],
    );
    check(
        &p,
        "printf 'a\\tb\\101\\x42\\n'; printf '%b|%.2s|%5.1f\\n' 'x\\ny' abc 3.14159; printf two; echo; printf '%d\\n' abc; echo $?; printf",
        expect![[r#"
            a	bAB
            x
            y|ab|  3.1
            two
            0
            1
            [stderr]
            printf: bad %d abc
            printf: Needs 1 argument (see "printf --help")
            [exit 1]
        "#]],
    );
}
