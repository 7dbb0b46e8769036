//! What differs between Android releases: build properties, user flags, the shell user's
//! groups, package paths and the few outputs whose wording changed.
//!
//! Every version switch in the simulator goes through a method here, so the differences
//! are listed in one place (and in `docs/devsim-phone.md`).

use super::state::flags;
use super::{AndroidVersion, PhoneConfig};

impl AndroidVersion {
    /// `ro.build.version.release`.
    pub fn release(self) -> String {
        self.0.to_string()
    }

    /// `dpm` is `cmd device_policy` (Android 12+) rather than the old app_process tool.
    pub fn dpm_is_cmd(self) -> bool {
        self.0 >= 12
    }

    /// `pm list packages` without `--user` lists every user (Android 15+).
    pub fn list_packages_all_users(self) -> bool {
        self.0 >= 15
    }

    /// Randomised `/data/app/~~…==/pkg-…==/` install directories (Android 11+).
    pub fn randomized_app_dirs(self) -> bool {
        self.0 >= 11
    }

    /// Flags of the system user: `c13` from Android 11 (FULL|SYSTEM), `4c13` once MAIN
    /// exists (Android 14).
    pub fn system_user_flags(self) -> u32 {
        let base = flags::PRIMARY | flags::ADMIN | flags::INITIALIZED;
        match self.0 {
            0..=10 => base,
            11..=13 => base | flags::FULL | flags::SYSTEM,
            _ => base | flags::FULL | flags::SYSTEM | flags::MAIN,
        }
    }

    /// Flags of a profile made by `pm create-user --profileOf N --managed`.
    pub fn managed_profile_flags(self) -> u32 {
        let base = flags::MANAGED_PROFILE | flags::INITIALIZED;
        if self.0 >= 11 {
            base | flags::PROFILE
        } else {
            base
        }
    }

    /// Flags of a secondary user made by `pm create-user NAME`.
    pub fn secondary_user_flags(self) -> u32 {
        if self.0 >= 11 {
            flags::FULL | flags::INITIALIZED
        } else {
            flags::INITIALIZED
        }
    }

    /// `id` as the shell user prints it.
    pub fn shell_id(self) -> String {
        let mut groups = String::from(
            "2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),",
        );
        if self.0 >= 11 {
            groups.push_str("1078(ext_data_rw),1079(ext_obb_rw),");
        }
        groups.push_str("3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid)");
        if self.0 >= 13 {
            groups.push_str(",3012(readtracefs)");
        }
        format!("uid=2000(shell) gid=2000(shell) groups={groups} context=u:r:shell:s0")
    }

    /// The build id (`ro.build.id`) of a plausible release build.
    pub fn build_id(self) -> &'static str {
        match self.0 {
            0..=10 => "QQ3A.200805.001",
            11 => "RQ3A.211001.001",
            12 => "SQ3A.220705.003",
            13 => "TQ3A.230901.001",
            14 => "UQ1A.240205.004",
            15 => "AP4A.250105.002",
            _ => "BP1A.250505.005",
        }
    }

    /// `ro.build.version.security_patch`.
    pub fn security_patch(self) -> &'static str {
        match self.0 {
            0..=10 => "2020-08-05",
            11 => "2021-10-05",
            12 => "2022-07-05",
            13 => "2023-09-05",
            14 => "2024-02-05",
            15 => "2025-01-05",
            _ => "2025-05-05",
        }
    }
}

/// The build properties a phone with this configuration reports. They are derived
/// from the configuration on every start (a build does not change at run time).
pub fn build_props(config: &PhoneConfig) -> Vec<(String, String)> {
    let v = config.android;
    let fingerprint = format!(
        "{}/{}/{}:{}/{}/{}:user/release-keys",
        config.manufacturer.to_lowercase(),
        config.product,
        config.device,
        v.release(),
        v.build_id(),
        serial_digits(&config.serial)
    );
    let abilist = match config.abi.as_str() {
        "arm64-v8a" => "arm64-v8a,armeabi-v7a,armeabi".to_string(),
        "x86_64" => "x86_64,x86".to_string(),
        other => other.to_string(),
    };
    let props = [
        ("ro.build.version.release", v.release()),
        ("ro.build.version.release_or_codename", v.release()),
        ("ro.build.version.sdk", v.sdk().to_string()),
        (
            "ro.build.version.security_patch",
            v.security_patch().to_string(),
        ),
        ("ro.build.id", v.build_id().to_string()),
        ("ro.build.display.id", v.build_id().to_string()),
        ("ro.build.type", "user".to_string()),
        ("ro.build.tags", "release-keys".to_string()),
        ("ro.build.fingerprint", fingerprint),
        ("ro.product.model", config.model.clone()),
        ("ro.product.manufacturer", config.manufacturer.clone()),
        ("ro.product.brand", config.manufacturer.to_lowercase()),
        ("ro.product.name", config.product.clone()),
        ("ro.product.device", config.device.clone()),
        ("ro.product.cpu.abi", config.abi.clone()),
        ("ro.product.cpu.abilist", abilist),
        ("ro.serialno", serial_digits(&config.serial)),
        ("ro.boot.serialno", serial_digits(&config.serial)),
        ("ro.debuggable", "0".to_string()),
        ("ro.secure", "1".to_string()),
        (
            "ro.adb.secure",
            if config.auth_required { "1" } else { "0" }.to_string(),
        ),
        ("ro.crypto.state", "encrypted".to_string()),
        ("sys.boot_completed", "1".to_string()),
        ("dev.bootcomplete", "1".to_string()),
        ("service.adb.tcp.port", "5555".to_string()),
        ("persist.sys.timezone", "Etc/UTC".to_string()),
        ("fw.max_users", config.max_users.to_string()),
    ];
    props.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A hardware-looking serial derived from the ADB serial (`127.0.0.1:PORT`).
fn serial_digits(serial: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in serial.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:X}", hash & 0xFFFF_FFFF_FFFF)
}

/// A stable pseudo-random token for paths (`~~<token>==`), from a seed string.
pub fn path_token(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut hash: u64 = 0x1234_5678_9abc_def1;
    let mut out = String::new();
    for i in 0..22u64 {
        for b in seed.bytes() {
            hash ^= u64::from(b).wrapping_add(i);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        out.push(char::from(ALPHABET[(hash >> 58) as usize & 63]));
    }
    out
}

/// `sourceDir` of an app installed into `/data/app`.
pub fn data_app_path(version: AndroidVersion, package: &str, salt: &str) -> String {
    if version.randomized_app_dirs() {
        format!(
            "/data/app/~~{}==/{package}-{}==/base.apk",
            path_token(&format!("{package}{salt}a")),
            path_token(&format!("{package}{salt}b"))
        )
    } else {
        format!(
            "/data/app/{package}-{}==/base.apk",
            path_token(&format!("{package}{salt}"))
        )
    }
}
