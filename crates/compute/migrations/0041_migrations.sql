-- Migration records (os-migrations, /servers/{id}/migrations): one row per
-- resize, cold or live migration, with Nova's statuses.
CREATE TABLE compute_migration (
    id BIGINT PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    instance_uuid TEXT NOT NULL,
    migration_type TEXT NOT NULL,
    status TEXT NOT NULL,
    source_compute TEXT,
    source_node TEXT,
    dest_compute TEXT,
    dest_node TEXT,
    dest_host TEXT,
    old_flavor_id TEXT,
    new_flavor_id TEXT,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX compute_migration_instance ON compute_migration (instance_uuid);
