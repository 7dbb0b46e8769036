-- The hash-chained audit log (issue 6). Keep in step with ../sqlite/0008_audit_chain.sql.
-- Every event gets its chain position (seq), the previous event's hash and its own hash
-- (controller/src/audit_chain.rs defines the encoding). Rows written before this migration
-- are sealed into the chain once, in id order, when the store opens; that is the only
-- UPDATE the log allows. `event_chain` is the head (last seq and hash), so a cut-off tail
-- is detected; `event_checkpoints` records prunes: only entries at or below the latest
-- checkpoint may be deleted, and a checkpoint itself is never changed. TRUNCATE is refused.

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
CREATE TRIGGER event_checkpoints_are_immutable BEFORE UPDATE OR DELETE ON event_checkpoints
FOR EACH ROW EXECUTE FUNCTION corral_refuse_change('event checkpoints are immutable');
CREATE TRIGGER event_checkpoints_no_truncate BEFORE TRUNCATE ON event_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION corral_refuse_change('event checkpoints are immutable');

DROP TRIGGER events_are_append_only ON events;
CREATE FUNCTION corral_guard_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
       AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.detail = OLD.detail THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION corral_guard_events();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION corral_refuse_change('the event log is append-only');
