-- The (encrypted) password a guest posted to the metadata service, once
-- (Nova's system metadata password_0..3); NULL when none or cleared.
ALTER TABLE compute_instance ADD COLUMN password TEXT;
