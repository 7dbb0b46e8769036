-- The fleet page's groups, bulk actions and phones being provisioned (issue 6). Keep in
-- step with ../postgres/0012_fleet_groups.sql. "Enrolling" and "failed" phones are the
-- serials whose latest provisioning run has no device row yet, looked up by serial; the
-- group list and the group filter count and select by group and status.

CREATE INDEX devices_by_serial ON devices (serial);
CREATE INDEX devices_by_group_status ON devices (group_name, status);
CREATE INDEX devices_by_enrolled ON devices (enrolled_at, id);
