-- Keystone's [security_compliance]: every password a user is given (its
-- hash, whether the user set it themselves), for the password history and
-- the minimum password age; and the failed password logins counted for the
-- lockout (one row per user with failures since its last good login).
CREATE TABLE identity_password_history (
    user_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    self_service BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_password_history_user ON identity_password_history (user_id, created_at);

CREATE TABLE identity_failed_auth (
    user_id TEXT PRIMARY KEY,
    failed_count BIGINT NOT NULL,
    failed_at BIGINT NOT NULL
);
