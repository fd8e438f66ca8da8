-- Instance actions (os-instance-actions) and their events.

CREATE TABLE compute_instance_action (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    action TEXT NOT NULL,
    request_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    message TEXT,
    start_time BIGINT NOT NULL
);
CREATE INDEX compute_instance_action_instance ON compute_instance_action (instance_id, start_time);

CREATE TABLE compute_instance_action_event (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL,
    event TEXT NOT NULL,
    start_time BIGINT NOT NULL,
    finish_time BIGINT,
    result TEXT,
    traceback TEXT
);
CREATE INDEX compute_instance_action_event_action ON compute_instance_action_event (action_id);
