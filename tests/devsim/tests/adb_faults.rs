//! Fault injection seen through Debian's `adb`: a command made to fail prints the injected
//! error and exit status once, a dropped connection or a reboot ends the session mid-way,
//! and in every case the phone answers again after `adb connect`.
//!
//! adb 29 itself exits 0 with no output when the transport vanishes under `adb shell`
//! (no exit packet ever arrives), so these tests check what did and did not run on the
//! phone rather than adb's exit status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{AdbServer, Sim};
use corral_devsim::faults::{FaultAction, FaultRule};

fn reconnect(adb: &AdbServer, serial: &str) {
    let _ = adb.adb(&["disconnect", serial]);
    let out = adb.adb_ok(&["connect", serial]);
    assert!(out.contains("connected to"), "{out}");
    adb.wait_for_state(serial, "device");
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_injected_failure_prints_its_error_once() {
    let sim = Sim::phones(1);
    let adb = AdbServer::start();
    let serial = sim.serial(0);
    adb.connect(&serial);
    sim.phone(0).faults().add_rule(FaultRule {
        pattern: "pm install-existing".into(),
        action: FaultAction::Fail {
            stderr: "Error: injected by the test\n".into(),
            exit: 4,
        },
        times: Some(1),
    });

    let first = adb.shell(&serial, "pm install-existing --user 0 com.whatsapp");
    assert_eq!(first.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&first.stderr),
        "Error: injected by the test\n"
    );

    let second = adb.shell(&serial, "pm install-existing --user 0 com.whatsapp");
    assert_eq!(second.status.code(), Some(0), "{second:?}");
    assert_eq!(
        stdout(&second),
        "Package com.whatsapp installed for user: 0\n"
    );
}

#[test]
fn a_dropped_connection_stops_the_script_at_the_matching_command() {
    let sim = Sim::phones(1);
    let adb = AdbServer::start();
    let serial = sim.serial(0);
    adb.connect(&serial);
    sim.phone(0).faults().add_rule(FaultRule {
        pattern: "pm create-user".into(),
        action: FaultAction::DropConnection,
        times: Some(1),
    });

    let out = adb.shell(
        &serial,
        "mkdir -p /data/local/tmp/before; pm create-user --profileOf 0 --managed Work",
    );
    assert_eq!(stdout(&out), "", "the faulted command printed nothing");

    reconnect(&adb, &serial);
    // What ran before the fault stays done; the faulted command never ran.
    let ls = adb.shell(&serial, "ls -d /data/local/tmp/before");
    assert_eq!(stdout(&ls), "/data/local/tmp/before\n");
    let users = stdout(&adb.shell(&serial, "pm list users"));
    assert!(!users.contains("UserInfo{10:"), "{users}");
}

#[test]
fn a_reboot_fault_stops_profiles_and_drops_the_session() {
    let sim = Sim::phones(1);
    let adb = AdbServer::start();
    let serial = sim.serial(0);
    adb.connect(&serial);
    let created = stdout(&adb.shell(&serial, "pm create-user --profileOf 0 --managed Work"));
    assert_eq!(created, "Success: created user id 10\n");
    assert_eq!(
        stdout(&adb.shell(&serial, "am start-user -w 10")),
        "Success: user started\n"
    );
    sim.phone(0).faults().add_rule(FaultRule {
        pattern: "settings put".into(),
        action: FaultAction::Reboot,
        times: Some(1),
    });

    let out = adb.shell(&serial, "settings put --user 10 secure x 1; echo after");
    assert_eq!(stdout(&out), "", "nothing after the reboot ran");

    reconnect(&adb, &serial);
    let value = stdout(&adb.shell(&serial, "settings get --user 10 secure x"));
    assert_eq!(value, "null\n", "the faulted command must not have run");
}

#[test]
fn dropping_after_n_packets_cuts_the_connection_and_the_phone_recovers() {
    let sim = Sim::phones(1);
    let adb = AdbServer::start();
    let serial = sim.serial(0);
    adb.connect(&serial);
    sim.phone(0).faults().drop_after_packets(0);

    let out = adb.shell(&serial, "echo one && echo two");
    assert_eq!(
        stdout(&out),
        "",
        "the connection dropped before the command ran"
    );

    reconnect(&adb, &serial);
    assert_eq!(stdout(&adb.shell(&serial, "echo ok")), "ok\n");
}
