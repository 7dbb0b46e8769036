-- Provisioning over ADB (issue 5), SQLite flavour. Keep in step with
-- ../postgres/0004_provisioning.sql. One run per attempt on one phone, one row per step
-- the run started; nothing is updated after it is finished, so the record of every
-- attempt survives the next one.

CREATE TABLE provisioning_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    serial       TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    outcome      TEXT CHECK (outcome IN ('done', 'failed', 'interrupted')),
    error        TEXT,
    device_id    TEXT,
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX provisioning_runs_by_serial ON provisioning_runs (serial, id);

CREATE TABLE provisioning_steps (
    run_id      BIGINT NOT NULL REFERENCES provisioning_runs (id),
    step        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT CHECK (outcome IN ('done', 'unchanged', 'failed')),
    detail      TEXT,
    error       TEXT,
    PRIMARY KEY (run_id, step),
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
