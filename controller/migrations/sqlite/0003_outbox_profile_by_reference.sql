-- A profile push no longer carries a copy of the profile text: its outbox row names its
-- delivery, and the delivery names the profile_versions row that holds the text once.
-- `body` is only for other pushes (commands); exactly one of body and delivery_id is set.
-- Keep in step with ../postgres/0003_outbox_profile_by_reference.sql. SQLite cannot drop
-- NOT NULL in place, so the table is rebuilt (nothing references outbox).

CREATE TABLE outbox_new (
    device_id     TEXT NOT NULL REFERENCES devices (id),
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT,
    delivery_id   BIGINT REFERENCES deliveries (id),
    created_at    BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   BIGINT,
    last_sent_at  BIGINT,
    acked_at      BIGINT,
    superseded_at BIGINT,
    PRIMARY KEY (device_id, seq),
    CHECK ((body IS NULL) <> (delivery_id IS NULL))
);
INSERT INTO outbox_new (device_id, seq, kind, body, delivery_id, created_at, attempts,
                        lease_owner, lease_until, last_sent_at, acked_at, superseded_at)
SELECT device_id, seq, kind, CASE WHEN delivery_id IS NULL THEN body END, delivery_id,
       created_at, attempts, lease_owner, lease_until, last_sent_at, acked_at, superseded_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (device_id, seq) WHERE acked_at IS NULL AND superseded_at IS NULL;
