-- One row counting identity writes: every process bumps it after a write
-- that can change what a token validates to, and compares it before trusting
-- its token validation cache (PostgreSQL, where several processes share the
-- database).
CREATE TABLE identity_generation (
    id BIGINT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO identity_generation (id, n) VALUES (1, 0);
