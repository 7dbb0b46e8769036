//! adb_client 3.2.3 speaking the transport protocol directly over TCP (no adb server):
//! RSA AUTH with a key Debian adb generated, shell, push, stat, list, pull, install,
//! uninstall, reboot — with the documented adb_client quirks tolerated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Cursor;
use std::path::Path;

use adb_client::tcp::ADBTcpDevice;
use adb_client::{ADBDeviceExt, RebootType};
use common::{Sim, adb_keygen, free_port, random_bytes, sha256};
use corral_devsim::simulator::SimulatorConfig;

fn auth_config(state_dir: &Path, port: u16, auto_accept: bool) -> SimulatorConfig {
    SimulatorConfig {
        phones: 1,
        base_port: port,
        auth_required: true,
        auto_accept,
        state_dir: Some(state_dir.to_path_buf()),
        ..SimulatorConfig::default()
    }
}

fn shell(dev: &mut ADBTcpDevice, command: &str) -> String {
    let mut out = Vec::new();
    let status = dev.shell_command(&command, Some(&mut out), None).unwrap();
    assert_eq!(
        status, None,
        "adb_client's direct path never reports an exit status"
    );
    String::from_utf8(out).unwrap()
}

#[test]
fn auth_accepts_a_new_key_then_verifies_its_signature_after_a_restart() {
    let state = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = adb_keygen(keys.path());
    let port = free_port();

    let sim = Sim::start(auth_config(state.path(), port, true));
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    assert_eq!(shell(&mut dev, "echo accepted"), "accepted\n");
    drop(dev);
    drop(sim);

    // Same phone (same port and state), now refusing unknown keys: only a verified
    // signature of the remembered key gets in.
    let sim = Sim::start(auth_config(state.path(), port, false));
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    assert_eq!(shell(&mut dev, "echo verified"), "verified\n");
}

#[test]
fn shell_push_stat_list_pull_install_without_auth() {
    let sim = Sim::phones(1);
    let keys = tempfile::tempdir().unwrap();
    let key = adb_keygen(keys.path());
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();

    assert_eq!(shell(&mut dev, "echo hello"), "hello\n");
    // stdout and stderr arrive merged; the exit status is lost on this path.
    assert_eq!(shell(&mut dev, "exit 3"), "");

    let data = random_bytes(3 * 1024 * 1024 + 17, 3);
    dev.push(&mut Cursor::new(data.clone()), &"/data/local/tmp/c.bin")
        .unwrap();
    let on_phone = sim.phone(0).fs().read("/data/local/tmp/c.bin").unwrap();
    assert_eq!(sha256(&on_phone), sha256(&data));
    let st = sim.phone(0).fs().stat("/data/local/tmp/c.bin").unwrap();
    assert_eq!(st.mtime, 0, "adb_client sends mtime 0; adbd applies it");
    assert_eq!(st.mode & 0o777, 0o777);

    let stat = dev.stat(&"/data/local/tmp/c.bin").unwrap();
    assert_eq!(stat.file_size as usize, data.len());
    let listing = format!("{:?}", dev.list(&"/data/local/tmp").unwrap());
    assert!(listing.contains("c.bin"), "{listing}");

    let mut back = Vec::new();
    dev.pull(&"/data/local/tmp/c.bin", &mut back).unwrap();
    assert!(back == data, "pulled bytes differ");
    let missing = dev.pull(&"/data/local/tmp/none", &mut Vec::new());
    assert!(missing.is_err());

    // A fresh device object after the failed pull, as an application would do.
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let apk = dir.path().join("tcp.apk");
    std::fs::write(&apk, common::test_apk("com.example.tcp", 1)).unwrap();
    dev.install(&apk, None).unwrap();
    assert_eq!(
        shell(&mut dev, "pm list packages com.example.tcp"),
        "package:com.example.tcp\n"
    );

    dev.uninstall(&"com.example.tcp", None).unwrap();
    // adb_client leaves the uninstall's CLSE unread: use a new device object.
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    assert_eq!(shell(&mut dev, "pm list packages com.example.tcp"), "");
}

#[test]
fn reboot_is_acknowledged_and_the_phone_comes_back() {
    let sim = Sim::phones(1);
    let keys = tempfile::tempdir().unwrap();
    let key = adb_keygen(keys.path());
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    dev.reboot(RebootType::System).unwrap();
    drop(dev);
    let mut dev = ADBTcpDevice::new_with_custom_private_key(sim.addr(0), &key).unwrap();
    assert_eq!(shell(&mut dev, "echo up"), "up\n");
}
