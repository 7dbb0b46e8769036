//! Storage suite, double opt-in: the consent wording's versions, consent links stored as
//! prefix + hashed secret, confirmed by one conditional UPDATE (50 concurrent
//! confirmations, exactly one wins), the basis they record; and erasure leaving no
//! name in any stored push, sent or not; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::db::TestStore;
use common::fixtures::{DAY, HOUR, NOW, enrolled};
use corral_controller::domain::{
    Basis, ConsentLinkToken, ContactDraft, ContactGroup, ContactName, LinkState, WordingDraft,
};
use corral_controller::store::{AllowListPush, ErasureReason, StoreError};
use corral_profiles::PhoneNumber;

on_both_engines!(
    the_wording_keeps_every_version,
    a_link_confirms_once_and_records_the_exact_wording,
    fifty_concurrent_confirmations_succeed_exactly_once,
    unknown_wrong_and_expired_links_are_refused,
    erasure_blanks_every_stored_list_that_names_the_person,
);

async fn anna(store: &TestStore) -> corral_controller::domain::Contact {
    let g = ContactGroup::parse("suppliers").unwrap();
    store
        .create_contact_group(&g, "", "user:admin", NOW)
        .await
        .unwrap();
    let draft = ContactDraft {
        name: ContactName::parse("Anna Berg").unwrap(),
        number: PhoneNumber::parse("+49 30 1234567", None).unwrap(),
        company: None,
        groups: [g].into(),
        basis: None,
    };
    store
        .create_contact(&draft, "user:admin", NOW)
        .await
        .unwrap()
}

async fn wording(store: &TestStore, text: &str) {
    let draft = WordingDraft::parse("Butcher Berg", text, "").unwrap();
    store
        .set_consent_wording(&draft, "user:admin", NOW)
        .await
        .unwrap();
}

async fn link(
    store: &TestStore,
    contact: &corral_controller::domain::ContactId,
) -> ConsentLinkToken {
    let token = ConsentLinkToken::generate();
    store
        .create_consent_link(&token, contact, NOW.plus(DAY), "user:admin", NOW)
        .await
        .unwrap();
    token
}

async fn the_wording_keeps_every_version(store: TestStore) {
    assert_eq!(store.current_consent_wording().await.unwrap(), None);
    wording(&store, "First text.").await;
    wording(&store, "Second text.").await;
    let all = store.consent_wordings().await.unwrap();
    let seen: Vec<_> = all
        .iter()
        .map(|w| (w.version_label(), w.wording.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("v2".to_owned(), "Second text."),
            ("v1".to_owned(), "First text.")
        ]
    );
    assert_eq!(
        store
            .current_consent_wording()
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

async fn a_link_confirms_once_and_records_the_exact_wording(store: TestStore) {
    let anna = anna(&store).await;
    let none = store
        .create_consent_link(
            &ConsentLinkToken::generate(),
            &anna.id,
            NOW.plus(DAY),
            "user:admin",
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(none, StoreError::Invalid(_)), "{none}");
    wording(&store, "I agree to be on the shop's phones.").await;
    let token = link(&store, &anna.id).await;
    // A newer wording does not change what an existing link shows.
    wording(&store, "A later text.").await;
    let view = store.consent_link(&token).await.unwrap();
    assert_eq!(view.link.state(NOW), LinkState::Open);
    assert_eq!(view.wording.wording, "I agree to be on the shop's phones.");
    let at = NOW.plus(HOUR);
    store.confirm_consent_link(&token, at).await.unwrap();
    let again = store.confirm_consent_link(&token, at).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    let Some(Basis::Consent(c)) = store.contact(&anna.id).await.unwrap().basis else {
        panic!("no consent recorded");
    };
    assert_eq!(
        (
            c.wording.as_str(),
            c.wording_version.as_str(),
            c.at,
            c.channel.as_str(),
            c.recorded_by.as_str()
        ),
        (
            "I agree to be on the shop's phones.",
            "v1",
            at,
            "double opt-in link",
            "the contact"
        )
    );
    // Confirmed links stay usable (for withdrawal) after their confirmation window.
    let later = store.consent_link(&token).await.unwrap();
    assert_eq!(later.link.state(NOW.plus(DAY * 30)), LinkState::Confirmed);
    // The secret is nowhere; the audit names only the pseudonym.
    let dump = common::schema_walk::all_text(&store).await;
    let secret = token.reveal();
    let secret = secret.rsplit('.').next().unwrap();
    assert!(!dump.contains(secret), "{dump}");
    let record = store.person_record(&anna.id).await.unwrap();
    assert_eq!(record.consent_links.len(), 1);
    let kinds: Vec<_> = record.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "contact.created",
            "consent.link_created",
            "contact.consent_confirmed"
        ]
    );
    for e in &record.events {
        assert!(!e.detail.to_string().contains("Anna"), "{:?}", e.detail);
    }
    assert_eq!(
        record.events[2].actor,
        format!("contact:{}", anna.pseudonym)
    );
}

async fn fifty_concurrent_confirmations_succeed_exactly_once(store: TestStore) {
    let anna = anna(&store).await;
    wording(&store, "Text.").await;
    let token = link(&store, &anna.id).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (store, token) = ((*store).clone(), token.clone());
        tasks.spawn(async move { store.confirm_consent_link(&token, NOW).await });
    }
    let (mut won, mut lost) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => lost += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((won, lost), (1, 49));
    let confirmed = store
        .person_record(&anna.id)
        .await
        .unwrap()
        .events
        .iter()
        .filter(|e| e.kind == "contact.consent_confirmed")
        .count();
    assert_eq!(confirmed, 1);
}

async fn unknown_wrong_and_expired_links_are_refused(store: TestStore) {
    let anna = anna(&store).await;
    wording(&store, "Text.").await;
    let token = link(&store, &anna.id).await;
    let wrong =
        ConsentLinkToken::parse(&format!("cns-{}.{}", token.prefix(), "A".repeat(43))).unwrap();
    for t in [&wrong, &ConsentLinkToken::generate()] {
        assert!(matches!(
            store.consent_link(t).await,
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            store.confirm_consent_link(t, NOW).await,
            Err(StoreError::Forbidden(_))
        ));
    }
    let late = NOW.plus(DAY);
    assert_eq!(
        store.consent_link(&token).await.unwrap().link.state(late),
        LinkState::Expired
    );
    let expired = store.confirm_consent_link(&token, late).await.unwrap_err();
    assert!(matches!(expired, StoreError::Conflict(_)), "{expired}");
    assert_eq!(store.contact(&anna.id).await.unwrap().basis, None);
}

async fn erasure_blanks_every_stored_list_that_names_the_person(store: TestStore) {
    let anna = anna(&store).await;
    wording(&store, "Text.").await;
    let _link = link(&store, &anna.id).await;
    // A phone with a list naming Anna, never delivered; the erasure's plan does not
    // include it (e.g. it lost its profile meanwhile).
    let device = enrolled(&store, "shop").await;
    let body = serde_json::json!({
        "version": "sha256:0000000000000001",
        "groups": { "suppliers": [{ "id": anna.id.as_str(), "name": "Anna Berg", "number": "+49301234567", "basis": "consent" }] },
    });
    store
        .queue_allow_lists(
            &[AllowListPush {
                device: device.clone(),
                version: "sha256:0000000000000001".into(),
                body: body.to_string(),
            }],
            NOW,
        )
        .await
        .unwrap();
    store
        .erase_contact_everywhere(&anna.id, ErasureReason::Withdrawal, &[], "user:admin", NOW)
        .await
        .unwrap();
    let dump = common::schema_walk::all_text(&store).await;
    assert!(!dump.contains("Anna Berg"), "{dump}");
    assert!(!dump.contains("1234567"), "{dump}");
    let pending = store.pending_pushes(&device).await.unwrap();
    assert!(
        pending.iter().all(|p| p.kind.as_str() != "contacts"),
        "a blanked list is never sent: {pending:?}"
    );
}
