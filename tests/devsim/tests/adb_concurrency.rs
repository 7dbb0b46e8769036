//! Ten `adb push`es of 10 MiB to ten phones at once, through one adb server: every file
//! arrives intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{AdbServer, Sim, random_bytes, sha256};

#[test]
fn ten_concurrent_pushes_to_ten_phones_arrive_intact() {
    const PHONES: usize = 10;
    let sim = Sim::phones(PHONES);
    let adb = AdbServer::start();
    for i in 0..PHONES {
        adb.connect(&sim.serial(i));
    }
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..PHONES)
        .map(|i| {
            let data = random_bytes(10 * 1024 * 1024, 100 + i as u64);
            let path = dir.path().join(format!("f{i}.bin"));
            std::fs::write(&path, &data).unwrap();
            (path, sha256(&data))
        })
        .collect();

    std::thread::scope(|scope| {
        for (i, (path, _)) in files.iter().enumerate() {
            let (adb, serial) = (&adb, sim.serial(i));
            scope.spawn(move || {
                adb.adb_ok(&[
                    "-s",
                    &serial,
                    "push",
                    path.to_str().unwrap(),
                    "/data/local/tmp/pushed.bin",
                ]);
            });
        }
    });

    for (i, (_, digest)) in files.iter().enumerate() {
        let on_phone = sim
            .phone(i)
            .fs()
            .read("/data/local/tmp/pushed.bin")
            .unwrap();
        assert_eq!(&sha256(&on_phone), digest, "phone {i}");
    }
}
