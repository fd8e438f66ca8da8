-- Small identity resources kept as JSON documents: policies, OAuth1
-- consumers, endpoint groups. kind names the resource.
CREATE TABLE identity_document (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
