-- Application credential access rules, kept per user as Keystone does: an
-- application credential names rules by id (its access_rules column holds
-- {id, service, path, method} copies); a rule outlives the credentials that
-- used it until deleted, and the same service/path/method of one user is
-- one rule.
CREATE TABLE identity_access_rule (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    service TEXT NOT NULL,
    path TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, service, path, method)
);
