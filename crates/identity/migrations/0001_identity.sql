-- Identity (Keystone) schema. Only TEXT and BIGINT columns, so the same file
-- runs on SQLite and PostgreSQL. Booleans are 0/1, times are microseconds.

CREATE TABLE identity_domain (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    enabled BIGINT NOT NULL DEFAULT 1,
    extra TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE identity_project (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL REFERENCES identity_domain(id),
    parent_id TEXT,
    description TEXT NOT NULL DEFAULT '',
    enabled BIGINT NOT NULL DEFAULT 1,
    extra TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    UNIQUE (domain_id, name)
);
CREATE INDEX identity_project_parent ON identity_project (parent_id);

CREATE TABLE identity_project_tag (
    project_id TEXT NOT NULL REFERENCES identity_project(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE identity_user (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL REFERENCES identity_domain(id),
    enabled BIGINT NOT NULL DEFAULT 1,
    default_project_id TEXT,
    password_hash TEXT,
    password_created_at BIGINT,
    description TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_group (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL REFERENCES identity_domain(id),
    description TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_group_member (
    group_id TEXT NOT NULL REFERENCES identity_group(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES identity_user(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX identity_group_member_user ON identity_group_member (user_id);

-- domain_id is '' for global roles, so (name, domain_id) can be unique.
CREATE TABLE identity_role (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL DEFAULT '',
    description TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    UNIQUE (name, domain_id)
);

CREATE TABLE identity_implied_role (
    prior_role_id TEXT NOT NULL REFERENCES identity_role(id) ON DELETE CASCADE,
    implied_role_id TEXT NOT NULL REFERENCES identity_role(id) ON DELETE CASCADE,
    PRIMARY KEY (prior_role_id, implied_role_id)
);

-- actor_type: user|group; target_type: project|domain|system ('all').
CREATE TABLE identity_assignment (
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES identity_role(id) ON DELETE CASCADE,
    inherited BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id, inherited)
);
CREATE INDEX identity_assignment_target ON identity_assignment (target_type, target_id);
CREATE INDEX identity_assignment_role ON identity_assignment (role_id);

CREATE TABLE identity_region (
    id TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    parent_region_id TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE identity_service (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    extra TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE identity_endpoint (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES identity_service(id) ON DELETE CASCADE,
    interface TEXT NOT NULL,
    region_id TEXT,
    url TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    extra TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE identity_application_credential (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES identity_user(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    description TEXT,
    expires_at BIGINT,
    unrestricted BIGINT NOT NULL DEFAULT 0,
    roles TEXT NOT NULL DEFAULT '[]',
    access_rules TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE identity_credential (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    project_id TEXT,
    type TEXT NOT NULL,
    blob TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

-- A token matches an event when every non-null column of the event matches
-- it and the token was issued at or before issued_before.
CREATE TABLE identity_revocation_event (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    project_id TEXT,
    domain_id TEXT,
    audit_id TEXT,
    issued_before BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX identity_revocation_issued ON identity_revocation_event (issued_before);
