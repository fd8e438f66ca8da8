-- Compute services (os-services): one row per (host, binary); each process
-- registers its host at start and the worker keeps updated_at fresh.

CREATE TABLE compute_service (
    id BIGINT PRIMARY KEY,
    host TEXT NOT NULL,
    binary_name TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (host, binary_name)
);
