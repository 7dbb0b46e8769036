//! adb_client 3.2.3 through a private Debian adb server (`ADBServer` +
//! `ADBServerDevice`): connect, shell (v2), push with the 64-bit DONE mtime and no QUIT,
//! pull, install.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Cursor;

use adb_client::ADBDeviceExt;
use adb_client::server::ADBServer;
use common::{AdbServer, Sim, random_bytes, sha256};

#[test]
fn server_device_shell_push_pull_install() {
    let sim = Sim::phones(2);
    let adb = AdbServer::start();
    let serial = sim.serial(1);
    // adb_client runs `adb start-server` on every connect: the wrapper points it at
    // this test's server.
    let mut server = ADBServer::new_from_path(adb.addr(), Some(adb.wrapper()));
    server.connect_device(sim.addr_v4(1)).unwrap();
    let devices = server.devices_long().unwrap();
    assert!(format!("{devices:?}").contains("bluejay"), "{devices:?}");
    let mut dev = server.get_device_by_name(&serial).unwrap();

    let mut out = Vec::new();
    let mut err = Vec::new();
    dev.shell_command(&"echo hi", Some(&mut out), Some(&mut err))
        .unwrap();
    assert_eq!(out, b"hi\n");
    // The documented bug: the v2 exit packet arrives but the status is lost.
    let status = dev
        .shell_command(&"exit 7", Some(&mut Vec::new()), None)
        .unwrap();
    assert!(status.is_none() || status == Some(7), "{status:?}");

    let data = random_bytes(3 * 1024 * 1024, 4);
    ADBDeviceExt::push(
        &mut dev,
        &mut Cursor::new(data.clone()),
        &"/sdcard/server.bin",
    )
    .unwrap();
    let on_phone = sim.phone(1).fs().read("/sdcard/server.bin").unwrap();
    assert_eq!(sha256(&on_phone), sha256(&data));
    let mtime = sim.phone(1).fs().stat("/sdcard/server.bin").unwrap().mtime;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - mtime).abs() < 120,
        "the 64-bit DONE mtime was read as {mtime}"
    );

    let mut back = Vec::new();
    let mut dev = server.get_device_by_name(&serial).unwrap();
    ADBDeviceExt::pull(&mut dev, &"/sdcard/server.bin", &mut back).unwrap();
    assert!(back == data, "pulled bytes differ");

    let dir = tempfile::tempdir().unwrap();
    let apk = dir.path().join("server.apk");
    std::fs::write(&apk, common::test_apk("com.example.server", 2)).unwrap();
    let mut dev = server.get_device_by_name(&serial).unwrap();
    ADBDeviceExt::install(&mut dev, &apk, None).unwrap();
    let mut out = Vec::new();
    let mut dev = server.get_device_by_name(&serial).unwrap();
    dev.shell_command(&"pm list packages com.example.server", Some(&mut out), None)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        "package:com.example.server\n"
    );
}
