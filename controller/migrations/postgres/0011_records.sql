-- Records of processing, retention and redactable audit detail (issue 7). Keep in step
-- with ../sqlite/0011_records.sql, which explains the tables.

CREATE TABLE privacy_record_fields (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE retention_runs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    contacts_erased  BIGINT NOT NULL,
    events_pruned    BIGINT NOT NULL,
    details_redacted BIGINT NOT NULL
);

ALTER TABLE events ADD COLUMN detail_sha256 TEXT;
ALTER TABLE events ADD COLUMN redacted_at BIGINT;
CREATE INDEX events_by_at ON events (at);

CREATE OR REPLACE FUNCTION corral_guard_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.seq IS NOT NULL
           AND OLD.seq <= (SELECT COALESCE(MAX(seq), 0) FROM event_checkpoints) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the event log is append-only: prune through a checkpoint';
    END IF;
    IF OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
       AND NEW.id = OLD.id AND NEW.at = OLD.at
       AND NEW.device_id IS NOT DISTINCT FROM OLD.device_id
       AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.detail = OLD.detail
       AND NEW.detail_sha256 IS NOT DISTINCT FROM OLD.detail_sha256
       AND NEW.redacted_at IS NOT DISTINCT FROM OLD.redacted_at THEN
        RETURN NEW;
    END IF;
    -- Redaction by the retention job: only the detail goes, its SHA-256 stays hashed.
    IF OLD.detail_sha256 IS NOT NULL AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
       AND NEW.detail = '{"redacted":true}'
       AND NEW.id = OLD.id AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
       AND NEW.prev_hash = OLD.prev_hash AND NEW.at = OLD.at
       AND NEW.device_id IS NOT DISTINCT FROM OLD.device_id
       AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind
       AND NEW.detail_sha256 = OLD.detail_sha256 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
