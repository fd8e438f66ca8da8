"""The data set, created through each server's own API (the same calls on
both sides): projects, users (no password: bcrypt would dominate), one
password user for the token scenarios, and images with 1 KiB of data."""

import time

from .client import Client, HttpError, issue_token, password_auth, pool_map

TOKEN_USER = "bench-token-user"
TOKEN_PASSWORD = "bench-token-pw"


class DataSet:
    def __init__(self, admin_token, subject_token, token_body, public_image_id, counts):
        self.admin_token = admin_token
        self.subject_token = subject_token
        self.token_body = token_body
        self.public_image_id = public_image_id
        self.counts = counts


def admin_token(target):
    identity = Client(target.identity_url)
    return issue_token(identity, password_auth("admin", target.admin_password))


def populate(target, n_users, n_projects, n_images, workers=8, log=print):
    t0 = time.monotonic()
    token = admin_token(target)
    ident = Client(target.identity_url, token)
    domain = "default"

    def mk_project(i):
        return ident.post("/projects", {"project": {
            "name": f"bench-project-{i:04d}", "domain_id": domain,
            "description": "benchmark data set"}})["project"]["id"]

    projects = pool_map(mk_project, range(n_projects), workers)

    def mk_user(i):
        ident.post("/users", {"user": {"name": f"bench-user-{i:04d}", "domain_id": domain,
                                       "email": f"user{i}@example.org"}})

    pool_map(mk_user, range(n_users), workers)
    roles = ident.get("/roles?name=member")["roles"]
    member = roles[0]["id"]
    user = ident.post("/users", {"user": {"name": TOKEN_USER, "domain_id": domain,
                                          "password": TOKEN_PASSWORD}})["user"]["id"]
    ident.put(f"/projects/{projects[0]}/users/{user}/roles/{member}")
    token_body = password_auth(TOKEN_USER, TOKEN_PASSWORD, project="bench-project-0000")
    subject = issue_token(Client(target.identity_url), token_body)
    log(f"  {target.name}: {n_projects} projects, {n_users}+1 users in "
        f"{time.monotonic() - t0:.1f}s")

    t1 = time.monotonic()
    image = Client(target.image_url, token)
    blob = bytes(range(256)) * 4

    def mk_image(i):
        for _ in range(20):
            img = _retry(lambda: image.post("/v2/images", {
                "name": f"bench-image-{i:04d}", "disk_format": "raw",
                "container_format": "bare"}))
            try:
                image.put(f"/v2/images/{img['id']}/file", blob,
                          headers={"Content-Type": "application/octet-stream"})
                return img["id"]
            except HttpError as e:
                if e.status < 500:
                    raise
            # The failed upload may have been stored after all, or left the
            # image in `saving`: keep it only when active.
            if _retry(lambda: image.get(f"/v2/images/{img['id']}"))["status"] == "active":
                return img["id"]
            try:
                _retry(lambda: image.call("DELETE", f"/v2/images/{img['id']}"))
            except HttpError:
                pass  # a retried delete whose first try went through: 400/404
        raise AssertionError("image upload kept failing")

    pool_map(mk_image, range(n_images), workers)
    public = None
    if target.compute_url:
        # One public image for the compute scenarios (servers boot from it).
        public = image.post("/v2/images", {"name": "bench-public", "disk_format": "raw",
                                           "container_format": "bare", "visibility": "public"})
        image.put(f"/v2/images/{public['id']}/file", blob,
                  headers={"Content-Type": "application/octet-stream"})
        public = public["id"]
    log(f"  {target.name}: {n_images} images in {time.monotonic() - t1:.1f}s")
    return DataSet(token, subject, token_body, public,
                   {"users": n_users + 2, "projects": n_projects + 1, "images": n_images + 1,
                    "project_ids": projects})


def _retry(fn, tries=20):
    """fn(), again after a 5xx: upstream Glance on SQLite answers some
    concurrent writes with 500 "database is locked" (measured in the
    concurrent-create scenario; while populating it is only retried)."""
    for attempt in range(tries):
        try:
            return fn()
        except HttpError as e:
            if e.status < 500 or attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")
