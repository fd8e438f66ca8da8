-- Trusts (OS-TRUST): a trustor delegates roles on a project to a trustee.
-- A deleted trust's row goes (no soft delete: nothing reads deleted trusts).
-- project_id and expires_at are NULL when not set; remaining_uses NULL means
-- unlimited; redelegated_trust_id names the trust this one was made from.
CREATE TABLE identity_trust (
    id TEXT PRIMARY KEY,
    trustor_user_id TEXT NOT NULL,
    trustee_user_id TEXT NOT NULL,
    project_id TEXT,
    impersonation BIGINT NOT NULL,
    expires_at BIGINT,
    remaining_uses BIGINT,
    redelegated_trust_id TEXT,
    redelegation_count BIGINT,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_trust_trustor ON identity_trust (trustor_user_id);
CREATE INDEX identity_trust_trustee ON identity_trust (trustee_user_id);
CREATE INDEX identity_trust_project ON identity_trust (project_id);
CREATE INDEX identity_trust_parent ON identity_trust (redelegated_trust_id);

CREATE TABLE identity_trust_role (
    trust_id TEXT NOT NULL REFERENCES identity_trust(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL,
    PRIMARY KEY (trust_id, role_id)
);
