CREATE TABLE image_task (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT,
    image_id TEXT,
    request_id TEXT,
    user_id TEXT,
    input TEXT NOT NULL,
    result TEXT,
    message TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX image_task_image ON image_task (image_id);
CREATE INDEX image_task_owner ON image_task (owner);
