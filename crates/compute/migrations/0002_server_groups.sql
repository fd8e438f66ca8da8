-- Server groups (os-server-groups) and their members.

CREATE TABLE compute_server_group (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- One of affinity, anti-affinity, soft-affinity, soft-anti-affinity.
    policy TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX compute_server_group_project ON compute_server_group (project_id);

CREATE TABLE compute_server_group_member (
    group_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, instance_id)
);
CREATE INDEX compute_server_group_member_instance ON compute_server_group_member (instance_id);
