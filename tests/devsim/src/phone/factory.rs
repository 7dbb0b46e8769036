//! A phone fresh from the factory (and from setup): the preinstalled packages, user 0,
//! its Google account, default settings; and what a newly created user starts with.
//!
//! Pure functions from the configuration to [`State`]; nothing here touches the disk.

use std::collections::BTreeMap;

use super::PhoneConfig;
use super::android::data_app_path;
use super::contacts::ContactsDb;
use super::state::{
    Account, Package, PackageUser, SCHEMA, State, USER_TYPE_SYSTEM, User, UserData,
};

/// One preinstalled system package: name, sourceDir, app id.
struct SystemApp {
    name: &'static str,
    path: &'static str,
    app_id: u32,
    permissions: &'static [&'static str],
}

const CONTACTS_PERMS: &[&str] = &[
    "android.permission.READ_CONTACTS",
    "android.permission.WRITE_CONTACTS",
    "android.permission.GET_ACCOUNTS",
];

/// The system image: framework, providers, contacts, dialer, settings, GMS, Play, Chrome.
const SYSTEM_APPS: &[SystemApp] = &[
    SystemApp {
        name: "android",
        path: "/system/framework/framework-res.apk",
        app_id: 1000,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.settings",
        path: "/system_ext/priv-app/SettingsGoogle/SettingsGoogle.apk",
        app_id: 1000,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.providers.settings",
        path: "/system/priv-app/SettingsProvider/SettingsProvider.apk",
        app_id: 1000,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.providers.contacts",
        path: "/system/priv-app/ContactsProvider/ContactsProvider.apk",
        app_id: 10015,
        permissions: CONTACTS_PERMS,
    },
    SystemApp {
        name: "com.android.providers.telephony",
        path: "/system/priv-app/TelephonyProvider/TelephonyProvider.apk",
        app_id: 1001,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.providers.calendar",
        path: "/system/priv-app/CalendarProvider/CalendarProvider.apk",
        app_id: 10016,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.providers.downloads",
        path: "/system/priv-app/DownloadProvider/DownloadProvider.apk",
        app_id: 10017,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.providers.media.module",
        path: "/apex/com.android.mediaprovider/priv-app/MediaProviderGoogle/MediaProviderGoogle.apk",
        app_id: 10018,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.phone",
        path: "/system/priv-app/TeleService/TeleService.apk",
        app_id: 1001,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.shell",
        path: "/system/priv-app/Shell/Shell.apk",
        app_id: 2000,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.systemui",
        path: "/system_ext/priv-app/SystemUIGoogle/SystemUIGoogle.apk",
        app_id: 10100,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.managedprovisioning",
        path: "/system/priv-app/ManagedProvisioning/ManagedProvisioning.apk",
        app_id: 10019,
        permissions: &[],
    },
    SystemApp {
        name: "com.google.android.packageinstaller",
        path: "/system/priv-app/GooglePackageInstaller/GooglePackageInstaller.apk",
        app_id: 10020,
        permissions: &[],
    },
    SystemApp {
        name: "com.google.android.permissioncontroller",
        path: "/apex/com.android.permission/priv-app/GooglePermissionController/GooglePermissionController.apk",
        app_id: 10021,
        permissions: &[],
    },
    SystemApp {
        name: "com.google.android.apps.nexuslauncher",
        path: "/system_ext/priv-app/NexusLauncherRelease/NexusLauncherRelease.apk",
        app_id: 10101,
        permissions: &[],
    },
    SystemApp {
        name: "com.google.android.contacts",
        path: "/product/app/GoogleContacts/GoogleContacts.apk",
        app_id: 10102,
        permissions: CONTACTS_PERMS,
    },
    SystemApp {
        name: "com.google.android.dialer",
        path: "/product/priv-app/GoogleDialer/GoogleDialer.apk",
        app_id: 10103,
        permissions: &[
            "android.permission.READ_CONTACTS",
            "android.permission.CALL_PHONE",
            "android.permission.READ_CALL_LOG",
        ],
    },
    SystemApp {
        name: "com.google.android.apps.messaging",
        path: "/product/app/PrebuiltBugle/PrebuiltBugle.apk",
        app_id: 10104,
        permissions: &[
            "android.permission.READ_CONTACTS",
            "android.permission.READ_SMS",
            "android.permission.SEND_SMS",
        ],
    },
    SystemApp {
        name: "com.google.android.gms",
        path: "/product/priv-app/PrebuiltGmsCore/PrebuiltGmsCore.apk",
        app_id: 10110,
        permissions: CONTACTS_PERMS,
    },
    SystemApp {
        name: "com.google.android.gsf",
        path: "/product/priv-app/GoogleServicesFramework/GoogleServicesFramework.apk",
        app_id: 10110,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.vending",
        path: "/product/priv-app/Phonesky/Phonesky.apk",
        app_id: 10111,
        permissions: &[],
    },
    SystemApp {
        name: "com.android.chrome",
        path: "/product/app/Chrome/Chrome.apk",
        app_id: 10112,
        permissions: &[
            "android.permission.CAMERA",
            "android.permission.RECORD_AUDIO",
        ],
    },
    SystemApp {
        name: "com.google.android.webview",
        path: "/product/app/WebViewGoogle/WebViewGoogle.apk",
        app_id: 10113,
        permissions: &[],
    },
    SystemApp {
        name: "com.google.android.gm",
        path: "/product/app/PrebuiltGmailGoogle/PrebuiltGmailGoogle.apk",
        app_id: 10114,
        permissions: CONTACTS_PERMS,
    },
    SystemApp {
        name: "com.google.android.youtube",
        path: "/product/app/YouTube/YouTube.apk",
        app_id: 10115,
        permissions: &[],
    },
];

/// Permissions a messenger requests (WhatsApp's runtime ones and a few normal ones).
pub const MESSENGER_PERMISSIONS: &[&str] = &[
    "android.permission.INTERNET",
    "android.permission.ACCESS_NETWORK_STATE",
    "android.permission.READ_CONTACTS",
    "android.permission.WRITE_CONTACTS",
    "android.permission.GET_ACCOUNTS",
    "android.permission.CAMERA",
    "android.permission.RECORD_AUDIO",
    "android.permission.READ_PHONE_STATE",
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.POST_NOTIFICATIONS",
];

/// First app id handed to newly installed apps.
pub const FIRST_DYNAMIC_APP_ID: u32 = 10200;

/// The state of a new phone built from `config`.
pub fn fresh_state(config: &PhoneConfig) -> State {
    let mut packages = BTreeMap::new();
    for app in SYSTEM_APPS {
        packages.insert(
            app.name.to_string(),
            Package {
                name: app.name.to_string(),
                version_code: i64::from(config.android.sdk()) * 1_000_000 + 1,
                version_name: config.android.release(),
                system: true,
                code_path: app.path.to_string(),
                app_id: app.app_id,
                requested_permissions: app.permissions.iter().map(|p| p.to_string()).collect(),
                admin_receivers: Vec::new(),
                test_only: false,
                size: 50_000_000,
                installer: None,
                users: BTreeMap::from([(0, PackageUser::fresh())]),
            },
        );
    }
    let mut next_app_id = FIRST_DYNAMIC_APP_ID;
    for name in &config.preinstalled_messengers {
        packages.insert(
            name.clone(),
            Package {
                name: name.clone(),
                version_code: 241_523_001,
                version_name: "2.24.15.23".into(),
                system: false,
                code_path: data_app_path(config.android, name, &config.serial),
                app_id: next_app_id,
                requested_permissions: MESSENGER_PERMISSIONS
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
                admin_receivers: Vec::new(),
                test_only: false,
                size: 60_000_000,
                installer: Some("com.android.vending".into()),
                users: BTreeMap::from([(0, PackageUser::fresh())]),
            },
        );
        next_app_id += 1;
    }

    let mut owner = new_user_data(false);
    owner.backup_activated = true;
    owner
        .secure
        .insert("user_setup_complete".into(), "1".into());
    owner.secure.insert("backup_enabled".into(), "1".into());
    owner
        .secure
        .insert("android_id".into(), android_id(&config.serial, 0));
    if let Some(account) = &config.google_account {
        owner.accounts.push(Account {
            name: account.clone(),
            account_type: "com.google".into(),
        });
    }

    State {
        schema: SCHEMA,
        props: BTreeMap::new(),
        users: BTreeMap::from([(
            0,
            User {
                id: 0,
                name: "Owner".into(),
                flags: config.android.system_user_flags(),
                running: true,
                parent: None,
                user_type: USER_TYPE_SYSTEM.into(),
            },
        )]),
        next_user_id: 10,
        packages,
        next_app_id,
        global_settings: default_global(),
        user_data: BTreeMap::from([(0, owner)]),
        device_owner: None,
        profile_owners: BTreeMap::new(),
        active_admins: BTreeMap::new(),
        authorized_keys: Vec::new(),
        free_storage_bytes: config.free_storage_bytes,
        boot_count: 1,
        next_session: 1_038_473_615,
    }
}

/// Settings, backup and contacts of a newly created user. A managed profile gets the
/// secure settings `UserTypeFactory` gives the managed-profile type.
pub fn new_user_data(managed_profile: bool) -> UserData {
    let mut data = UserData {
        system: BTreeMap::from([
            ("screen_brightness".to_string(), "102".to_string()),
            ("screen_off_timeout".to_string(), "60000".to_string()),
            ("volume_ring".to_string(), "5".to_string()),
        ]),
        secure: BTreeMap::from([
            ("install_non_market_apps".to_string(), "1".to_string()),
            ("location_mode".to_string(), "3".to_string()),
        ]),
        backup_activated: false,
        accounts: Vec::new(),
        contacts: ContactsDb::default(),
        restrictions: BTreeMap::new(),
    };
    if managed_profile {
        data.secure
            .insert("managed_profile_contact_remote_search".into(), "1".into());
        data.secure
            .insert("cross_profile_calendar_enabled".into(), "1".into());
    }
    data
}

/// Device-wide settings of a developer-enabled phone.
fn default_global() -> BTreeMap<String, String> {
    [
        ("adb_enabled", "1"),
        ("development_settings_enabled", "1"),
        ("device_provisioned", "1"),
        ("package_verifier_enable", "1"),
        ("verifier_verify_adb_installs", "1"),
        ("stay_on_while_plugged_in", "0"),
        ("airplane_mode_on", "0"),
        ("auto_time", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A 16-hex-digit `android_id` that differs per phone and user.
pub fn android_id(serial: &str, user: u32) -> String {
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(user);
    for b in serial.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Installs every system package for a newly created user (their per-user state).
pub fn install_system_packages(state: &mut State, user: u32) {
    for pkg in state.packages.values_mut() {
        if pkg.system {
            pkg.users.insert(user, PackageUser::fresh());
        }
    }
}
