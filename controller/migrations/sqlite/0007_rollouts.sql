-- Staged rollouts (issue 6): a profile's next version goes to one group first; every
-- other phone stays on `current_version` until an admin promotes it (a normal publish of
-- the staged source) or aborts it. Keep in step with ../postgres/0007_rollouts.sql.
-- The staged source is kept here, not in profile_sources, so the profile's source stays
-- the one its current version was made from until the promotion.

ALTER TABLE profiles ADD COLUMN rollout_version TEXT;
ALTER TABLE profiles ADD COLUMN rollout_group TEXT;
ALTER TABLE profiles ADD COLUMN rollout_file_name TEXT;
ALTER TABLE profiles ADD COLUMN rollout_source TEXT;
ALTER TABLE profiles ADD COLUMN rollout_started_at BIGINT;
ALTER TABLE profiles ADD COLUMN rollout_started_by TEXT;
