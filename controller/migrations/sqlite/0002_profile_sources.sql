-- The source text of each profile as last uploaded through the REST API, so a later
-- upload can extend it without sending it again, and children are re-resolved when it
-- changes. Keep in step with ../postgres/0002_profile_sources.sql.

CREATE TABLE profile_sources (
    profile_name TEXT PRIMARY KEY REFERENCES profiles (name),
    file_name    TEXT NOT NULL,
    source       TEXT NOT NULL,
    -- The profile it extends directly (NULL for a root), to find children.
    parent       TEXT,
    uploaded_at  BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL
);
CREATE INDEX profile_sources_by_parent ON profile_sources (parent);
