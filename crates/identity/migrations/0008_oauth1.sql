-- OAuth1 delegation (OS-OAUTH1): a consumer's request tokens (authorized by
-- a user for a project, with roles and a verifier) and the access tokens
-- they are exchanged for. A consumer's secret lives in its document
-- (identity_document, kind 'consumer'). Role ids are a JSON list; times
-- are microseconds since the epoch (expires_at NULL: never).
CREATE TABLE identity_oauth1_request_token (
    id TEXT PRIMARY KEY,
    request_secret TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    requested_project_id TEXT NOT NULL,
    verifier TEXT,
    authorizing_user_id TEXT,
    role_ids TEXT,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_oauth1_request_token_consumer ON identity_oauth1_request_token (consumer_id);

CREATE TABLE identity_oauth1_access_token (
    id TEXT PRIMARY KEY,
    access_secret TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    authorizing_user_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    role_ids TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_oauth1_access_token_consumer ON identity_oauth1_access_token (consumer_id);
CREATE INDEX identity_oauth1_access_token_user ON identity_oauth1_access_token (authorizing_user_id);
