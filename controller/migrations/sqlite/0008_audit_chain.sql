-- The hash-chained audit log (issue 6). Keep in step with ../postgres/0008_audit_chain.sql.
-- Every event gets its chain position (seq), the previous event's hash and its own hash
-- (controller/src/audit_chain.rs defines the encoding). Rows written before this migration
-- are sealed into the chain once, in id order, when the store opens; that is the only
-- UPDATE the log allows. `event_chain` is the head (last seq and hash), so a cut-off tail
-- is detected; `event_checkpoints` records prunes: only entries at or below the latest
-- checkpoint may be deleted, and a checkpoint itself is never changed.

ALTER TABLE events ADD COLUMN seq BIGINT;
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX events_by_seq ON events (seq);

CREATE TABLE event_chain (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL
);
INSERT INTO event_chain (singleton, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE event_checkpoints (
    seq      BIGINT PRIMARY KEY,
    hash     TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    pruned   BIGINT NOT NULL
);
CREATE TRIGGER event_checkpoints_are_immutable_update BEFORE UPDATE ON event_checkpoints
BEGIN SELECT RAISE(ABORT, 'event checkpoints are immutable'); END;
CREATE TRIGGER event_checkpoints_are_immutable_delete BEFORE DELETE ON event_checkpoints
BEGIN SELECT RAISE(ABORT, 'event checkpoints are immutable'); END;

DROP TRIGGER events_are_append_only_update;
DROP TRIGGER events_are_append_only_delete;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
WHEN NOT (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
          AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.device_id IS OLD.device_id
          AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.detail = OLD.detail)
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
WHEN OLD.seq IS NULL OR OLD.seq > (SELECT COALESCE(MAX(seq), 0) FROM event_checkpoints)
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: prune through a checkpoint'); END;
