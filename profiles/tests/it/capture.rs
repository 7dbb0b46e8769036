//! Capture: a phone's work profile becomes a draft profile that, once a person has given
//! each contact a lawful basis, plans nothing for the phone it came from.

use corral_profiles::{
    AllowList, ObservedPhone, ProfileName, Region, SourceFile, capture, plan, resolve,
};
use expect_test::expect;

const PHONE: &str = r#"{
  "users": [ { "id": 0, "name": "Owner", "flags": 3091, "running": true },
             { "id": 10, "name": "Shop", "flags": 4144, "running": true } ],
  "personal_packages": { "com.whatsapp": {} },
  "work": {
    "user": 10,
    "packages": {
      "com.whatsapp.w4b": { "launcher": true, "granted": ["android.permission.READ_CONTACTS"] },
      "com.android.camera2": { "system": true, "launcher": true },
      "com.android.chrome": { "system": true, "launcher": true, "hidden": true },
      "com.android.providers.contacts": { "system": true }
    },
    "settings": { "managed_profile_contact_remote_search": "0", "cross_profile_calendar_enabled": "0" },
    "backup_enabled": false,
    "account_types": ["com.whatsapp.w4b"],
    "contacts": [
      { "id": 1, "name": "Meyer", "numbers": ["+493012345678"] },
      { "id": 2, "name": "Hofmann", "numbers": ["0331 2345678"] },
      { "id": 3, "name": "Meyer", "numbers": ["+493012345678"], "account_type": "com.whatsapp.w4b" }
    ]
  }
}"#;

#[test]
fn capture_leaves_out_the_personal_side_and_the_bases() {
    let phone: ObservedPhone = serde_json::from_str(PHONE).unwrap();
    let c = capture(
        &phone,
        &ProfileName::parse("cloned").unwrap(),
        Region::parse("de"),
    )
    .unwrap();
    expect![[r##"
        # Draft profile captured from a phone's work profile by corral. Before using it:
        # - decide `messenger.personal_copy` (keep / hide / uninstall): the personal side of
        #   the phone was deliberately not captured;
        # - give every contact entry its lawful basis (`basis = "consent"`, `"contract"` or
        #   `"legitimate_interest"`), or move the contacts into contact-book groups: until
        #   then this profile does not validate.

        description = "Captured from a phone; review before use."
        name = "cloned"

        [contacts]
        mode = "exact"

        [[contacts.entries]]
        name = "Hofmann"
        phone = "+493312345678"

        [[contacts.entries]]
        name = "Meyer"
        phone = "+493012345678"

        [messenger]
        grant = ["android.permission.READ_CONTACTS"]
        packages = ["com.whatsapp.w4b"]

        [privacy]
        allowed_accounts = []
        backup = false
        cross_profile_calendar = false
        cross_profile_contact_search = false

        [work_profile]
        allowed_apps = ["com.android.camera2"]
        name = "Shop"
        other_apps = "hide"
    "##]]
    .assert_eq(&c.toml);
    // The draft is refused until every contact has a basis.
    let r = resolve(&[SourceFile::new("cloned.toml", c.toml.clone())], None);
    let codes: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["missing", "missing"]);
}

#[test]
fn captured_profile_plans_nothing_for_its_phone() {
    let phone: ObservedPhone = serde_json::from_str(PHONE).unwrap();
    let mut phone = phone;
    // Captured contacts come back normalised; the phone holds what corral would write.
    phone.work.as_mut().unwrap().contacts[1].numbers = vec!["+493312345678".into()];
    let c = capture(&phone, &ProfileName::parse("cloned").unwrap(), None).unwrap();
    let text = c.toml.replace(
        "[[contacts.entries]]\n",
        "[[contacts.entries]]\nbasis = \"contract\"\n",
    );
    let r = resolve(&[SourceFile::new("cloned.toml", text)], None);
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    let target = r.profiles.values().next().unwrap().for_device(None);
    let allow = AllowList::from_contacts(target.settings.contacts.entries.iter().map(|e| {
        corral_profiles::AllowedContact {
            id: corral_profiles::ContactId(e.number.to_string()),
            name: e.name.clone(),
            number: e.number.clone(),
            basis: e.basis,
        }
    }));
    let p = plan(&target, &allow, &phone);
    assert!(p.is_empty(), "{:?}", p.actions);
}

#[test]
fn nothing_to_capture_without_a_work_profile() {
    let err = capture(
        &ObservedPhone::new(),
        &ProfileName::parse("x").unwrap(),
        None,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "the phone has no work profile to capture");
}
