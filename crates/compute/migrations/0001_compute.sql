-- Compute (Nova) schema: flavors, keypairs, instances and their durable
-- tasks. TEXT and BIGINT only; booleans 0/1; times in microseconds.

CREATE TABLE compute_flavor (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    ram BIGINT NOT NULL,
    vcpus BIGINT NOT NULL,
    disk BIGINT NOT NULL,
    ephemeral BIGINT NOT NULL DEFAULT 0,
    swap BIGINT NOT NULL DEFAULT 0,
    rxtx_factor TEXT NOT NULL DEFAULT '1.0',
    is_public BIGINT NOT NULL DEFAULT 1,
    disabled BIGINT NOT NULL DEFAULT 0,
    description TEXT,
    extra_specs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE compute_flavor_access (
    flavor_id TEXT NOT NULL REFERENCES compute_flavor(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    PRIMARY KEY (flavor_id, project_id)
);

-- Keypairs belong to a user; names are unique per user.
CREATE TABLE compute_keypair (
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'ssh',
    public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE compute_instance (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    image_id TEXT NOT NULL DEFAULT '',
    flavor_id TEXT NOT NULL,
    flavor TEXT NOT NULL,
    vm_state TEXT NOT NULL,
    task_state TEXT,
    power_state BIGINT NOT NULL DEFAULT 0,
    key_name TEXT,
    key_data TEXT,
    availability_zone TEXT NOT NULL DEFAULT 'nova',
    metadata TEXT NOT NULL DEFAULT '{}',
    user_data TEXT,
    security_groups TEXT NOT NULL DEFAULT '[]',
    requested_networks TEXT NOT NULL DEFAULT '"auto"',
    block_devices TEXT NOT NULL DEFAULT '[]',
    access_ipv4 TEXT NOT NULL DEFAULT '',
    access_ipv6 TEXT NOT NULL DEFAULT '',
    disk_config TEXT NOT NULL DEFAULT 'MANUAL',
    config_drive TEXT NOT NULL DEFAULT '',
    locked BIGINT NOT NULL DEFAULT 0,
    locked_by TEXT,
    host TEXT,
    progress BIGINT NOT NULL DEFAULT 0,
    fault TEXT,
    -- Set while a resize awaits confirmation: {"flavor", "vm_state"} before it.
    old_flavor TEXT,
    launched_at BIGINT,
    terminated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX compute_instance_project ON compute_instance (project_id, deleted_at);

-- Volumes attached to instances.
CREATE TABLE compute_volume_attachment (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES compute_instance(id) ON DELETE CASCADE,
    volume_id TEXT NOT NULL,
    device TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    delete_on_termination BIGINT NOT NULL DEFAULT 0,
    boot_index BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (volume_id)
);

-- Durable work for the instance worker: state pending -> running -> done.
CREATE TABLE compute_task (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX compute_task_state ON compute_task (state, created_at);
