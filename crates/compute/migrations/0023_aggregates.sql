-- Host aggregates (os-aggregates): metadata (availability_zone among it)
-- and member hosts, as JSON.

CREATE TABLE compute_aggregate (
    id BIGINT PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    metadata TEXT NOT NULL,
    hosts TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
