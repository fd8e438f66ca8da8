"""Small helpers for talking to the Identity API over plain HTTP.

Only `requests` is used, so the tests see exactly what goes over the wire.
"""

import re
import secrets

import requests

TIMEOUT = 15
REQUEST_ID_RE = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def uniq(prefix):
    return f"{prefix}-{secrets.token_hex(4)}"


def password_auth(user=None, password=None, *, user_id=None, domain_id="default",
                  domain_name=None, scope=None):
    """Body for POST /v3/auth/tokens with the password method."""
    u = {"password": password}
    if user_id:
        u["id"] = user_id
    else:
        u["name"] = user
        u["domain"] = {"name": domain_name} if domain_name else {"id": domain_id}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": u}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def project_scope(project_id=None, name=None, domain_id="default"):
    if project_id:
        return {"project": {"id": project_id}}
    return {"project": {"name": name, "domain": {"id": domain_id}}}


def assert_keystone_error(resp, status=None):
    """The body is Keystone's error document and matches the status code."""
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert err.get("code") == resp.status_code, body
    assert isinstance(err.get("message"), str) and err["message"].strip(), body
    assert isinstance(err.get("title"), str) and err["title"].strip(), body
    return err


class Identity:
    """A thin client for one server: `ks.get("/v3/users", token=...)`."""

    def __init__(self, server, token=None):
        self.server = server
        self.base = server.identity_url
        self.token = token
        self.http = requests.Session()

    def request(self, method, path, token=..., expect=None, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        tok = self.token if token is ... else token
        if tok:
            headers.setdefault("X-Auth-Token", tok)
        kw.setdefault("timeout", TIMEOUT)
        r = self.http.request(method, self.base + path, headers=headers, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path} -> {r.status_code} (wanted {expect}): {r.text[:800]}"
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- tokens -------------------------------------------------------------
    def issue(self, body, expect=201, query=""):
        r = self.post("/v3/auth/tokens" + query, json=body, token=None, expect=expect)
        return r.headers.get("X-Subject-Token"), (r.json() if r.content else None)

    def validate(self, subject, token=..., query=""):
        return self.get("/v3/auth/tokens" + query, token=token,
                        headers={"X-Subject-Token": subject})

    # -- fixtures-as-functions ---------------------------------------------
    def role_id(self, name):
        r = self.get("/v3/roles", params={"name": name}, expect=200)
        roles = [x for x in r.json()["roles"] if x["name"] == name]
        assert len(roles) == 1, r.json()
        return roles[0]["id"]

    def create_project(self, name=None, domain_id="default", **extra):
        body = {"project": {"name": name or uniq("proj"), "domain_id": domain_id, **extra}}
        return self.post("/v3/projects", json=body, expect=201).json()["project"]

    def create_user(self, name=None, password=None, domain_id="default", **extra):
        password = password or "pw-" + secrets.token_hex(8)
        body = {"user": {"name": name or uniq("user"), "password": password,
                         "domain_id": domain_id, **extra}}
        user = self.post("/v3/users", json=body, expect=201).json()["user"]
        user["_password"] = password
        return user

    def grant_project(self, project_id, user_id, role_name):
        self.put(f"/v3/projects/{project_id}/users/{user_id}/roles/{self.role_id(role_name)}",
                 expect=204)

    def user_with_role(self, role_name="member", project=None):
        """A new user with `role_name` on `project` (new project if None).

        Returns (user, project, token scoped to that project)."""
        project = project or self.create_project()
        user = self.create_user()
        self.grant_project(project["id"], user["id"], role_name)
        tok, _ = self.issue(password_auth(user["name"], user["_password"],
                                          scope=project_scope(project["id"])))
        return user, project, tok
