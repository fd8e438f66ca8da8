-- Compute quota limits set through os-quota-sets (per project, or per user
-- of a project when user_id is not '') and os-quota-class-sets.

CREATE TABLE compute_quota (
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    resource TEXT NOT NULL,
    hard_limit BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id, resource)
);

CREATE TABLE compute_quota_class (
    class_name TEXT NOT NULL,
    resource TEXT NOT NULL,
    hard_limit BIGINT NOT NULL,
    PRIMARY KEY (class_name, resource)
);
