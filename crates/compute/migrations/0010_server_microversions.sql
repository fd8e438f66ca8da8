-- What servers gained after microversion 2.1: a description (2.19), a
-- hostname (2.3 shows it to admins, 2.90 sets it), the reservation and
-- launch index of a multi-create (2.3), the lock reason (2.73), trusted
-- image certificates (2.63), the availability zone the server is pinned to
-- (2.96), the scheduler hints it was created with (2.100), the image's
-- properties at boot (2.98), and tags (2.26).

ALTER TABLE compute_instance ADD COLUMN description TEXT;
ALTER TABLE compute_instance ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
ALTER TABLE compute_instance ADD COLUMN reservation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE compute_instance ADD COLUMN launch_index BIGINT NOT NULL DEFAULT 0;
ALTER TABLE compute_instance ADD COLUMN locked_reason TEXT;
ALTER TABLE compute_instance ADD COLUMN trusted_certs TEXT;
ALTER TABLE compute_instance ADD COLUMN pinned_az TEXT;
ALTER TABLE compute_instance ADD COLUMN scheduler_hints TEXT NOT NULL DEFAULT '{}';
ALTER TABLE compute_instance ADD COLUMN image_properties TEXT NOT NULL DEFAULT '{}';

CREATE TABLE compute_instance_tag (
    instance_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (instance_id, tag)
);

-- Device tags of attached volumes (2.49 at attach, shown from 2.70).
ALTER TABLE compute_volume_attachment ADD COLUMN tag TEXT;

-- Device tags of a server's network interfaces (2.32/2.42+ at create, 2.49
-- at attach, shown from 2.70), by port.
CREATE TABLE compute_interface_tag (
    instance_id TEXT NOT NULL,
    port_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (instance_id, port_id)
);
