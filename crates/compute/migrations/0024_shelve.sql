-- The snapshot image a shelved server is kept as (Nova's system metadata
-- `shelved_image_id`); NULL when the server is not shelved or is
-- volume-backed.
ALTER TABLE compute_instance ADD COLUMN shelved_image_id TEXT;
