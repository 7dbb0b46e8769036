//! Storage suite, the contact book: contacts with their lawful basis and groups, search,
//! the allow-list query (a contact without a basis never reaches it), erasure leaving only
//! a pseudonym in the audit log; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::db::TestStore;
use common::fixtures::NOW;
use corral_controller::domain::{
    Basis, CompanyName, Consent, ContactDraft, ContactGroup, ContactName,
};
use corral_controller::store::{ContactQuery, ErasureReason, EventFilter, StoreError};
use corral_profiles::PhoneNumber;

on_both_engines!(
    a_contact_is_stored_with_its_basis_and_groups,
    only_contacts_with_a_basis_reach_the_allow_list,
    the_contact_list_searches_name_company_and_number,
    a_number_is_in_the_book_once_and_groups_must_exist,
    erasure_leaves_only_a_pseudonym,
    the_person_record_covers_every_table_that_refers_to_a_contact,
);

fn group(name: &str) -> ContactGroup {
    ContactGroup::parse(name).unwrap()
}

fn draft(name: &str, number: &str, groups: &[&str], basis: Option<Basis>) -> ContactDraft {
    ContactDraft {
        name: ContactName::parse(name).unwrap(),
        number: PhoneNumber::parse(number, None).unwrap(),
        company: None,
        groups: groups.iter().map(|g| group(g)).collect(),
        basis,
    }
}

fn consent() -> Basis {
    Basis::Consent(
        Consent::new(
            "I agree that the shop's phones keep my name and number to talk to me on WhatsApp.",
            "2026-11",
            NOW,
            "paper form",
            "user:admin",
        )
        .unwrap(),
    )
}

async fn groups(store: &TestStore, names: &[&str]) {
    for n in names {
        store
            .create_contact_group(&group(n), "", "user:admin", NOW)
            .await
            .unwrap();
    }
}

async fn a_contact_is_stored_with_its_basis_and_groups(store: TestStore) {
    groups(&store, &["staff", "suppliers"]).await;
    let mut d = draft("Anna Berg", "+49 30 1234567", &["staff"], Some(consent()));
    d.company = Some(CompanyName::parse("Berg GmbH").unwrap());
    let created = store.create_contact(&d, "user:admin", NOW).await.unwrap();
    let read = store.contact(&created.id).await.unwrap();
    assert_eq!(read, created);
    assert_eq!(read.number.as_str(), "+49301234567");
    assert_eq!(read.basis, Some(consent()));
    assert_eq!(read.groups, BTreeSet::from([group("staff")]));

    let mut changed = d.clone();
    changed.groups = BTreeSet::from([group("suppliers")]);
    changed.basis = Some(Basis::legitimate_interest("Regular supplier, weighed 2026-11").unwrap());
    let updated = store
        .update_contact(&created.id, &changed, "user:admin", NOW)
        .await
        .unwrap();
    assert_eq!(updated.groups, BTreeSet::from([group("suppliers")]));
    assert_eq!(updated.basis, changed.basis);
    assert_eq!(updated.pseudonym, created.pseudonym);

    let counts = store.contact_groups().await.unwrap();
    let counts: Vec<_> = counts
        .iter()
        .map(|g| (g.name.as_str().to_owned(), g.members, g.with_basis))
        .collect();
    assert_eq!(
        counts,
        vec![("staff".to_owned(), 0, 0), ("suppliers".to_owned(), 1, 1)]
    );
}

async fn only_contacts_with_a_basis_reach_the_allow_list(store: TestStore) {
    groups(&store, &["staff", "empty"]).await;
    store
        .create_contact(
            &draft(
                "With Basis",
                "+49 30 1111111",
                &["staff"],
                Some(Basis::Contract),
            ),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    store
        .create_contact(
            &draft("No Basis", "+49 30 2222222", &["staff"], None),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    let asked = BTreeSet::from([group("staff"), group("empty"), group("unknown")]);
    let directory = store.contact_directory(&asked).await.unwrap();
    let staff: Vec<_> = directory[&group("staff")]
        .iter()
        .map(|c| (c.name.as_str(), c.number.as_str()))
        .collect();
    assert_eq!(staff, vec![("With Basis", "+49301111111")]);
    assert_eq!(directory[&group("empty")], Vec::new());
    assert!(!directory.contains_key(&group("unknown")));
}

async fn the_contact_list_searches_name_company_and_number(store: TestStore) {
    groups(&store, &["staff"]).await;
    let mut anna = draft("Anna Berg", "+49 30 1234567", &["staff"], None);
    anna.company = Some(CompanyName::parse("Fleisch_100%").unwrap());
    store
        .create_contact(&anna, "user:admin", NOW)
        .await
        .unwrap();
    store
        .create_contact(
            &draft("Bernd Ost", "+49 331 2345678", &[], None),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    let names = |found: Vec<corral_controller::domain::Contact>| {
        found
            .into_iter()
            .map(|c| c.name.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let search = |s: &str| ContactQuery {
        search: Some(s.to_owned()),
        ..ContactQuery::default()
    };
    assert_eq!(
        names(store.contacts(&ContactQuery::default()).await.unwrap()),
        ["Anna Berg", "Bernd Ost"]
    );
    assert_eq!(
        names(store.contacts(&search("berg")).await.unwrap()),
        ["Anna Berg"]
    );
    assert_eq!(
        names(store.contacts(&search("100%")).await.unwrap()),
        ["Anna Berg"]
    );
    assert_eq!(
        names(store.contacts(&search("ch_")).await.unwrap()),
        ["Anna Berg"]
    );
    assert_eq!(
        names(store.contacts(&search("c%h")).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        names(store.contacts(&search("0331 234")).await.unwrap()),
        ["Bernd Ost"]
    );
    let staff = ContactQuery {
        group: Some(group("staff")),
        ..ContactQuery::default()
    };
    assert_eq!(names(store.contacts(&staff).await.unwrap()), ["Anna Berg"]);
    let second_page = ContactQuery {
        limit: 1,
        offset: 1,
        ..ContactQuery::default()
    };
    assert_eq!(
        names(store.contacts(&second_page).await.unwrap()),
        ["Bernd Ost"]
    );
}

async fn a_number_is_in_the_book_once_and_groups_must_exist(store: TestStore) {
    store
        .create_contact(
            &draft("Anna", "+49 30 1234567", &[], None),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    let twice = store
        .create_contact(
            &draft("Anna 2", "+49301234567", &[], None),
            "user:admin",
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(twice, StoreError::Conflict(_)), "{twice}");
    let unknown = store
        .create_contact(
            &draft("Bernd", "+49 30 7654321", &["nope"], None),
            "user:admin",
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(unknown, StoreError::Invalid(_)), "{unknown}");
    // Nothing of the refused contact was kept.
    assert_eq!(store.contact_count().await.unwrap(), 1);
    let dup = store
        .create_contact_group(&group("staff"), "", "user:admin", NOW)
        .await;
    assert!(dup.is_ok());
    let dup = store
        .create_contact_group(&group("staff"), "", "user:admin", NOW)
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
}

async fn erasure_leaves_only_a_pseudonym(store: TestStore) {
    groups(&store, &["staff"]).await;
    let anna = store
        .create_contact(
            &draft("Anna Berg", "+49 30 1234567", &["staff"], Some(consent())),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    let (record, queued) = store
        .erase_contact_everywhere(&anna.id, ErasureReason::Erasure, &[], "user:admin", NOW)
        .await
        .unwrap();
    assert!(queued.is_empty());
    let pseudonym = anna.pseudonym.clone();
    assert_eq!(record.pseudonym, pseudonym.as_str());
    assert_eq!(store.erasures().await.unwrap(), vec![record]);
    assert!(matches!(
        store.contact(&anna.id).await.unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert_eq!(
        store.pseudonym_of(&anna.number, NOW).await.unwrap(),
        pseudonym
    );
    let events = store
        .events_newest_first(&EventFilter::default(), None, 100)
        .await
        .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["contact.erased", "contact.created", "contact_group.created"]
    );
    for e in &events {
        let detail = e.detail.to_string();
        assert!(
            !detail.contains("Anna") && !detail.contains("1234567"),
            "{detail}"
        );
    }
    assert_eq!(events[0].detail["contact"], pseudonym.as_str());
    // No table holds the name or the number any more.
    let dump = common::schema_walk::all_text(&store).await;
    assert!(!dump.contains("Anna Berg"), "{dump}");
    assert!(!dump.contains("1234567"), "{dump}");
}

/// Art. 15/20: every table that refers to a contact (a `contact_id` column, or the
/// contacts table itself) is read by `Store::person_record`. A new table that stores
/// something about a person without being added to the export fails here.
async fn the_person_record_covers_every_table_that_refers_to_a_contact(store: TestStore) {
    groups(&store, &["staff"]).await;
    let anna = store
        .create_contact(
            &draft("Anna Berg", "+49 30 1234567", &["staff"], Some(consent())),
            "user:admin",
            NOW,
        )
        .await
        .unwrap();
    let record = store.person_record(&anna.id).await.unwrap();
    assert_eq!(record.contact, anna);
    assert_eq!(record.events.len(), 1);
    assert_eq!(record.events[0].kind, "contact.created");
    let tables = common::schema_walk::tables(&store).await;
    let referring: Vec<&str> = tables
        .iter()
        .filter(|(t, columns)| t == "contacts" || columns.iter().any(|c| c == "contact_id"))
        .map(|(t, _)| t.as_str())
        .collect();
    assert!(
        referring.contains(&"contact_group_members"),
        "{referring:?}"
    );
    for t in referring {
        assert!(
            record.tables.contains(&t),
            "table `{t}` refers to contacts but is not in the person record"
        );
    }
}
