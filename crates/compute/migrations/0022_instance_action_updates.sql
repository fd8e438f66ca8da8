-- Microversions 2.58 and 2.62: an action's last change (updated_at, moved
-- on by each event) and the host an event ran on.

ALTER TABLE compute_instance_action ADD COLUMN updated_at BIGINT;
ALTER TABLE compute_instance_action_event ADD COLUMN host TEXT;
