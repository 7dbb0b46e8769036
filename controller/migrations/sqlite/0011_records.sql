-- Records of processing, retention and redactable audit detail (issue 7). Keep in step
-- with ../postgres/0011_records.sql.
--
-- 1. `privacy_record_fields`: what only a person can know for the records of processing
--    (Art. 30): controller name and address, DPO, processors, transfers, extra purposes.
--    One row per field, the latest value with who changed it and when; every change is
--    also an audit event (`privacy.records_updated`), which is the history.
-- 2. `retention_runs`: one row per run of the retention job with its counts.
-- 3. Events get `detail_sha256`: from this migration on, an event's hash covers the
--    SHA-256 of its detail instead of the detail itself (encoding `corral-event-v2`,
--    controller/src/audit_chain.rs), so the retention job can redact an old entry's detail
--    (`redacted_at` set, detail replaced by {"redacted":true}) and the chain still verifies.
--    Rows sealed before (detail_sha256 NULL) keep encoding v1 and are only ever pruned.

CREATE TABLE privacy_record_fields (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE retention_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    contacts_erased  BIGINT NOT NULL,
    events_pruned    BIGINT NOT NULL,
    details_redacted BIGINT NOT NULL
);

ALTER TABLE events ADD COLUMN detail_sha256 TEXT;
ALTER TABLE events ADD COLUMN redacted_at BIGINT;
CREATE INDEX events_by_at ON events (at);

DROP TRIGGER events_are_append_only_update;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
WHEN NOT (
    (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.device_id IS OLD.device_id
     AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.detail = OLD.detail
     AND NEW.detail_sha256 IS OLD.detail_sha256 AND NEW.redacted_at IS OLD.redacted_at)
    OR
    (OLD.detail_sha256 IS NOT NULL AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
     AND NEW.detail = '{"redacted":true}'
     AND NEW.id = OLD.id AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
     AND NEW.prev_hash = OLD.prev_hash AND NEW.at = OLD.at AND NEW.device_id IS OLD.device_id
     AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.detail_sha256 = OLD.detail_sha256))
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
