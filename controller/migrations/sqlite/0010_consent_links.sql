-- Double opt-in (issue 7). Keep in step with ../postgres/0010_consent_links.sql.
-- The consent wording with its version history: every save is a new version, never
-- changed afterwards, so a consent names exactly the text the person confirmed. The shop
-- name and the privacy notice address are part of what the person was shown.
CREATE TABLE consent_wordings (
    version BIGINT PRIMARY KEY,
    shop_name TEXT NOT NULL,
    wording TEXT NOT NULL,
    privacy_url TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Consent links: like enrollment tokens, a public prefix and the SHA-256 of the secret
-- (the secret itself is shown once and never stored). Confirmed once (one conditional
-- UPDATE); the link then stays usable for withdrawal until it expires. Deleted with the
-- contact (erasure).
CREATE TABLE consent_links (
    prefix TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    wording_version BIGINT NOT NULL REFERENCES consent_wordings (version),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    confirmed_at BIGINT
);
CREATE INDEX consent_links_by_contact ON consent_links (contact_id);
