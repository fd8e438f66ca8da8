-- Keystone's [security_compliance], continued: when the user's current
-- password expires (NULL: never; set to the time of an admin's change when
-- the password must be changed upon first use), and the day (days since
-- 1970-01-01, UTC) the user last authenticated, for
-- disable_user_account_days_inactive.
ALTER TABLE identity_user ADD COLUMN password_expires_at BIGINT;
ALTER TABLE identity_user ADD COLUMN last_active_day BIGINT;
