-- The contact book (issue 7). Keep in step with ../postgres/0009_contacts.sql.
-- Minimisation: a contact is a name, an E.164 number, an optional company and its groups,
-- plus the lawful basis it is processed on. A contact whose basis is NULL never reaches a
-- phone (the allow-list query in store/contacts.rs requires one). Erasure deletes the
-- contact row and its memberships; audit entries name the person only by `pseudonym`, a
-- keyed hash of the number under the secret in `privacy_keys`.

CREATE TABLE contact_groups (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    company TEXT,
    pseudonym TEXT NOT NULL,
    basis TEXT CHECK (basis IN ('consent', 'contract', 'legitimate_interest')),
    basis_note TEXT,
    consent_wording TEXT,
    consent_wording_version TEXT,
    consent_at BIGINT,
    consent_channel TEXT,
    consent_recorded_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (basis <> 'consent' OR (consent_wording IS NOT NULL AND consent_wording_version IS NOT NULL
        AND consent_at IS NOT NULL AND consent_channel IS NOT NULL AND consent_recorded_by IS NOT NULL)),
    CHECK (basis <> 'legitimate_interest' OR basis_note IS NOT NULL)
);
CREATE INDEX contacts_by_name ON contacts (name, id);

CREATE TABLE contact_group_members (
    group_name TEXT NOT NULL REFERENCES contact_groups (name) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, contact_id)
);
CREATE INDEX contact_group_members_by_contact ON contact_group_members (contact_id);

-- Server secrets of the privacy features; `pseudonym` keys the audit pseudonyms.
CREATE TABLE privacy_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each phone's contact allow-list: the version last queued for it (pushed through the
-- outbox as kind `contacts`) and the one its agent confirmed applied.
CREATE TABLE device_allow_lists (
    device_id TEXT PRIMARY KEY REFERENCES devices (id),
    version TEXT NOT NULL,
    push_seq BIGINT NOT NULL,
    queued_at BIGINT NOT NULL,
    applied_version TEXT,
    applied_push_seq BIGINT,
    applied_at BIGINT,
    failed_at BIGINT,
    error TEXT
);

-- Erasures and withdrawals (Art. 17, Art. 7(3)): only the pseudonym stays, plus per phone
-- the push that removes the person and when that phone's agent confirmed it.
CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('erasure', 'withdrawal')),
    erased_at BIGINT NOT NULL,
    actor TEXT NOT NULL
);
CREATE TABLE erasure_receipts (
    erasure_id TEXT NOT NULL REFERENCES erasures (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices (id),
    push_seq BIGINT NOT NULL,
    confirmed_at BIGINT,
    PRIMARY KEY (erasure_id, device_id)
);
CREATE INDEX erasure_receipts_open ON erasure_receipts (device_id, confirmed_at);
