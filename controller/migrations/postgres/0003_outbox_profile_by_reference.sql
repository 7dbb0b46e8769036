-- A profile push no longer carries a copy of the profile text: its outbox row names its
-- delivery, and the delivery names the profile_versions row that holds the text once.
-- `body` is only for other pushes (commands); exactly one of body and delivery_id is set.
-- Keep in step with ../sqlite/0003_outbox_profile_by_reference.sql.

ALTER TABLE outbox ALTER COLUMN body DROP NOT NULL;
UPDATE outbox SET body = NULL WHERE delivery_id IS NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_body_or_delivery
    CHECK ((body IS NULL) <> (delivery_id IS NULL));
