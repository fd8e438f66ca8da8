-- Microversions 2.11 and 2.53: a service can be forced down, and services
-- and hypervisors (compute nodes) are known by UUID (filled in by the
-- process that registers the host).

ALTER TABLE compute_service ADD COLUMN uuid TEXT;
ALTER TABLE compute_service ADD COLUMN node_uuid TEXT;
ALTER TABLE compute_service ADD COLUMN forced_down BIGINT NOT NULL DEFAULT 0;
