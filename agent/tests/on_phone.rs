//! The agent as it runs on a phone: `LocalShell` runs `sh -c` with `sh` from `PATH`, and
//! on a simulated phone that `sh` is the simulator's shim, which routes the script into the
//! phone's own shell (how a pushed program sees the phone). Observe → plan → enforce with
//! the butcher-shop profile through it, checked by asking the phone.
//!
//! Its own `main` (no libtest harness): the shim symlinks point at this test binary, which
//! must hand over to the shim first when it is started as `sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use corral_agent::observe::Observer;
use corral_agent::reconcile::reconcile;
use corral_agent::shell::{AndroidShell, LocalShell, PhoneShell};
use support::{TestPhone, butcher_shop};

async fn the_profile_is_applied_through_the_phones_own_shell() {
    let p = TestPhone::start().await;
    let env = p.phone.shim_env().unwrap();
    let make = Arc::new(move || {
        Box::new(LocalShell::new().with_env(env.clone())) as Box<dyn AndroidShell>
    });
    let mut shell = PhoneShell::new(make, std::time::Duration::from_secs(60));

    // The exit status comes from the process; stderr is merged.
    let out = shell
        .run("pm list users; echo oops >&2; exit 4")
        .await
        .unwrap();
    assert_eq!(
        out.output,
        "Users:\n\tUserInfo{0:Owner:4c13} running\noops\n"
    );
    assert_eq!(out.exit, 4);

    let target = butcher_shop();
    let mut observer = Observer::new();
    let report = reconcile(&mut shell, &mut observer, &target).await;
    assert!(report.clean(), "{:?}", report.errors());
    assert!(
        p.sh("pm list users")
            .contains("\tUserInfo{10:Shop:1030} running\n")
    );
    assert_eq!(
        p.sh("pm list packages --user 10 com.whatsapp.w4b"),
        "package:com.whatsapp.w4b\n"
    );
    let again = reconcile(&mut shell, &mut observer, &target).await;
    assert_eq!(again.found.actions, vec![]);
    assert_eq!(again.round_trips, 1);
    p.stop().await;
}

fn main() {
    corral_devsim::phone::run_shim_if_invoked();
    if std::env::args().any(|a| a == "--list") {
        println!("the_profile_is_applied_through_the_phones_own_shell: test");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(the_profile_is_applied_through_the_phones_own_shell());
    println!("test the_profile_is_applied_through_the_phones_own_shell ... ok");
}
