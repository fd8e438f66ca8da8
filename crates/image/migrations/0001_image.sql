CREATE TABLE image_image (
    id TEXT PRIMARY KEY,
    name TEXT,
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    owner TEXT,
    disk_format TEXT,
    container_format TEXT,
    size BIGINT,
    virtual_size BIGINT,
    checksum TEXT,
    os_hash_algo TEXT,
    os_hash_value TEXT,
    min_disk BIGINT NOT NULL,
    min_ram BIGINT NOT NULL,
    protected BIGINT NOT NULL,
    os_hidden BIGINT NOT NULL,
    properties TEXT NOT NULL,
    upload_token TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX image_image_owner ON image_image (owner);
CREATE TABLE image_tag (
    image_id TEXT NOT NULL REFERENCES image_image (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (image_id, tag)
);
CREATE TABLE image_member (
    image_id TEXT NOT NULL REFERENCES image_image (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (image_id, member_id)
);
CREATE INDEX image_member_member ON image_member (member_id);
