-- Server lists page in list order (newest first: created_at, then id) in
-- the database: these indexes let a page read its own rows only, for all
-- projects (admin, all_tenants) and for one project.

CREATE INDEX compute_instance_created ON compute_instance (created_at, id);
CREATE INDEX compute_instance_project_created ON compute_instance (project_id, created_at, id);
