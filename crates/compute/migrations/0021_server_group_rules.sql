-- Microversion 2.64: an anti-affinity group may carry the rule
-- max_server_per_host (NULL: no rule, Nova's default of 1).

ALTER TABLE compute_server_group ADD COLUMN max_server_per_host BIGINT;
