-- corral fleet schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_fleet.sql:
-- same tables, columns and constraints; only types and triggers are spelled differently.
-- Every timestamp is BIGINT milliseconds since the Unix epoch (UTC); JSON is TEXT.

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    serial          TEXT,
    group_name      TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_at     BIGINT NOT NULL,
    last_seen_at    BIGINT,
    cert_serial     TEXT,
    cert_key_sha256 TEXT,
    applied_version TEXT,
    observed_state  TEXT,
    observed_at     BIGINT,
    drift           TEXT,
    -- Inbound de-duplication: highest agent report seq recorded.
    last_report_seq BIGINT NOT NULL DEFAULT 0,
    -- Outbox: the last push seq handed out for this device.
    last_push_seq   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_group ON devices (group_name);

CREATE TABLE profile_versions (
    profile_name   TEXT NOT NULL,
    version        TEXT NOT NULL,
    canonical_toml TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (profile_name, version)
);
CREATE FUNCTION corral_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;
CREATE TRIGGER profile_versions_are_immutable BEFORE UPDATE ON profile_versions
FOR EACH ROW EXECUTE FUNCTION corral_refuse_change('profile versions are immutable');

CREATE TABLE profiles (
    name            TEXT PRIMARY KEY,
    current_version TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    FOREIGN KEY (name, current_version) REFERENCES profile_versions (profile_name, version)
);

CREATE TABLE assignments (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    TEXT UNIQUE REFERENCES devices (id),
    group_name   TEXT UNIQUE,
    profile_name TEXT NOT NULL,
    assigned_at  BIGINT NOT NULL,
    CHECK ((device_id IS NULL) <> (group_name IS NULL))
);

CREATE TABLE deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES devices (id),
    profile_name TEXT NOT NULL,
    version      TEXT NOT NULL,
    assigned_at  BIGINT NOT NULL,
    delivered_at BIGINT,
    applied_at   BIGINT,
    failed_at    BIGINT,
    error        TEXT,
    FOREIGN KEY (profile_name, version) REFERENCES profile_versions (profile_name, version)
);
CREATE INDEX deliveries_by_device ON deliveries (device_id, version);

CREATE TABLE outbox (
    device_id     TEXT NOT NULL REFERENCES devices (id),
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    delivery_id   BIGINT REFERENCES deliveries (id),
    created_at    BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   BIGINT,
    last_sent_at  BIGINT,
    acked_at      BIGINT,
    superseded_at BIGINT,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX outbox_pending ON outbox (device_id, seq) WHERE acked_at IS NULL AND superseded_at IS NULL;

CREATE TABLE events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    device_id TEXT,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX events_by_device ON events (device_id, id);
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION corral_refuse_change('the event log is append-only');

CREATE TABLE enrollment_tokens (
    prefix         TEXT PRIMARY KEY,
    secret_sha256  TEXT NOT NULL,
    profile_name   TEXT,
    group_name     TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_by     TEXT,
    used_at        BIGINT,
    used_by_device TEXT,
    revoked_at     BIGINT,
    CHECK ((profile_name IS NULL) <> (group_name IS NULL))
);

CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,
    device_id         TEXT NOT NULL REFERENCES devices (id),
    key_sha256        TEXT NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    issued_at         BIGINT NOT NULL,
    revoked_at        BIGINT,
    revocation_reason TEXT
);
CREATE INDEX certificates_by_device ON certificates (device_id);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'auditor')),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE sessions (
    prefix        TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    prefix        TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
