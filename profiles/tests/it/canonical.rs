//! The canonical form of the examples, pinned: their versions change only when their
//! meaning (or the canonical encoding) changes, and the form is itself a profile.

use corral_profiles::resolve;
use expect_test::expect;

use crate::fixture::examples;
use crate::resolve::check_files;

#[test]
fn examples_resolve_and_their_versions_are_pinned() {
    check_files(
        &examples(),
        expect![[r#"
        === base sha256:f5e83bd5ad671944
        description = "WhatsApp isolated in a work profile: no backup, no accounts, nothing shared across profiles."
        name = "base"

        [agent]
        heartbeat = "1m"
        reconcile = "15m"

        [contacts]
        entries = []
        groups = ["staff"]
        mode = "exact"

        [messenger]
        grant = ["android.permission.READ_CONTACTS"]
        packages = ["com.whatsapp"]
        personal_copy = "hide"

        [privacy]
        allowed_accounts = []
        backup = false
        cross_profile_calendar = false
        cross_profile_contact_search = false

        [work_profile]
        allowed_apps = []
        install = []
        name = "Work"
        other_apps = "hide"
        === butcher-shop sha256:ea53843846cf1153
        description = "WhatsApp Business in the work profile; staff and suppliers only; backup off."
        name = "butcher-shop"

        [agent]
        heartbeat = "1m"
        reconcile = "15m"

        [contacts]
        groups = [
            "staff",
            "suppliers",
        ]
        mode = "exact"

        [[contacts.entries]]
        basis = "contract"
        name = "Meyer Wholesale Meats"
        phone = "+493012345678"

        [[contacts.entries]]
        basis = "contract"
        name = "Hofmann Farm"
        phone = "+493312345678"

        [devices.R58M41ABCDE.agent]
        reconcile = "5m"

        [messenger]
        grant = [
            "android.permission.POST_NOTIFICATIONS",
            "android.permission.READ_CONTACTS",
        ]
        packages = ["com.whatsapp.w4b"]
        personal_copy = "uninstall"

        [privacy]
        allowed_accounts = []
        backup = false
        cross_profile_calendar = false
        cross_profile_caller_id = false
        cross_profile_contact_search = false

        [work_profile]
        allowed_apps = ["com.android.camera2"]
        install = []
        name = "Shop"
        other_apps = "hide"
        examples/butcher-shop.toml:31:27: note[needs-profile-owner]: `privacy.cross_profile_caller_id` can only be enforced by the profile-owner admin component
    "#]],
    );
}

#[test]
fn canonical_form_is_a_profile_with_the_same_version() {
    let resolution = resolve(&examples(), None);
    for p in resolution.profiles.values() {
        let again = resolve(
            &[corral_profiles::SourceFile::new(
                "c.toml",
                p.canonical_toml(),
            )],
            None,
        );
        assert!(!again.has_errors(), "{:?}", again.diagnostics);
        assert_eq!(
            again.profiles.values().next().unwrap().version(),
            p.version()
        );
    }
}
