//! `dumpsys package` samples, written after `Settings.dumpPackageLPr` (AOSP Android 11 and
//! 14); a device capture should be added when one is available.

use expect_test::{Expect, expect};

use super::*;

#[track_caller]
fn check(package: &str, text: &str, expected: Expect) {
    let got = match parse_package_dump(package, text) {
        Ok(None) => "unknown".to_owned(),
        Ok(Some(d)) => {
            let mut s = format!("system={}", d.system);
            for (u, st) in &d.users {
                s.push_str(&format!(
                    "\nuser {u}: installed={} hidden={} suspended={} enabled={} granted={:?}",
                    st.installed, st.hidden, st.suspended, st.enabled, st.granted
                ));
            }
            s
        }
        Err(e) => format!("error: {e}"),
    };
    expected.assert_eq(&got);
}

pub(crate) const ANDROID_14: &str = "\
Activity Resolver Table:
  Non-Data Actions:
      android.intent.action.MAIN:
        7c9a8f1 com.whatsapp.w4b/com.whatsapp.Main filter 2b1c3d4
          Action: \"android.intent.action.MAIN\"
          Category: \"android.intent.category.LAUNCHER\"

Key Set Manager:
  [com.whatsapp.w4b]
      Signing KeySets: 61

Packages:
  Package [com.whatsapp.w4b] (e3f1a2b):
    appId=10245
    pkg=Package{8c7d6e5 com.whatsapp.w4b}
    codePath=/data/app/~~Qx3Lw0_nTq1xH9w2Jm5pRg==/com.whatsapp.w4b-5HqkZt1_w9oPfK3Xl2nVbA==
    versionCode=232580003 minSdk=21 targetSdk=33
    versionName=2.23.25.80
    flags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ]
    privateFlags=[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION ]
    timeStamp=2024-03-02 10:11:12
    pkgFlags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ]
    requested permissions:
      android.permission.READ_CONTACTS
      android.permission.POST_NOTIFICATIONS
    install permissions:
      android.permission.INTERNET: granted=true
    User 0: ceDataInode=139413 installed=true hidden=true suspended=false distractionFlags=0 stopped=false notLaunched=false enabled=0 instant=false virtual=false quarantined=false
      installReason=0
      dataDir=/data/user/0/com.whatsapp.w4b
      firstInstallTime=2024-03-02 10:11:12
      uninstallReason=0
      gids=[3003]
      runtime permissions:
        android.permission.READ_CONTACTS: granted=false, flags=[ USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED]
    User 10: ceDataInode=0 installed=true hidden=false suspended=true distractionFlags=0 stopped=true notLaunched=true enabled=3 instant=false virtual=false quarantined=false
      installReason=0
      runtime permissions:
        android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET|USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED]
        android.permission.POST_NOTIFICATIONS: granted=true, flags=[ USER_SET ]
      enabledComponents:
        com.whatsapp.Main

Queries:
  system apps queryable: false
";

const ANDROID_11_SYSTEM: &str = "\
Packages:
  Package [com.android.camera2] (1a2b3c4):
    userId=10123
    pkg=Package{5d6e7f8 com.android.camera2}
    pkgFlags=[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]
    User 0: ceDataInode=5 installed=true hidden=false suspended=false stopped=false notLaunched=false enabled=0 instant=false virtual=false
      gids=[3003]
    User 10: ceDataInode=0 installed=false hidden=false suspended=false stopped=true notLaunched=true enabled=0 instant=false virtual=false

Dexopt state:
  [com.android.camera2]
";

#[test]
fn android_14_user_states_and_grants() {
    check(
        "com.whatsapp.w4b",
        ANDROID_14,
        expect![[r#"
            system=false
            user 0: installed=true hidden=true suspended=false enabled=0 granted={}
            user 10: installed=true hidden=false suspended=true enabled=3 granted={"android.permission.POST_NOTIFICATIONS", "android.permission.READ_CONTACTS"}"#]],
    );
}

#[test]
fn android_11_system_package() {
    check(
        "com.android.camera2",
        ANDROID_11_SYSTEM,
        expect![[r#"
            system=true
            user 0: installed=true hidden=false suspended=false enabled=0 granted={}
            user 10: installed=false hidden=false suspended=false enabled=0 granted={}"#]],
    );
}

#[test]
fn unknown_packages() {
    check(
        "com.nope",
        "Unable to find package: com.nope\n",
        expect!["unknown"],
    );
    check("com.nope", "", expect!["unknown"]);
    check(
        "com.nope",
        "Dexopt state:\n\nCompiler stats:\n",
        expect!["unknown"],
    );
    // A dump of another package (a prefix match) is not this one.
    check("com.whatsapp", ANDROID_14, expect!["unknown"]);
}

#[test]
fn broken_dumps_are_errors() {
    check(
        "com.x",
        "Can't find service: package\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 1): dumpsys failed: "Can't find service: package""#
        ]],
    );
    check(
        "com.x",
        "/system/bin/sh: dumpsys: inaccessible or not found\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 0): no `Packages:` section: "/system/bin/sh: dumpsys: inaccessible or not found\n""#
        ]],
    );
    check(
        "com.x",
        "Packages:\n  Package [com.x] (1):\n    User 0: installed=true hidden=false enabled=0\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 3): no `suspended=`: "    User 0: installed=true hidden=false enabled=0""#
        ]],
    );
    check(
        "com.x",
        "Packages:\n  Package [com.x] (1):\n    pkgFlags=[ ]\n    User 0: installed=yes hidden=false suspended=false enabled=0\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 4): `installed=` is not true or false: "    User 0: installed=yes hidden=false suspended=false enabled=0""#
        ]],
    );
    check(
        "com.x",
        "Packages:\n  Package [com.x] (1):\n    User 0: installed=true hidden=false suspended=false enabled=0\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 0): the package block has no `pkgFlags=[…]`: "Packages:\n  Package [com.x] (1):\n    User 0: installed=true hidden=false suspended=false enabled=0\n""#
        ]],
    );
    check(
        "com.x",
        "Packages:\n  Package [com.x] (1):\n    pkgFlags=[ ]\n    User 0: installed=true hidden=false suspended=false enabled=0\n      runtime permissions:\n        android.permission.CAMERA granted\n",
        expect![[
            r#"error: unexpected output of `dumpsys package com.x` (line 6): expected `<permission>: granted=…`: "        android.permission.CAMERA granted""#
        ]],
    );
}
