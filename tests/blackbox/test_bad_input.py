"""Bad-input sweep over the Identity API.

Every case is generated from ROUTES below: malformed JSON, JSON that is not
an object, missing required fields, wrong-typed fields, unknown ids, oversized
bodies and missing/garbage/revoked tokens. Each answer must be a 4xx with
Keystone's error document ({"error": {"code", "message", "title"}}), never a
5xx, and the server must still be healthy afterwards.

One server per backend is shared by the whole module (a few hundred requests
against fresh servers would be slow); the sweep only sends requests that must
be refused, so the shared state does not drift.
"""

import base64
import json
import os
import secrets
import struct
import time

import pytest
import requests

import ferro
from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq

UNKNOWN = "f" * 8 + "0" * 24          # a well-formed id nothing has
BIG = 2 * 1024 * 1024                 # over the 1 MiB limit


# ---------------------------------------------------------------------------
# the route table
# ---------------------------------------------------------------------------
# kind of each body field: "str" (non-null string), "nstr" (string, null allowed),
# "bool", "list" (list of strings), "id" (an id string).

class Route:
    def __init__(self, method, path, *, wrapper=None, fields=None, required=(), valid=None,
                 auth="admin", unknown=None, unknown_ok=None, no_unknown=()):
        self.method = method
        self.path = path
        self.wrapper = wrapper          # top-level key of the body, e.g. "user"
        self.fields = fields or {}
        self.required = tuple(required)
        self.valid = valid              # a valid body (callable(state) or dict) for unknown-id cases
        self.auth = auth                # "admin" | "user" | "none"
        self.unknown_ok = unknown_ok or {404}
        self.no_unknown = set(no_unknown)  # path params not to replace by an unknown id

    @property
    def has_body(self):
        return self.valid is not None

    def params(self):
        out, rest = [], self.path
        while "{" in rest:
            start = rest.index("{")
            end = rest.index("}", start)
            out.append(rest[start + 1:end])
            rest = rest[end + 1:]
        return out

    def label(self):
        return f"{self.method} {self.path}"


S = "str"
N = "nstr"
B = "bool"
L = "list"
I = "id"

ROUTES = [
    # --- auth ---------------------------------------------------------------
    Route("GET", "/v3/auth/catalog"),
    Route("GET", "/v3/auth/projects"),
    Route("GET", "/v3/auth/domains"),
    Route("GET", "/v3/auth/system"),
    Route("GET", "/v3/auth/tokens"),
    Route("HEAD", "/v3/auth/tokens"),
    # (DELETE /v3/auth/tokens and POST /v3/auth/tokens have their own cases below)
    # --- domains ------------------------------------------------------------
    Route("GET", "/v3/domains"),
    Route("POST", "/v3/domains", wrapper="domain",
          fields={"name": S, "description": N, "enabled": B}, required=["name"],
          valid=lambda st: {"domain": {"name": uniq("d")}}),
    Route("GET", "/v3/domains/{domain_id}"),
    Route("PATCH", "/v3/domains/{domain_id}", wrapper="domain",
          fields={"name": S, "description": N, "enabled": B},
          valid=lambda st: {"domain": {"description": "x"}}),
    Route("DELETE", "/v3/domains/{domain_id}"),
    # --- projects -----------------------------------------------------------
    Route("GET", "/v3/projects"),
    Route("POST", "/v3/projects", wrapper="project",
          fields={"name": S, "description": N, "enabled": B, "domain_id": I, "is_domain": B,
                  "parent_id": I, "tags": L},
          required=["name"], valid=lambda st: {"project": {"name": uniq("p")}}),
    Route("GET", "/v3/projects/{project_id}"),
    Route("PATCH", "/v3/projects/{project_id}", wrapper="project",
          fields={"name": S, "description": N, "enabled": B, "tags": L},
          valid=lambda st: {"project": {"description": "x"}}),
    Route("DELETE", "/v3/projects/{project_id}"),
    Route("GET", "/v3/projects/{project_id}/tags"),
    Route("PUT", "/v3/projects/{project_id}/tags", valid=lambda st: {"tags": ["a"]}),
    Route("DELETE", "/v3/projects/{project_id}/tags"),
    Route("GET", "/v3/projects/{project_id}/tags/{tag}"),
    Route("PUT", "/v3/projects/{project_id}/tags/{tag}", no_unknown=["tag"]),
    Route("DELETE", "/v3/projects/{project_id}/tags/{tag}"),
    # --- users --------------------------------------------------------------
    Route("GET", "/v3/users"),
    Route("POST", "/v3/users", wrapper="user",
          fields={"name": S, "domain_id": I, "password": N, "enabled": B,
                  "default_project_id": I, "description": N},
          required=["name"], valid=lambda st: {"user": {"name": uniq("u")}}),
    Route("GET", "/v3/users/{user_id}"),
    Route("PATCH", "/v3/users/{user_id}", wrapper="user",
          fields={"name": S, "password": N, "enabled": B, "description": N},
          valid=lambda st: {"user": {"description": "x"}}),
    Route("DELETE", "/v3/users/{user_id}"),
    Route("POST", "/v3/users/{user_id}/password", wrapper="user", auth="user",
          fields={"password": N, "original_password": S},
          required=["password", "original_password"],
          valid=lambda st: {"user": {"password": "x-new", "original_password": "x-old"}},
          unknown_ok={401, 403, 404}),
    Route("GET", "/v3/users/{user_id}/groups"),
    Route("GET", "/v3/users/{user_id}/projects", unknown_ok={200, 404}),
    Route("GET", "/v3/users/{user_id}/application_credentials", auth="user",
          unknown_ok={200, 403, 404}),
    Route("POST", "/v3/users/{user_id}/application_credentials", auth="user",
          wrapper="application_credential",
          fields={"name": S, "description": N, "secret": N, "unrestricted": B, "expires_at": N},
          required=["name"], valid=lambda st: {"application_credential": {"name": uniq("ac")}},
          unknown_ok={403, 404}),
    Route("GET", "/v3/users/{user_id}/application_credentials/{app_cred_id}", auth="user",
          unknown_ok={403, 404}),
    Route("DELETE", "/v3/users/{user_id}/application_credentials/{app_cred_id}", auth="user",
          unknown_ok={403, 404}),
    # --- groups -------------------------------------------------------------
    Route("GET", "/v3/groups"),
    Route("POST", "/v3/groups", wrapper="group",
          fields={"name": S, "description": N, "domain_id": I}, required=["name"],
          valid=lambda st: {"group": {"name": uniq("g")}}),
    Route("GET", "/v3/groups/{group_id}"),
    Route("PATCH", "/v3/groups/{group_id}", wrapper="group",
          fields={"name": S, "description": N},
          valid=lambda st: {"group": {"description": "x"}}),
    Route("DELETE", "/v3/groups/{group_id}"),
    Route("GET", "/v3/groups/{group_id}/users"),
    Route("PUT", "/v3/groups/{group_id}/users/{user_id}"),
    Route("HEAD", "/v3/groups/{group_id}/users/{user_id}"),
    Route("DELETE", "/v3/groups/{group_id}/users/{user_id}"),
    # --- roles and implied roles --------------------------------------------
    Route("GET", "/v3/roles"),
    Route("POST", "/v3/roles", wrapper="role", fields={"name": S, "description": N},
          required=["name"], valid=lambda st: {"role": {"name": uniq("r")}}),
    Route("GET", "/v3/roles/{role_id}"),
    Route("PATCH", "/v3/roles/{role_id}", wrapper="role", fields={"name": S, "description": N},
          valid=lambda st: {"role": {"description": "x"}}),
    Route("DELETE", "/v3/roles/{role_id}"),
    Route("GET", "/v3/roles/{prior_role_id}/implies"),
    Route("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("GET", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("HEAD", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    Route("GET", "/v3/role_inferences"),
    # --- role assignments ---------------------------------------------------
    Route("GET", "/v3/role_assignments"),
    Route("GET", "/v3/projects/{project_id}/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/projects/{project_id}/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    Route("GET", "/v3/domains/{domain_id}/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/domains/{domain_id}/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}"),
    Route("GET", "/v3/system/users/{user_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("HEAD", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("DELETE", "/v3/system/users/{user_id}/roles/{role_id}"),
    Route("GET", "/v3/system/groups/{group_id}/roles", unknown_ok={200, 404}),
    Route("PUT", "/v3/system/groups/{group_id}/roles/{role_id}"),
    Route("HEAD", "/v3/system/groups/{group_id}/roles/{role_id}"),
    Route("DELETE", "/v3/system/groups/{group_id}/roles/{role_id}"),
    # --- regions ------------------------------------------------------------
    Route("GET", "/v3/regions"),
    Route("POST", "/v3/regions", wrapper="region",
          fields={"id": S, "description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"id": uniq("R")}}),
    Route("PUT", "/v3/regions/{new_region_id}", wrapper="region",
          fields={"description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"description": "x"}}, no_unknown=["new_region_id"]),
    Route("GET", "/v3/regions/{region_id}"),
    Route("PATCH", "/v3/regions/{region_id}", wrapper="region",
          fields={"description": N, "parent_region_id": I},
          valid=lambda st: {"region": {"description": "x"}}),
    Route("DELETE", "/v3/regions/{region_id}"),
    # --- services -----------------------------------------------------------
    Route("GET", "/v3/services"),
    Route("POST", "/v3/services", wrapper="service",
          fields={"type": S, "name": S, "description": N, "enabled": B}, required=["type"],
          valid=lambda st: {"service": {"type": "t-" + uniq("s")}}),
    Route("GET", "/v3/services/{service_id}"),
    Route("PATCH", "/v3/services/{service_id}", wrapper="service",
          fields={"type": S, "name": S, "description": N, "enabled": B},
          valid=lambda st: {"service": {"description": "x"}}),
    Route("DELETE", "/v3/services/{service_id}"),
    # --- endpoints ----------------------------------------------------------
    Route("GET", "/v3/endpoints"),
    Route("POST", "/v3/endpoints", wrapper="endpoint",
          fields={"service_id": I, "interface": S, "url": S, "region_id": I, "enabled": B},
          required=["service_id", "interface", "url"],
          valid=lambda st: {"endpoint": {"service_id": st["service_id"], "interface": "public",
                                         "url": "http://127.0.0.1:9/x"}}),
    Route("GET", "/v3/endpoints/{endpoint_id}"),
    Route("PATCH", "/v3/endpoints/{endpoint_id}", wrapper="endpoint",
          fields={"interface": S, "url": S, "enabled": B, "service_id": I},
          valid=lambda st: {"endpoint": {"url": "http://127.0.0.1:9/y"}}),
    Route("DELETE", "/v3/endpoints/{endpoint_id}"),
    # --- credentials --------------------------------------------------------
    Route("GET", "/v3/credentials"),
    Route("POST", "/v3/credentials", wrapper="credential",
          fields={"type": S, "user_id": I, "blob": S, "project_id": I},
          required=["type", "user_id", "blob"],
          valid=lambda st: {"credential": {"type": "cert", "user_id": st["user_id"],
                                           "blob": "b-" + uniq("c")}}),
    Route("GET", "/v3/credentials/{credential_id}"),
    Route("PATCH", "/v3/credentials/{credential_id}", wrapper="credential",
          fields={"type": S, "blob": S, "user_id": I},
          valid=lambda st: {"credential": {"blob": "changed"}}),
    Route("DELETE", "/v3/credentials/{credential_id}"),
]

# wrong values for each field kind (all must be refused with 400)
WRONG = {
    S: [("int", 123), ("list", ["a"]), ("obj", {"a": 1}), ("null", None), ("bool", True)],
    N: [("int", 123), ("list", ["a"]), ("obj", {"a": 1}), ("bool", True)],
    B: [("str", "yes"), ("strtrue", "true"), ("int", 1), ("null", None), ("list", [True])],
    L: [("str", "a"), ("ints", [1, 2]), ("obj", {"a": "b"}), ("nested", [["a"]])],
    I: [("int", 123), ("list", ["a"]), ("obj", {"id": "x"}), ("bool", False)],
}
# fields that are also length/format checked
EXTRA_WRONG = {
    "name": [("empty", ""), ("toolong", "n" * 1000)],
    "type": [("toolong", "t" * 1000)],
    "interface": [("enum", "sideways")],
    "url": [("toolong", "http://x/" + "u" * 10000)],
    "tags": [("slash", ["a/b"]), ("comma", ["a,b"]), ("toolong", ["t" * 300]),
             ("toomany", [f"t{i}" for i in range(100)])],
    "expires_at": [("notdate", "yesterday-ish")],
    "id": [("toolong", "r" * 1000)],
}


def _cases():
    cases = []

    def add(case_id, route, *, body=..., raw=None, headers=None, token=None, path=None,
            expect=(400,), format_checked=True):
        cases.append(pytest.param(dict(
            method=route.method if route else None, path=path or route.path, body=body, raw=raw,
            headers=headers or {}, token=token or (route.auth if route else "admin"),
            expect=set(expect), format_checked=format_checked), id=case_id))

    for route in ROUTES:
        label = route.label()
        # tokens: every route needs one
        for kind in ("none", "garbage", "fernetish", "expiredish", "tampered", "revoked"):
            add(f"{label} token={kind}", route, token=kind,
                body=(lambda st, r=route: r.valid(st)) if route.has_body else ...,
                expect=(401,))
        # unknown ids in the path, with an otherwise valid request
        for param in route.params():
            if param in route.no_unknown:
                continue
            path = route.path.replace("{" + param + "}", UNKNOWN)
            add(f"{label} unknown {param}", route, path=path,
                body=(lambda st, r=route: r.valid(st)) if route.has_body else ...,
                expect=route.unknown_ok)
        if not route.has_body:
            continue
        # bodies that are not JSON objects
        # a route whose body has no required field may accept an empty one
        # (POST /v3/regions creates a region with a generated id)
        empty_ok = bool(route.wrapper) and not route.required and route.method in ("POST", "PUT")
        for name, raw in [("malformed", b'{"x": '), ("truncated", b'{"' + (route.wrapper or "tags").encode() + b'": {'),
                          ("notutf8", b'{"a": "\xff\xfe"}'), ("empty", b"")]:
            if name == "empty" and empty_ok:
                continue
            add(f"{label} body={name}", route, raw=raw)
        for name, doc in [("list", []), ("string", "x"), ("number", 1), ("null", None), ("true", True)]:
            add(f"{label} body={name}", route, raw=json.dumps(doc).encode())
        if not empty_ok:
            add(f"{label} body={{}}", route, body={})
        add(f"{label} oversized", route, raw=b'{"x": "' + b"a" * BIG + b'"}', expect=(413,))
        add(f"{label} content-type=text/plain", route,
            body=(lambda st, r=route: r.valid(st)), headers={"Content-Type": "text/plain"},
            expect=(400, 415))
        if route.wrapper is None:
            continue
        for name, val in [("string", "x"), ("list", []), ("null", None), ("number", 7)]:
            add(f"{label} {route.wrapper}={name}", route, body={route.wrapper: val})
        for field in route.required:
            def missing(st, r=route, f=field):
                body = r.valid(st)
                body[r.wrapper].pop(f, None)
                # keep other required fields present
                for other in r.required:
                    if other != f and other not in body[r.wrapper]:
                        body[r.wrapper][other] = _filler(other, st)
                return body
            add(f"{label} missing {field}", route, body=missing)
        for field, kind in route.fields.items():
            for name, val in WRONG[kind] + EXTRA_WRONG.get(field, []):
                def wrong(st, r=route, f=field, v=val):
                    body = r.valid(st)
                    for req in r.required:
                        body[r.wrapper].setdefault(req, _filler(req, st))
                    body[r.wrapper][f] = v
                    return body
                add(f"{label} {field}={name}", route, body=wrong)

    # --- special routes -------------------------------------------------------
    tokens = Route("POST", "/v3/auth/tokens", auth="none", valid=lambda st: {})
    pw = lambda user, **kw: {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, **kw}}  # noqa: E731
    good_user = {"name": "admin", "domain": {"id": "default"}, "password": "x"}
    auth_bodies = [
        ("malformed", None, b'{"auth": ', (400,)),
        ("notutf8", None, b'{"auth": "\xff"}', (400,)),
        ("list", [], None, (400,)),
        ("string", "auth", None, (400,)),
        ("null", None, b"null", (400,)),
        ("empty", {}, None, (400,)),
        ("auth=string", {"auth": "x"}, None, (400,)),
        ("auth=list", {"auth": []}, None, (400,)),
        ("no identity", {"auth": {}}, None, (400,)),
        ("identity=string", {"auth": {"identity": "x"}}, None, (400,)),
        ("no methods", {"auth": {"identity": {"password": {"user": good_user}}}}, None, (400,)),
        ("methods=string", {"auth": {"identity": {"methods": "password",
                                                  "password": {"user": good_user}}}}, None, (400,)),
        ("methods=[1]", {"auth": {"identity": {"methods": [1]}}}, None, (400,)),
        ("methods=[]", {"auth": {"identity": {"methods": []}}}, None, (400, 401)),
        ("method section missing", {"auth": {"identity": {"methods": ["password"]}}}, None, (400,)),
        ("unsupported method", {"auth": {"identity": {"methods": ["bogus"], "bogus": {}}}}, None,
         (400, 401)),
        ("password=string", {"auth": {"identity": {"methods": ["password"], "password": "x"}}},
         None, (400,)),
        ("no user", {"auth": {"identity": {"methods": ["password"], "password": {}}}}, None, (400,)),
        ("user=string", pw("admin"), None, (400,)),
        ("user no id or name", pw({"password": "x", "domain": {"id": "default"}}), None, (400,)),
        ("user name no domain", pw({"name": "admin", "password": "x"}), None, (400,)),
        ("user domain empty", pw({"name": "admin", "password": "x", "domain": {}}), None, (400,)),
        ("user domain=string", pw({"name": "admin", "password": "x", "domain": "default"}), None,
         (400,)),
        ("user name=int", pw({"name": 5, "password": "x", "domain": {"id": "default"}}), None, (400,)),
        ("user id=list", pw({"id": ["a"], "password": "x"}), None, (400,)),
        ("password=int", pw({"name": "admin", "password": 5, "domain": {"id": "default"}}), None,
         (400,)),
        ("password=null", pw({"name": "admin", "password": None, "domain": {"id": "default"}}),
         None, (400, 401)),
        ("no password", pw({"name": "admin", "domain": {"id": "default"}}), None, (400, 401)),
        ("unknown user id", pw({"id": UNKNOWN, "password": "x"}), None, (401,)),
        ("unknown domain", pw({"name": "admin", "password": "x", "domain": {"id": UNKNOWN}}), None,
         (401,)),
        ("scope=string", pw(good_user, scope="project"), None, (400,)),
        ("scope project empty", pw(good_user, scope={"project": {}}), None, (400,)),
        ("scope project name no domain", pw(good_user, scope={"project": {"name": "admin"}}), None,
         (400,)),
        ("scope project and domain", pw(good_user, scope={"project": {"id": "x"},
                                                          "domain": {"id": "default"}}), None, (400,)),
        ("scope system=string", pw(good_user, scope={"system": "all"}), None, (400,)),
        ("scope system all=string", pw(good_user, scope={"system": {"all": "yes"}}), None, (400,)),
        ("scope project id=int", pw(good_user, scope={"project": {"id": 5}}), None, (400,)),
        ("token method no id", {"auth": {"identity": {"methods": ["token"], "token": {}}}}, None,
         (400,)),
        ("token method garbage", {"auth": {"identity": {"methods": ["token"],
                                                        "token": {"id": "garbage"}}}}, None,
         (401, 404)),
        ("token method id=int", {"auth": {"identity": {"methods": ["token"], "token": {"id": 5}}}},
         None, (400,)),
        ("appcred no secret", {"auth": {"identity": {"methods": ["application_credential"],
                                                     "application_credential": {"id": UNKNOWN}}}},
         None, (400,)),
        ("appcred unknown", {"auth": {"identity": {"methods": ["application_credential"],
                                                   "application_credential": {
                                                       "id": UNKNOWN, "secret": "s"}}}},
         None, (401, 404)),
        ("appcred name no user", {"auth": {"identity": {"methods": ["application_credential"],
                                                        "application_credential": {
                                                            "name": "x", "secret": "s"}}}},
         None, (400,)),
    ]
    for name, doc, raw, expect in auth_bodies:
        if raw is None:
            raw = json.dumps(doc).encode()
        add(f"POST /v3/auth/tokens body={name}", tokens, raw=raw, token="none", expect=expect)
    # well-formed password auth with a wrong secret or an unknown scope -> 401
    add("POST /v3/auth/tokens wrong password", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", "wrong"))
    add("POST /v3/auth/tokens unknown project", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope={"project": {"id": UNKNOWN}}))
    add("POST /v3/auth/tokens unknown domain scope", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope={"domain": {"id": UNKNOWN}}))
    add("POST /v3/auth/tokens unknown project name", tokens, token="none", expect=(401,),
        body=lambda st: password_auth("admin", st["admin_password"],
                                      scope=project_scope(name="no-such-" + UNKNOWN)))
    add("POST /v3/auth/tokens oversized", tokens, token="none", expect=(413,),
        raw=b'{"auth": "' + b"a" * BIG + b'"}')
    add("POST /v3/auth/tokens content-type=text/plain", tokens, token="none", expect=(400, 415),
        headers={"Content-Type": "text/plain"},
        body=lambda st: password_auth("admin", st["admin_password"]))

    # token validation / revocation with bad subjects
    for method in ("GET", "HEAD", "DELETE"):
        r = Route(method, "/v3/auth/tokens")
        add(f"{method} /v3/auth/tokens subject=garbage", r, headers={"X-Subject-Token": "garbage"},
            expect=(404,))
        add(f"{method} /v3/auth/tokens subject=fernetish", r,
            headers={"X-Subject-Token": _fernetish()}, expect=(404,))
        add(f"{method} /v3/auth/tokens subject=revoked", r, headers={"X-Subject-Token": "@revoked"},
            expect=(404,))
        add(f"{method} /v3/auth/tokens no subject", r, expect=(400, 401, 404))
    r = Route("DELETE", "/v3/auth/tokens")
    for kind in ("none", "garbage", "fernetish", "revoked"):
        add(f"DELETE /v3/auth/tokens token={kind}", r, token=kind,
            headers={"X-Subject-Token": "@admin"}, expect=(401,))

    # role assignment filters that do not go together
    ra = Route("GET", "/v3/role_assignments")
    add("GET /v3/role_assignments include_subtree without project", ra,
        path="/v3/role_assignments?include_subtree=true", expect=(400,))
    add("GET /v3/role_assignments effective with group", ra,
        path="/v3/role_assignments?effective&group.id=" + UNKNOWN, expect=(400,))

    # odd ids in paths
    for tmpl in ("/v3/users/{}", "/v3/projects/{}", "/v3/domains/{}", "/v3/groups/{}",
                 "/v3/roles/{}", "/v3/regions/{}", "/v3/services/{}", "/v3/endpoints/{}",
                 "/v3/credentials/{}"):
        rr = Route("GET", tmpl)
        for name, odd in [("long", "x" * 3000), ("nul", "%00abc"), ("unicode", "%E2%98%83"),
                          ("quote", "%27%20OR%201=1--"), ("dots", "..%2F..%2Fetc")]:
            add(f"GET {tmpl} id={name}", rr, path=tmpl.format(odd), expect=(400, 404))

    # project tags with bad values in the path
    tagr = Route("PUT", "/v3/projects/{project_id}/tags/{tag}")
    add("PUT tag toolong", tagr, path="/v3/projects/{project_id}/tags/" + "t" * 300, expect=(400,))
    add("PUT tag with comma", tagr, path="/v3/projects/{project_id}/tags/a,b", expect=(400,))

    # implied role onto itself and grants of unknown roles
    imp = Route("PUT", "/v3/roles/{prior_role_id}/implies/{prior_role_id}")
    add("PUT implies self", imp, expect=(400, 403, 409))

    # OAuth1 (OS-OAUTH1): unsigned or badly signed token requests, bad
    # authorize bodies, unknown request and access tokens
    for path in ("/v3/OS-OAUTH1/request_token", "/v3/OS-OAUTH1/access_token"):
        r = Route("POST", path, auth="none")
        add(f"POST {path} no Authorization", r, token="none", expect=(400,),
            headers={"Requested-Project-Id": "x"})
        for name, hdr in [("bearer", "Bearer abc"), ("unquoted", "OAuth oauth_consumer_key=x"),
                          ("empty", "OAuth "), ("dup", 'OAuth a="1", a="2"'),
                          ("no signature", 'OAuth oauth_consumer_key="' + UNKNOWN + '", '
                           'oauth_token="' + UNKNOWN + '", oauth_verifier="v"'),
                          ("unicode", 'OAuth oauth_consumer_key="%E2%98%83"')]:
            add(f"POST {path} Authorization={name}", r, token="none", expect=(400, 401, 404),
                headers={"Authorization": hdr, "Requested-Project-Id": "{project_id}"})
    az = Route("PUT", "/v3/OS-OAUTH1/authorize/{request_token_id}", auth="user")
    for name, doc in [("empty", {}), ("roles=string", {"roles": "x"}), ("roles=[]", {"roles": []}),
                      ("roles=[1]", {"roles": [1]}), ("roles=[{}]", {"roles": [{}]}),
                      ("id=int", {"roles": [{"id": 5}]}),
                      ("id and name", {"roles": [{"id": "a", "name": "b"}]}),
                      ("list", [])]:
        add(f"PUT authorize body={name}", az, token="user",
            path="/v3/OS-OAUTH1/authorize/" + UNKNOWN, body=doc, expect=(400,))
    add("PUT authorize unknown request token", az, token="user",
        path="/v3/OS-OAUTH1/authorize/" + UNKNOWN, body={"roles": [{"id": UNKNOWN}]},
        expect=(404,))
    add("PUT authorize no token", az, token="none", path="/v3/OS-OAUTH1/authorize/" + UNKNOWN,
        body={"roles": [{"id": UNKNOWN}]}, expect=(401,))
    at = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
    for method, path in [("GET", at + "/" + UNKNOWN), ("DELETE", at + "/" + UNKNOWN),
                         ("GET", at + "/" + UNKNOWN + "/roles"),
                         ("GET", at + "/" + UNKNOWN + "/roles/" + UNKNOWN)]:
        add(f"{method} {path} unknown", Route(method, path), token="admin", expect=(404,))
    add("GET access_tokens no token", Route("GET", at), token="none", expect=(401,))
    add("POST /v3/auth/tokens oauth1 unsigned", tokens, token="none", expect=(400,),
        body={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    add("POST /v3/auth/tokens oauth1 unknown access token", tokens, token="none", expect=(404,),
        headers={"Authorization": 'OAuth oauth_consumer_key="x", oauth_token="' + UNKNOWN + '"'},
        body={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})

    # legacy v2.0 tokens
    v2 = Route("POST", "/v2.0/tokens", auth="none", valid=lambda st: {})
    v2_bodies = [
        ("malformed", None, b'{"auth": ', (400,)),
        ("list", [], None, (400,)),
        ("empty", {}, None, (400,)),
        ("auth=string", {"auth": "x"}, None, (400,)),
        ("no credentials", {"auth": {"tenantName": "admin"}}, None, (400, 401)),
        ("passwordCredentials=string", {"auth": {"passwordCredentials": "x"}}, None, (400,)),
        ("no password", {"auth": {"passwordCredentials": {"username": "admin"}}}, None, (400, 401)),
        ("username=int", {"auth": {"passwordCredentials": {"username": 5, "password": "x"}}}, None,
         (400,)),
        ("password=list", {"auth": {"passwordCredentials": {"username": "admin", "password": []}}},
         None, (400,)),
        ("tenantName=int", {"auth": {"passwordCredentials": {"username": "admin", "password": "x"},
                                     "tenantName": 5}}, None, (400,)),
        ("wrong password", {"auth": {"passwordCredentials": {"username": "admin", "password": "no"},
                                     "tenantName": "admin"}}, None, (401,)),
        ("token garbage", {"auth": {"token": {"id": "garbage"}, "tenantName": "admin"}}, None,
         (401, 404)),
    ]
    for name, doc, raw, expect in v2_bodies:
        if raw is None:
            raw = json.dumps(doc).encode()
        add(f"POST /v2.0/tokens body={name}", v2, raw=raw, token="none", expect=expect)
    add("POST /v2.0/tokens unknown tenant", v2, token="none", expect=(401,),
        body=lambda st: {"auth": {"passwordCredentials": {"username": "admin",
                                                          "password": st["admin_password"]},
                                  "tenantName": "no-such-" + UNKNOWN}})
    add("POST /v2.0/tokens oversized", v2, token="none", expect=(413,),
        raw=b'{"auth": "' + b"a" * BIG + b'"}')
    return cases


def _filler(field, st):
    return {"service_id": st["service_id"], "user_id": st["user_id"], "interface": "public",
            "url": "http://127.0.0.1:9/z", "type": "cert", "blob": "b",
            "password": "x", "original_password": "y"}.get(field, uniq(field))


def _fernetish(ts=None):
    """Base64url text shaped like a Fernet token (version 0x80, timestamp, iv,
    ciphertext, hmac) that no server key signed."""
    ts = int(time.time()) if ts is None else ts
    raw = b"\x80" + struct.pack(">Q", ts) + os.urandom(16) + os.urandom(64) + os.urandom(32)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CASES = _cases()


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sweep(request, tmp_path_factory):
    """One server per backend for the whole sweep, plus real ids to aim at."""
    if request.param == "postgres" and not ferro.POSTGRES_URL:
        pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
    drop = None
    url = None
    if request.param == "postgres":
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("sweep-" + request.param) / "data", database_url=url)
    srv.start()
    try:
        yield _prepare(srv)
    finally:
        alive = srv.proc.poll() is None
        srv.stop()
        if drop:
            drop()
        assert alive, "ferrostack died during the bad-input sweep:\n" + srv.log()


def _prepare(srv):
    ks = Identity(srv, srv.admin_token())
    dom = ks.post("/v3/domains", json={"domain": {"name": uniq("sweep")}}, expect=201).json()["domain"]
    project = ks.create_project(tags=["t1"])
    user, _, user_token = ks.user_with_role("member", project)
    group = ks.post("/v3/groups", json={"group": {"name": uniq("g")}}, expect=201).json()["group"]
    role = ks.post("/v3/roles", json={"role": {"name": uniq("r")}}, expect=201).json()["role"]
    reader = ks.role_id("reader")
    ks.put(f"/v3/roles/{role['id']}/implies/{reader}", expect=201)
    region = ks.post("/v3/regions", json={"region": {"id": uniq("R")}}, expect=201).json()["region"]
    svc = ks.post("/v3/services", json={"service": {"type": "sweep"}}, expect=201).json()["service"]
    ep = ks.post("/v3/endpoints", json={"endpoint": {
        "service_id": svc["id"], "interface": "public", "url": "http://127.0.0.1:9/s"}},
        expect=201).json()["endpoint"]
    cred = ks.post("/v3/credentials", json={"credential": {
        "type": "cert", "user_id": user["id"], "blob": "sweep"}}, expect=201).json()["credential"]
    ac = ks.post(f"/v3/users/{user['id']}/application_credentials", token=user_token,
                 json={"application_credential": {"name": "sweep"}},
                 expect=201).json()["application_credential"]
    revoked, _ = ks.issue(password_auth("admin", srv.admin_password,
                                        scope=project_scope(name="admin")))
    ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": revoked}, expect=204)
    admin = ks.token
    tampered = admin[:-6] + ("A" if admin[-6] != "A" else "B") + admin[-5:]
    return {
        "server": srv, "admin_password": srv.admin_password,
        "tokens": {"admin": admin, "user": user_token, "revoked": revoked, "tampered": tampered},
        "domain_id": dom["id"], "project_id": project["id"], "user_id": user["id"],
        "group_id": group["id"], "role_id": role["id"], "prior_role_id": role["id"],
        "implied_role_id": reader, "region_id": region["id"], "new_region_id": uniq("NR"),
        "service_id": svc["id"], "endpoint_id": ep["id"], "credential_id": cred["id"],
        "app_cred_id": ac["id"], "tag": "t1", "fivexx": [],
    }


def _token(kind, st):
    if kind == "none":
        return None
    if kind == "garbage":
        return "garbage-token"
    if kind == "fernetish":
        return _fernetish()
    if kind == "expiredish":
        return _fernetish(ts=978307200)   # 2001-01-01
    return st["tokens"][kind]


def _fill(path, st):
    for key, val in st.items():
        if isinstance(val, str):
            path = path.replace("{" + key + "}", val)
    return path


# ---------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_bad_input(sweep, case):
    srv = sweep["server"]
    headers = dict(case["headers"])
    for k, v in list(headers.items()):
        if v == "@revoked":
            headers[k] = sweep["tokens"]["revoked"]
        elif v == "@admin":
            headers[k] = sweep["tokens"]["admin"]
    if case["method"] in ("GET", "HEAD", "DELETE") and "/auth/tokens" in case["path"] \
            and "X-Subject-Token" not in headers and case["token"] != "admin":
        # token cases on the validation routes need a real subject
        headers["X-Subject-Token"] = sweep["tokens"]["admin"]
    tok = _token(case["token"], sweep)
    if tok:
        headers["X-Auth-Token"] = tok
    data = None
    if case["raw"] is not None:
        data = case["raw"]
        headers.setdefault("Content-Type", "application/json")
    elif case["body"] is not ...:
        body = case["body"](sweep) if callable(case["body"]) else case["body"]
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    url = srv.identity_url + _fill(case["path"], sweep)
    try:
        r = requests.request(case["method"], url, data=data, headers=headers, timeout=30)
    except requests.ConnectionError as e:
        if srv.proc.poll() is not None:
            pytest.fail(f"server died: {e}\n{srv.log()}")
        raise
    if r.status_code >= 500:
        sweep["fivexx"].append((case["method"], case["path"], r.status_code))
    assert r.status_code in case["expect"], \
        f"{case['method']} {case['path']} -> {r.status_code}, wanted {sorted(case['expect'])}: {r.text[:500]}"
    assert r.headers.get("X-Openstack-Request-Id"), r.headers
    if r.status_code == 200 and 200 in case["expect"]:
        return   # an allowed empty listing for an unknown parent
    if case["method"] != "HEAD":
        assert_keystone_error(r)


def test_still_healthy_after_sweep(sweep):
    srv = sweep["server"]
    assert srv.proc.poll() is None, srv.log()
    assert requests.get(srv.url + "/healthz", timeout=10).status_code == 200
    assert requests.get(srv.url + "/readyz", timeout=10).status_code == 200
    assert not sweep["fivexx"], sweep["fivexx"]
    # the real objects the sweep aimed at are untouched
    ks = Identity(srv, srv.admin_token())
    for path in ("/v3/domains/{domain_id}", "/v3/projects/{project_id}", "/v3/users/{user_id}",
                 "/v3/groups/{group_id}", "/v3/roles/{role_id}", "/v3/regions/{region_id}",
                 "/v3/services/{service_id}", "/v3/endpoints/{endpoint_id}",
                 "/v3/credentials/{credential_id}"):
        ks.get(_fill(path, sweep), expect=200)
    assert ks.get(_fill("/v3/projects/{project_id}", sweep)).json()["project"]["tags"] == ["t1"]
    ks.head(_fill("/v3/projects/{project_id}/users/{user_id}/roles/", sweep)
            + ks.role_id("member"), expect=204)
    ks.validate(sweep["tokens"]["user"]).raise_for_status()
