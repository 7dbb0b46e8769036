//! Which permissions exist on the simulated phone: runtime (dangerous) ones that
//! `pm grant`/`revoke` change, by API level, and the install-time (normal) ones it
//! refuses as "not a changeable permission type".

use std::collections::BTreeSet;

/// Granted permissions start empty; this set is what runtime (dangerous) permissions
/// look like to `pm grant`.
pub fn runtime_permissions(sdk: u32) -> BTreeSet<&'static str> {
    let mut set: BTreeSet<&'static str> = [
        "android.permission.READ_CONTACTS",
        "android.permission.WRITE_CONTACTS",
        "android.permission.GET_ACCOUNTS",
        "android.permission.CAMERA",
        "android.permission.RECORD_AUDIO",
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.ACCESS_COARSE_LOCATION",
        "android.permission.READ_PHONE_STATE",
        "android.permission.CALL_PHONE",
        "android.permission.READ_CALL_LOG",
        "android.permission.WRITE_CALL_LOG",
        "android.permission.READ_SMS",
        "android.permission.SEND_SMS",
        "android.permission.RECEIVE_SMS",
        "android.permission.READ_CALENDAR",
        "android.permission.WRITE_CALENDAR",
        "android.permission.READ_EXTERNAL_STORAGE",
        "android.permission.WRITE_EXTERNAL_STORAGE",
        "android.permission.BODY_SENSORS",
    ]
    .into_iter()
    .collect();
    if sdk >= 31 {
        set.extend([
            "android.permission.BLUETOOTH_CONNECT",
            "android.permission.BLUETOOTH_SCAN",
        ]);
    }
    if sdk >= 33 {
        set.extend([
            "android.permission.POST_NOTIFICATIONS",
            "android.permission.READ_MEDIA_IMAGES",
            "android.permission.READ_MEDIA_VIDEO",
            "android.permission.READ_MEDIA_AUDIO",
            "android.permission.NEARBY_WIFI_DEVICES",
        ]);
    }
    set
}

/// Install-time (normal) permissions the simulator knows, so `pm grant` can tell
/// "not a changeable permission type" from "unknown permission".
pub fn normal_permissions() -> &'static [&'static str] {
    &[
        "android.permission.INTERNET",
        "android.permission.ACCESS_NETWORK_STATE",
        "android.permission.ACCESS_WIFI_STATE",
        "android.permission.VIBRATE",
        "android.permission.WAKE_LOCK",
        "android.permission.RECEIVE_BOOT_COMPLETED",
        "android.permission.FOREGROUND_SERVICE",
        "android.permission.BIND_DEVICE_ADMIN",
    ]
}
