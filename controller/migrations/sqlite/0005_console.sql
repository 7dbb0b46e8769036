-- What the web console shows and filters on (issue 6). Keep in step with
-- ../postgres/0005_console.sql. The phone's model and Android release as it reported them
-- at enrollment (NULL for phones enrolled before this migration), and indexes for the
-- fleet page's search and sort and the audit log's filters, so both stay fast with
-- 10,000 phones.

ALTER TABLE devices ADD COLUMN model TEXT;
ALTER TABLE devices ADD COLUMN android_release TEXT;
CREATE INDEX devices_by_name ON devices (name, id);
CREATE INDEX devices_by_last_seen ON devices (last_seen_at, id);
CREATE INDEX events_by_kind ON events (kind, id);
CREATE INDEX events_by_actor ON events (actor, id);
