//! Planner benchmark: a 5,000-contact allow-list against a phone holding 5,000 contacts
//! of which 100 differ (target: at most 5 ms per plan; see docs/benchmarks.md).

use corral_profiles::{
    AllowList, AllowedContact, ContactId, LawfulBasis, ObservedContact, ObservedPhone, PhoneNumber,
    RawContactId, SourceFile, UserId, WorkSide, plan, resolve,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn scenario(
    n: usize,
    changes: usize,
) -> (corral_profiles::DeviceProfile, AllowList, ObservedPhone) {
    let profile = "name = \"bench\"\n[messenger]\npackages = [\"com.whatsapp.w4b\"]\ngrant = [\"android.permission.READ_CONTACTS\"]\n";
    let resolution = resolve(&[SourceFile::new("bench.toml", profile)], None);
    let Some(p) = resolution.profiles.values().next() else {
        panic!("benchmark profile is invalid: {:?}", resolution.diagnostics);
    };
    let target = p.for_device(None);
    let allowed: Vec<AllowedContact> = (0..n)
        .filter_map(|i| {
            Some(AllowedContact {
                id: ContactId(format!("c{i}")),
                name: format!("Contact {i}"),
                number: PhoneNumber::parse(&format!("+4930{:08}", 10_000_000 + i), None).ok()?,
                basis: LawfulBasis::Contract,
            })
        })
        .collect();
    let mut work = WorkSide::new(UserId(10));
    work.settings
        .insert(corral_profiles::SETTING_CONTACT_SEARCH.into(), "0".into());
    work.settings
        .insert(corral_profiles::SETTING_CALENDAR.into(), "0".into());
    for (i, c) in allowed.iter().enumerate() {
        // Half of the changes are strangers in place of allowed contacts, half are
        // allowed contacts missing from the phone.
        let stranger = i < changes / 2;
        if !stranger && i < changes {
            continue;
        }
        work.contacts.push(ObservedContact {
            id: RawContactId(i as u64 + 1),
            name: Some(if stranger {
                format!("Stranger {i}")
            } else {
                c.name.clone()
            }),
            numbers: vec![if stranger {
                format!("+4917{i:08}")
            } else {
                c.number.to_string()
            }],
            account_type: None,
        });
    }
    let mut phone = ObservedPhone::new();
    phone.users.push(corral_profiles::ObservedUser {
        id: UserId(10),
        name: "Work".into(),
        flags: 0x1030,
        running: true,
    });
    phone.work = Some(work);
    (target, AllowList::from_contacts(allowed), phone)
}

fn planner(c: &mut Criterion) {
    let (target, allow, phone) = scenario(5_000, 100);
    let p = plan(&target, &allow, &phone);
    println!(
        "5,000 contacts, 100 changes: {} actions in {} round trips",
        p.actions.len(),
        p.round_trips()
    );
    c.bench_function("plan 5000 contacts, 100 changes", |b| {
        b.iter(|| plan(&target, &allow, &phone))
    });
    let (target, allow, phone) = scenario(5_000, 0);
    c.bench_function("plan 5000 contacts, converged", |b| {
        b.iter(|| plan(&target, &allow, &phone))
    });
}

criterion_group!(benches, planner);
criterion_main!(benches);
