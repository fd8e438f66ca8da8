CREATE TABLE image_md_namespace (
    namespace TEXT PRIMARY KEY,
    display_name TEXT,
    description TEXT,
    visibility TEXT NOT NULL,
    protected BIGINT NOT NULL,
    owner TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE image_md_resource_type (
    name TEXT PRIMARY KEY,
    protected BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE image_md_association (
    namespace TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    prefix TEXT,
    properties_target TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, resource_type)
);
CREATE TABLE image_md_item (
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, kind, name)
);
CREATE TABLE image_md_seed (
    version BIGINT PRIMARY KEY
);
