"""The request scenarios both sides answer (identity and image), each
probed once for a correct answer before it is measured."""

import json

from .client import Client
from .loadgen import Request


class Scenario:
    def __init__(self, key, label, build, check):
        self.key = key
        self.label = label
        self.build = build    # (target, dataset) -> Request
        self.check = check    # (target, dataset) -> None, raises when wrong


def _json_req(target, ds, url, method="GET", body=None, subject=False):
    headers = {"X-Auth-Token": ds.admin_token, "Accept": "application/json"}
    if subject:
        headers["X-Subject-Token"] = ds.subject_token
    if body is not None:
        headers["Content-Type"] = "application/json"
    return Request(url, method, headers, body)


def _expect(cond, what):
    if not cond:
        raise AssertionError(what)


def _check_list(url_of, path, key, at_least, at_most=None):
    def check(target, ds):
        body = Client(url_of(target), ds.admin_token).get(path)
        n = len(body[key])
        _expect(n >= at_least, f"{path}: {n} {key}, expected at least {at_least}")
        if at_most is not None:
            _expect(n <= at_most, f"{path}: {n} {key}, expected at most {at_most}")
    return check


def _check_issue(target, ds):
    resp, body = Client(target.identity_url).call("POST", "/auth/tokens", ds.token_body)
    _expect(resp.getheader("X-Subject-Token") and body["token"]["project"],
            "token issue: no project-scoped token")


def _check_validate(target, ds):
    body = Client(target.identity_url, ds.admin_token).get(
        "/auth/tokens", headers={"X-Subject-Token": ds.subject_token})
    _expect(body["token"]["user"]["name"] == "bench-token-user", "token validation: wrong user")


def request_scenarios(n_users, n_projects, n_images):
    ident = lambda t: t.identity_url  # noqa: E731
    image = lambda t: t.image_url  # noqa: E731
    default_page = min(25, n_images)
    return [
        Scenario("token_issue", "token issue (password, bcrypt cost 12)",
                 lambda t, ds: _json_req(t, ds, t.identity_url + "/auth/tokens", "POST",
                                         json.dumps(ds.token_body).encode()),
                 _check_issue),
        Scenario("token_validate", "token validation (GET /v3/auth/tokens)",
                 lambda t, ds: _json_req(t, ds, t.identity_url + "/auth/tokens", subject=True),
                 _check_validate),
        Scenario("users_list", f"GET /v3/users ({n_users} users)",
                 lambda t, ds: _json_req(t, ds, t.identity_url + "/users"),
                 _check_list(ident, "/users", "users", n_users)),
        Scenario("projects_list", f"GET /v3/projects ({n_projects} projects)",
                 lambda t, ds: _json_req(t, ds, t.identity_url + "/projects"),
                 _check_list(ident, "/projects", "projects", n_projects)),
        Scenario("images_list", f"GET /v2/images (default page, {n_images} images)",
                 lambda t, ds: _json_req(t, ds, t.image_url + "/v2/images"),
                 _check_list(image, "/v2/images", "images", default_page, 25)),
        Scenario("images_list_1000", f"GET /v2/images?limit=1000 ({n_images} images)",
                 lambda t, ds: _json_req(t, ds, t.image_url + "/v2/images?limit=1000"),
                 _check_list(image, "/v2/images?limit=1000", "images", n_images)),
    ]


def image_create_request(target, ds):
    body = json.dumps({"name": "bench-concurrent", "disk_format": "raw",
                       "container_format": "bare"}).encode()
    req = _json_req(target, ds, target.image_url + "/v2/images", "POST", body)
    req.count_status = True
    return req
