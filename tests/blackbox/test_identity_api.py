"""Wire-level behaviour of the Identity API (Keystone v3 + legacy v2.0 tokens).

Plain `requests`, so status codes, headers and body shapes are checked exactly
as an OpenStack client would see them.
"""

import datetime

import pytest
import requests

from kshelp import (REQUEST_ID_RE, TIMESTAMP_RE, Identity, assert_keystone_error,
                    password_auth, project_scope, uniq)


def _parse_ts(value):
    assert TIMESTAMP_RE.match(value), value
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def _admin_body(server, scope=None):
    return password_auth("admin", server.admin_password,
                         scope=scope if scope is not None else project_scope(name="admin"))


# ---------------------------------------------------------------------------
# health and version discovery
# ---------------------------------------------------------------------------

def test_health_endpoints_need_no_token(sqlite_server):
    for path in ("/healthz", "/readyz"):
        r = requests.get(sqlite_server.url + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)


def test_version_discovery_root(sqlite_server):
    base = sqlite_server.identity_url
    for path in ("/", ""):
        r = requests.get(base + path, timeout=10, allow_redirects=False)
        assert r.status_code == 300, (path, r.status_code, r.text)
        values = r.json()["versions"]["values"]
        assert isinstance(values, list) and values
        v3 = [v for v in values if v["id"].startswith("v3")]
        assert len(v3) == 1, values
        v3 = v3[0]
        assert v3["status"] == "stable"
        assert v3["updated"]
        selfs = [link["href"] for link in v3["links"] if link["rel"] == "self"]
        assert selfs and selfs[0].rstrip("/") == base + "/v3", selfs
        assert any(m.get("base") == "application/json" for m in v3["media-types"])


def test_version_discovery_v3(sqlite_server):
    base = sqlite_server.identity_url
    for path in ("/v3", "/v3/"):
        r = requests.get(base + path, timeout=10, allow_redirects=False)
        assert r.status_code == 200, (path, r.status_code, r.text)
        version = r.json()["version"]
        assert version["id"].startswith("v3.")
        assert version["status"] == "stable"
        selfs = [link["href"] for link in version["links"] if link["rel"] == "self"]
        assert selfs and selfs[0].rstrip("/") == base + "/v3"
        assert {"base": "application/json",
                "type": "application/vnd.openstack.identity-v3+json"} in version["media-types"]


def test_version_document_v2(sqlite_server):
    r = requests.get(sqlite_server.identity_url + "/v2.0/", timeout=10)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    assert version["id"] == "v2.0"
    assert version["status"] in ("deprecated", "stable", "supported")
    assert any(link["rel"] == "self" for link in version["links"])


def test_public_url_is_used_in_links(tmp_path):
    """With --public-url, discovery links and the catalog use it, not the bind address."""
    import ferro
    public = "http://cloud.example.test:5000"
    srv = ferro.Server(tmp_path / "data", extra_args=["--public-url", public])
    srv.start()
    try:
        r = requests.get(srv.identity_url + "/v3", timeout=10)
        hrefs = [link["href"] for link in r.json()["version"]["links"]]
        assert hrefs and all(h.startswith(public + "/identity") for h in hrefs), hrefs
        ident = Identity(srv)
        _, body = ident.issue(_admin_body(srv))
        urls = [ep["url"] for svc in body["token"]["catalog"] for ep in svc["endpoints"]]
        assert urls and all(u.startswith(public) for u in urls), urls
        clouds = srv.clouds_yaml.read_text()
        assert public + "/identity" in clouds
    finally:
        srv.stop()


# ---------------------------------------------------------------------------
# issuing and validating tokens
# ---------------------------------------------------------------------------

def test_issue_project_token_body(server):
    ks = Identity(server)
    r = ks.post("/v3/auth/tokens", json=_admin_body(server), token=None)
    assert r.status_code == 201, r.text
    assert r.headers["X-Subject-Token"]
    assert r.headers["Content-Type"].startswith("application/json")
    token = r.json()["token"]

    assert token["methods"] == ["password"]
    user = token["user"]
    assert user["name"] == "admin" and user["id"]
    assert user["domain"] == {"id": "default", "name": "Default"}
    assert "password_expires_at" in user

    proj = token["project"]
    assert proj["name"] == "admin" and proj["id"]
    assert proj["domain"] == {"id": "default", "name": "Default"}
    assert token.get("is_domain") is False

    role_names = {x["name"] for x in token["roles"]}
    # admin implies member implies reader: the token carries the implied roles too
    assert {"admin", "member", "reader"} <= role_names, token["roles"]
    assert all(x["id"] for x in token["roles"])

    assert isinstance(token["audit_ids"], list) and len(token["audit_ids"]) == 1
    assert isinstance(token["audit_ids"][0], str) and len(token["audit_ids"][0]) >= 16

    issued = _parse_ts(token["issued_at"])
    expires = _parse_ts(token["expires_at"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((issued - now).total_seconds()) < 120
    assert expires > now + datetime.timedelta(minutes=30)

    catalog = token["catalog"]
    types = {svc["type"] for svc in catalog}
    assert {"identity", "compute", "network", "image", "block-storage"} <= types, types
    for svc in catalog:
        assert svc["id"] and svc["name"] and svc["endpoints"], svc
        for ep in svc["endpoints"]:
            assert ep["id"] and ep["url"].startswith("http"), ep
            assert ep["interface"] in ("public", "internal", "admin"), ep
            assert ep["region"] == "RegionOne" and ep["region_id"] == "RegionOne", ep
    identity = [svc for svc in catalog if svc["type"] == "identity"][0]
    public = [ep for ep in identity["endpoints"] if ep["interface"] == "public"]
    assert public and public[0]["url"].rstrip("/") in (server.identity_url,
                                                       server.identity_url + "/v3")


def test_issue_by_user_id_and_domain_name(server):
    ks = Identity(server, server.admin_token())
    admin_id = ks.get("/v3/users", params={"name": "admin"}, expect=200).json()["users"][0]["id"]
    tok, body = ks.issue(password_auth(user_id=admin_id, password=server.admin_password,
                                       scope=project_scope(name="admin")))
    assert body["token"]["user"]["id"] == admin_id
    tok, body = ks.issue(password_auth("admin", server.admin_password, domain_name="Default",
                                       scope={"project": {"name": "admin",
                                                          "domain": {"name": "Default"}}}))
    assert body["token"]["project"]["name"] == "admin"


def test_wrong_password_and_unknown_user_are_401(server):
    ks = Identity(server)
    r = ks.post("/v3/auth/tokens", json=password_auth("admin", "wrong-password"), token=None)
    err = assert_keystone_error(r, 401)
    assert "wrong-password" not in err["message"]
    r = ks.post("/v3/auth/tokens", json=password_auth("nobody-" + uniq("x"), "pw"), token=None)
    assert_keystone_error(r, 401)
    assert "X-Subject-Token" not in r.headers


def test_401_carries_www_authenticate(server):
    r = Identity(server).get("/v3/users", token=None)
    assert_keystone_error(r, 401)
    assert r.headers.get("WWW-Authenticate", "").startswith("Keystone uri="), r.headers


def test_validate_get_and_head(server):
    ks = Identity(server, server.admin_token())
    subject, issued = ks.issue(_admin_body(server))
    r = ks.validate(subject)
    assert r.status_code == 200, r.text
    assert r.headers["X-Subject-Token"] == subject
    token = r.json()["token"]
    assert token["audit_ids"] == issued["token"]["audit_ids"]
    assert token["expires_at"] == issued["token"]["expires_at"]
    assert token["project"]["id"] == issued["token"]["project"]["id"]
    assert "catalog" in token
    r = ks.head("/v3/auth/tokens", headers={"X-Subject-Token": subject})
    assert r.status_code == 200 and not r.content
    # a token may validate itself
    r = ks.validate(subject, token=subject)
    assert r.status_code == 200, r.text
    # nocatalog on validation
    r = ks.validate(subject, query="?nocatalog")
    assert r.status_code == 200 and "catalog" not in r.json()["token"]


def test_validate_garbage_subject_is_404(server):
    ks = Identity(server, server.admin_token())
    assert_keystone_error(ks.validate("gAAAAABnot-a-real-token"), 404)
    r = ks.get("/v3/auth/tokens")  # no X-Subject-Token at all
    assert 400 <= r.status_code < 500
    assert_keystone_error(r)


def test_revoke_token(server):
    ks = Identity(server, server.admin_token())
    subject, _ = ks.issue(_admin_body(server))
    r = ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": subject})
    assert r.status_code == 204, r.text
    assert_keystone_error(ks.validate(subject), 404)
    assert ks.head("/v3/auth/tokens", headers={"X-Subject-Token": subject}).status_code == 404
    assert_keystone_error(ks.get("/v3/projects", token=subject), 401)
    # revoking again: the token no longer exists
    r = ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": subject})
    assert_keystone_error(r, 404)
    # the caller's own token is unaffected
    ks.get("/v3/projects", expect=200)


def test_revoke_own_token(server):
    ks = Identity(server)
    subject, _ = ks.issue(_admin_body(server))
    ks.delete("/v3/auth/tokens", token=subject, headers={"X-Subject-Token": subject}, expect=204)
    assert_keystone_error(ks.get("/v3/auth/tokens", token=subject,
                                 headers={"X-Subject-Token": subject}), 401)


def test_unscoped_token(server):
    ks = Identity(server, server.admin_token())
    user = ks.create_user()
    tok, body = ks.issue(password_auth(user["name"], user["_password"]))
    token = body["token"]
    assert tok
    for key in ("project", "domain", "system"):
        assert key not in token, token
    assert not token.get("roles")
    assert not token.get("catalog")
    # an unscoped token can list the user's projects and be rescoped
    assert ks.get("/v3/auth/projects", token=tok, expect=200).json()["projects"] == []


def test_unscoped_uses_default_project(server):
    ks = Identity(server, server.admin_token())
    project = ks.create_project()
    user = ks.create_user(default_project_id=project["id"])
    ks.grant_project(project["id"], user["id"], "member")
    _, body = ks.issue(password_auth(user["name"], user["_password"]))
    assert body["token"]["project"]["id"] == project["id"]


def test_domain_scoped_token(server):
    ks = Identity(server, server.admin_token())
    user = ks.create_user()
    admin_role = ks.role_id("admin")
    ks.put(f"/v3/domains/default/users/{user['id']}/roles/{admin_role}", expect=204)
    tok, body = ks.issue(password_auth(user["name"], user["_password"],
                                       scope={"domain": {"id": "default"}}))
    token = body["token"]
    assert token["domain"] == {"id": "default", "name": "Default"}
    assert "project" not in token
    assert {"admin", "member", "reader"} <= {x["name"] for x in token["roles"]}
    assert token["catalog"]
    # by name as well
    _, body = ks.issue(password_auth(user["name"], user["_password"],
                                     scope={"domain": {"name": "Default"}}))
    assert body["token"]["domain"]["id"] == "default"
    # no role on the domain -> 401
    other = ks.create_user()
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        other["name"], other["_password"], scope={"domain": {"id": "default"}}))
    assert_keystone_error(r, 401)


def test_system_scoped_token(server):
    ks = Identity(server)
    tok, body = ks.issue(_admin_body(server, scope={"system": {"all": True}}))
    token = body["token"]
    assert token["system"] == {"all": True}
    assert "project" not in token and "domain" not in token
    assert "admin" in {x["name"] for x in token["roles"]}
    r = ks.get("/v3/users", token=tok)
    assert r.status_code == 200, r.text
    # a user with no system role cannot get a system token
    admin = Identity(server, server.admin_token())
    user = admin.create_user()
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user["name"], user["_password"], scope={"system": {"all": True}}))
    assert_keystone_error(r, 401)


def test_auth_catalog_projects_domains_system(server):
    ks = Identity(server)
    tok, _ = ks.issue(_admin_body(server))
    cat = ks.get("/v3/auth/catalog", token=tok, expect=200).json()["catalog"]
    assert {"identity", "compute"} <= {s["type"] for s in cat}
    projects = ks.get("/v3/auth/projects", token=tok, expect=200).json()["projects"]
    assert "admin" in {p["name"] for p in projects}
    domains = ks.get("/v3/auth/domains", token=tok, expect=200).json()["domains"]
    assert isinstance(domains, list)
    system = ks.get("/v3/auth/system", token=tok, expect=200).json()["system"]
    assert system == [{"all": True}], system
    assert_keystone_error(ks.get("/v3/auth/catalog", token=None), 401)


def test_unscoped_catalog_is_forbidden(server):
    ks = Identity(server, server.admin_token())
    user = ks.create_user()
    tok, _ = ks.issue(password_auth(user["name"], user["_password"]))
    assert_keystone_error(ks.get("/v3/auth/catalog", token=tok), 403)


def test_rescope_with_token_method(server):
    ks = Identity(server, server.admin_token())
    project = ks.create_project()
    user = ks.create_user()
    ks.grant_project(project["id"], user["id"], "member")
    unscoped, ubody = ks.issue(password_auth(user["name"], user["_password"]))
    scoped, body = ks.issue({"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                                      "scope": project_scope(project["id"])}})
    token = body["token"]
    assert scoped != unscoped
    assert token["project"]["id"] == project["id"]
    assert token["user"]["id"] == user["id"]
    assert "token" in token["methods"], token["methods"]
    assert {"member", "reader"} <= {x["name"] for x in token["roles"]}
    assert "admin" not in {x["name"] for x in token["roles"]}
    # the audit chain: [new audit id, audit id of the original token]
    assert len(token["audit_ids"]) == 2
    assert token["audit_ids"][1] == ubody["token"]["audit_ids"][0]
    # the rescoped token does not outlive its parent
    assert _parse_ts(token["expires_at"]) <= _parse_ts(ubody["token"]["expires_at"])
    # X-Auth-Token header also works as the token for the token method
    r = ks.post("/v3/auth/tokens", token=unscoped, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": project_scope(project["id"])}})
    assert r.status_code == 201, r.text
    # rescoping to a project without a role fails
    other = ks.create_project()
    r = ks.post("/v3/auth/tokens", token=None, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": project_scope(other["id"])}})
    assert_keystone_error(r, 401)


def test_nocatalog(server):
    ks = Identity(server)
    _, body = ks.issue(_admin_body(server), query="?nocatalog")
    assert "catalog" not in body["token"]
    assert body["token"]["project"]["name"] == "admin"


# ---------------------------------------------------------------------------
# legacy v2.0 tokens
# ---------------------------------------------------------------------------

def test_v2_tokens(server):
    body = {"auth": {"passwordCredentials": {"username": "admin",
                                             "password": server.admin_password},
                     "tenantName": "admin"}}
    r = requests.post(server.identity_url + "/v2.0/tokens", json=body, timeout=10)
    assert r.status_code == 200, r.text
    access = r.json()["access"]
    tok = access["token"]
    assert tok["id"]
    assert tok["expires"]
    assert tok["tenant"]["name"] == "admin" and tok["tenant"]["id"]
    assert access["user"]["name"] == "admin" and access["user"]["id"]
    assert "admin" in {x["name"] for x in access["user"]["roles"]}
    catalog = access["serviceCatalog"]
    types = {s["type"] for s in catalog}
    assert {"identity", "compute"} <= types
    for svc in catalog:
        assert svc["name"] and svc["endpoints"]
        for ep in svc["endpoints"]:
            assert ep["publicURL"].startswith("http")
            assert ep["region"] == "RegionOne"
    # the v2 token is a real token for the v3 API
    ks = Identity(server)
    r = ks.get("/v3/auth/tokens", token=tok["id"], headers={"X-Subject-Token": tok["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["token"]["project"]["name"] == "admin"
    # tenantId works too
    body["auth"].pop("tenantName")
    body["auth"]["tenantId"] = tok["tenant"]["id"]
    r = requests.post(server.identity_url + "/v2.0/tokens", json=body, timeout=10)
    assert r.status_code == 200, r.text


def test_v2_tokens_empty_tenant_is_unscoped(server):
    """As Keystone v2.0: `"tenantName": ""` (or `"tenantId": ""`) asks for an
    unscoped token, not a 400."""
    for key in ("tenantName", "tenantId"):
        body = {"auth": {"passwordCredentials": {"username": "admin",
                                                 "password": server.admin_password},
                         key: ""}}
        r = requests.post(server.identity_url + "/v2.0/tokens", json=body, timeout=10)
        assert r.status_code == 200, (key, r.text)
        access = r.json()["access"]
        assert "tenant" not in access["token"], access["token"]
        assert access["serviceCatalog"] == []
        assert access["user"]["name"] == "admin"
        v = Identity(server).validate(access["token"]["id"], token=access["token"]["id"])
        assert v.status_code == 200 and "project" not in v.json()["token"], v.text
    # Not a string is still refused.
    body = {"auth": {"passwordCredentials": {"username": "admin",
                                             "password": server.admin_password},
                     "tenantName": []}}
    r = requests.post(server.identity_url + "/v2.0/tokens", json=body, timeout=10)
    assert_keystone_error(r, 400)


def test_names_compare_ignoring_case(server):
    """As DevStack's MySQL-backed Keystone: names match whatever their case
    (the Default domain as `default`), in auth, scopes and list filters; a
    name differing only in case is a duplicate."""
    ks = Identity(server, server.admin_token())
    project = ks.create_project(name=uniq("CaseProj"))
    user = ks.create_user(name=uniq("CaseUser"))
    ks.grant_project(project["id"], user["id"], "member")
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user["name"].lower(), "domain": {"name": "default"},
        "password": user["_password"]}}},
        "scope": {"project": {"name": project["name"].upper(), "domain": {"name": "DEFAULT"}}}}}
    _, tb = ks.issue(body)
    assert tb["token"]["user"]["id"] == user["id"]
    assert tb["token"]["project"]["id"] == project["id"]
    assert tb["token"]["project"]["domain"]["name"] == "Default"
    # The exact spelling is still required of the password.
    body["auth"]["identity"]["password"]["user"]["password"] = user["_password"].upper()
    assert_keystone_error(ks.post("/v3/auth/tokens", json=body, token=None), 401)
    # List filters by name.
    doms = ks.get("/v3/domains", params={"name": "default"}, expect=200).json()["domains"]
    assert [d["id"] for d in doms] == ["default"]
    got = ks.get("/v3/users", params={"name": user["name"].swapcase()}, expect=200).json()
    assert [u["id"] for u in got["users"]] == [user["id"]]
    got = ks.get("/v3/projects", params={"name": project["name"].lower(),
                                         "domain_id": "default"}, expect=200).json()
    assert [p["id"] for p in got["projects"]] == [project["id"]]
    roles = ks.get("/v3/roles", params={"name": "MEMBER"}, expect=200).json()["roles"]
    assert [r["name"] for r in roles] == ["member"]
    # A name differing only in case is taken.
    r = ks.post("/v3/users", json={"user": {"name": user["name"].upper(), "domain_id": "default"}})
    assert_keystone_error(r, 409)
    r = ks.post("/v3/projects", json={"project": {"name": project["name"].lower(),
                                                  "domain_id": "default"}})
    assert_keystone_error(r, 409)
    assert_keystone_error(ks.post("/v3/domains", json={"domain": {"name": "DEFAULT"}}), 409)
    # The v2.0 call and a scope by domain name too.
    r = requests.post(server.identity_url + "/v2.0/tokens", timeout=10, json={"auth": {
        "passwordCredentials": {"username": user["name"].upper(), "password": user["_password"]},
        "tenantName": project["name"].lower()}})
    assert r.status_code == 200 and r.json()["access"]["token"]["tenant"]["id"] == project["id"]
    _, tb = ks.issue(password_auth("ADMIN", server.admin_password, domain_name="DeFaUlT",
                                   scope={"project": {"name": "Admin",
                                                      "domain": {"name": "default"}}}))
    assert tb["token"]["user"]["name"] == "admin" and tb["token"]["project"]["name"] == "admin"


def test_v2_tokens_bad_password(server):
    body = {"auth": {"passwordCredentials": {"username": "admin", "password": "nope"},
                     "tenantName": "admin"}}
    r = requests.post(server.identity_url + "/v2.0/tokens", json=body, timeout=10)
    assert_keystone_error(r, 401)


# ---------------------------------------------------------------------------
# revocation side effects
# ---------------------------------------------------------------------------

def test_disabling_user_revokes_tokens(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    assert ks.validate(tok).status_code == 200
    ks.patch(f"/v3/users/{user['id']}", json={"user": {"enabled": False}}, expect=200)
    assert_keystone_error(ks.validate(tok), 404)
    assert_keystone_error(ks.get(f"/v3/projects/{project['id']}", token=tok), 401)
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user["name"], user["_password"], scope=project_scope(project["id"])))
    assert_keystone_error(r, 401)
    # re-enabling lets the user in again but does not resurrect old tokens
    ks.patch(f"/v3/users/{user['id']}", json={"user": {"enabled": True}}, expect=200)
    ks.issue(password_auth(user["name"], user["_password"], scope=project_scope(project["id"])))
    assert ks.validate(tok).status_code == 404


def test_password_change_by_admin_revokes_tokens(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    ks.patch(f"/v3/users/{user['id']}", json={"user": {"password": "new-pass-1"}}, expect=200)
    assert ks.validate(tok).status_code == 404
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(user["name"], user["_password"]))
    assert_keystone_error(r, 401)
    ks.issue(password_auth(user["name"], "new-pass-1", scope=project_scope(project["id"])))


def test_role_removal_revokes_project_tokens(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    # a token on another project stays valid
    other = ks.create_project()
    ks.grant_project(other["id"], user["id"], "member")
    other_tok, _ = ks.issue(password_auth(user["name"], user["_password"],
                                          scope=project_scope(other["id"])))
    member = ks.role_id("member")
    ks.delete(f"/v3/projects/{project['id']}/users/{user['id']}/roles/{member}", expect=204)
    assert_keystone_error(ks.validate(tok), 404)
    assert ks.validate(other_tok).status_code == 200
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user["name"], user["_password"], scope=project_scope(project["id"])))
    assert_keystone_error(r, 401)


def test_disabling_project_revokes_tokens(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    ks.patch(f"/v3/projects/{project['id']}", json={"project": {"enabled": False}}, expect=200)
    assert_keystone_error(ks.validate(tok), 404)
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user["name"], user["_password"], scope=project_scope(project["id"])))
    assert_keystone_error(r, 401)


def test_deleting_user_revokes_tokens(server):
    ks = Identity(server, server.admin_token())
    user, _, tok = ks.user_with_role("member")
    ks.delete(f"/v3/users/{user['id']}", expect=204)
    assert_keystone_error(ks.validate(tok), 404)


# ---------------------------------------------------------------------------
# authorization: project isolation and read-only roles
# ---------------------------------------------------------------------------

def test_project_isolation(server):
    ks = Identity(server, server.admin_token())
    user_a, proj_a, tok_a = ks.user_with_role("member")
    _, proj_b, tok_b = ks.user_with_role("member")

    # own project: visible
    r = ks.get(f"/v3/projects/{proj_a['id']}", token=tok_a, expect=200)
    assert r.json()["project"]["id"] == proj_a["id"]
    # someone else's project: forbidden
    assert_keystone_error(ks.get(f"/v3/projects/{proj_b['id']}", token=tok_a), 403)
    # listing all projects / users / role assignments is for admins
    assert_keystone_error(ks.get("/v3/projects", token=tok_a), 403)
    assert_keystone_error(ks.get("/v3/users", token=tok_a), 403)
    # own project list contains exactly project A
    projects = ks.get(f"/v3/users/{user_a['id']}/projects", token=tok_a, expect=200).json()
    assert [p["id"] for p in projects["projects"]] == [proj_a["id"]]
    projects = ks.get("/v3/auth/projects", token=tok_a, expect=200).json()["projects"]
    assert [p["id"] for p in projects] == [proj_a["id"]]
    # B's token cannot be used to read A's assignments
    assert_keystone_error(ks.get(f"/v3/users/{user_a['id']}/projects", token=tok_b), 403)
    # a member cannot grant itself roles elsewhere
    admin_role = ks.role_id("admin")
    r = ks.put(f"/v3/projects/{proj_b['id']}/users/{user_a['id']}/roles/{admin_role}", token=tok_a)
    assert_keystone_error(r, 403)
    # a member cannot scope to a project it has no role on
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user_a["name"], user_a["_password"], scope=project_scope(proj_b["id"])))
    assert_keystone_error(r, 401)


def test_reader_cannot_create(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("reader")
    _, body = ks.issue(password_auth(user["name"], user["_password"],
                                     scope=project_scope(project["id"])))
    assert {x["name"] for x in body["token"]["roles"]} == {"reader"}
    for path, payload in [
        ("/v3/projects", {"project": {"name": uniq("p")}}),
        ("/v3/users", {"user": {"name": uniq("u")}}),
        ("/v3/groups", {"group": {"name": uniq("g")}}),
        ("/v3/roles", {"role": {"name": uniq("r")}}),
        ("/v3/domains", {"domain": {"name": uniq("d")}}),
        ("/v3/regions", {"region": {"id": uniq("r")}}),
        ("/v3/services", {"service": {"type": "x"}}),
    ]:
        assert_keystone_error(ks.post(path, token=tok, json=payload), 403)
    assert_keystone_error(ks.patch(f"/v3/projects/{project['id']}", token=tok,
                                   json={"project": {"description": "x"}}), 403)
    assert_keystone_error(ks.delete(f"/v3/projects/{project['id']}", token=tok), 403)
    # but it can read its own project
    ks.get(f"/v3/projects/{project['id']}", token=tok, expect=200)


# ---------------------------------------------------------------------------
# self-service password change
# ---------------------------------------------------------------------------

def test_user_changes_own_password(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    path = f"/v3/users/{user['id']}/password"
    # wrong original password
    r = ks.post(path, token=tok, json={"user": {"password": "next-pw-1",
                                                "original_password": "not-it"}})
    assert_keystone_error(r, 401)
    # missing original_password
    r = ks.post(path, token=tok, json={"user": {"password": "next-pw-1"}})
    assert_keystone_error(r, 400)
    r = ks.post(path, token=tok, json={"user": {"password": "next-pw-1",
                                                "original_password": user["_password"]}})
    assert r.status_code == 204, r.text
    assert not r.content
    # old password no longer works, the new one does; old tokens are revoked
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(user["name"], user["_password"]))
    assert_keystone_error(r, 401)
    ks.issue(password_auth(user["name"], "next-pw-1", scope=project_scope(project["id"])))
    assert ks.validate(tok).status_code == 404
    # and a revoked token cannot make a new one: 404 as in Keystone (tempest's
    # test_user_update_own_password expects neither 401 nor 403)
    r = ks.post("/v3/auth/tokens", token=None, json={"auth": {"identity": {
        "methods": ["token"], "token": {"id": tok}}}})
    assert_keystone_error(r, 404)


# ---------------------------------------------------------------------------
# plumbing: request ids, error format, body limit
# ---------------------------------------------------------------------------

def test_request_id_on_every_response(sqlite_server):
    ks = Identity(sqlite_server)
    admin = sqlite_server.admin_token()
    responses = [
        requests.get(sqlite_server.url + "/healthz", timeout=10),
        ks.get("/", token=None),
        ks.get("/v3", token=None),
        ks.get("/v2.0/", token=None),
        ks.post("/v3/auth/tokens", json=_admin_body(sqlite_server), token=None),   # 201
        ks.post("/v3/auth/tokens", json=password_auth("admin", "bad"), token=None),  # 401
        ks.get("/v3/users", token=admin),                                          # 200
        ks.get("/v3/users/does-not-exist", token=admin),                           # 404
        ks.post("/v3/users", token=admin, data=b"{not json",
                headers={"Content-Type": "application/json"}),                     # 400
        ks.get("/v3/users", token=None),                                           # 401
        ks.get("/v3/no-such-collection", token=admin),                             # 404
        ks.head("/v3/auth/tokens", token=admin, headers={"X-Subject-Token": admin}),
        ks.delete("/v3/regions/nope", token=admin),
    ]
    ids = []
    for r in responses:
        rid = r.headers.get("X-Openstack-Request-Id")
        assert rid, (r.request.method, r.url, r.status_code, dict(r.headers))
        assert REQUEST_ID_RE.match(rid), rid
        ids.append(rid)
    assert len(set(ids)) == len(ids), "request ids must be unique per request"
    for r in responses:
        if r.status_code >= 400 and r.request.method != "HEAD":
            assert_keystone_error(r)


def test_unknown_path_is_keystone_404(sqlite_server):
    ks = Identity(sqlite_server, sqlite_server.admin_token())
    assert_keystone_error(ks.get("/v3/no-such-collection"), 404)


def test_wrong_method_is_405(sqlite_server):
    ks = Identity(sqlite_server, sqlite_server.admin_token())
    r = ks.request("PUT", "/v3/users")
    assert r.status_code == 405, r.text


def test_oversized_body_is_413(sqlite_server):
    ks = Identity(sqlite_server, sqlite_server.admin_token())
    big = b'{"user": {"name": "' + b"a" * (2 * 1024 * 1024) + b'"}}'
    r = ks.post("/v3/users", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:300]
    assert r.headers.get("X-Openstack-Request-Id")
    assert_keystone_error(r, 413)
    # and unauthenticated
    r = ks.post("/v3/auth/tokens", token=None, data=big,
                headers={"Content-Type": "application/json"})
    assert_keystone_error(r, 413)
    assert requests.get(sqlite_server.url + "/healthz", timeout=10).status_code == 200


def test_duplicate_names_conflict(server):
    ks = Identity(server, server.admin_token())
    name = uniq("dup")
    ks.create_user(name=name)
    r = ks.post("/v3/users", json={"user": {"name": name, "domain_id": "default"}})
    assert_keystone_error(r, 409)
    ks.create_project(name=name)
    r = ks.post("/v3/projects", json={"project": {"name": name, "domain_id": "default"}})
    assert_keystone_error(r, 409)
    r = ks.post("/v3/roles", json={"role": {"name": "member"}})
    assert_keystone_error(r, 409)
    r = ks.post("/v3/domains", json={"domain": {"name": "Default"}})
    assert_keystone_error(r, 409)
    # same user name in another domain is fine
    dom = ks.post("/v3/domains", json={"domain": {"name": uniq("dom")}}, expect=201).json()["domain"]
    ks.create_user(name=name, domain_id=dom["id"])


def test_resource_links_and_collections(server):
    ks = Identity(server, server.admin_token())
    project = ks.create_project(description="d1")
    assert project["links"]["self"] == f"{server.identity_url}/v3/projects/{project['id']}"
    assert project["domain_id"] == "default" and project["enabled"] is True
    assert project["is_domain"] is False and project["parent_id"] == "default"
    assert project["description"] == "d1" and project["tags"] == []
    r = ks.get("/v3/projects", params={"name": project["name"]}, expect=200).json()
    assert [p["id"] for p in r["projects"]] == [project["id"]]
    assert r["links"]["self"].startswith(server.identity_url + "/v3/projects")
    assert "next" in r["links"] and "previous" in r["links"]
    user = ks.create_user(email="u@example.test")
    assert "password" not in user and "password_hash" not in str(user)
    assert user["enabled"] is True and user["domain_id"] == "default"
    assert user["email"] == "u@example.test"
    got = ks.get(f"/v3/users/{user['id']}", expect=200).json()["user"]
    assert got["name"] == user["name"] and "password" not in got
    # deleting a domain that is enabled is refused; disable first
    dom = ks.post("/v3/domains", json={"domain": {"name": uniq("dom")}}, expect=201).json()["domain"]
    r = ks.delete(f"/v3/domains/{dom['id']}")
    assert_keystone_error(r, 403)
    ks.patch(f"/v3/domains/{dom['id']}", json={"domain": {"enabled": False}}, expect=200)
    ks.delete(f"/v3/domains/{dom['id']}", expect=204)
    assert_keystone_error(ks.get(f"/v3/domains/{dom['id']}"), 404)


def test_project_tags(server):
    ks = Identity(server, server.admin_token())
    project = ks.create_project(tags=["a", "b"])
    assert sorted(project["tags"]) == ["a", "b"]
    ks.put(f"/v3/projects/{project['id']}/tags/c", expect=201)
    ks.get(f"/v3/projects/{project['id']}/tags/c", expect=204)
    assert_keystone_error(ks.get(f"/v3/projects/{project['id']}/tags/zzz"), 404)
    tags = ks.get(f"/v3/projects/{project['id']}/tags", expect=200).json()["tags"]
    assert sorted(tags) == ["a", "b", "c"]
    r = ks.get("/v3/projects", params={"tags": "c"}, expect=200).json()["projects"]
    assert [p["id"] for p in r] == [project["id"]]
    ks.put(f"/v3/projects/{project['id']}/tags", json={"tags": ["x"]}, expect=200)
    ks.delete(f"/v3/projects/{project['id']}/tags/x", expect=204)
    assert ks.get(f"/v3/projects/{project['id']}/tags", expect=200).json()["tags"] == []


def test_implied_roles(server):
    ks = Identity(server, server.admin_token())
    admin, member, reader = (ks.role_id(n) for n in ("admin", "member", "reader"))
    ks.get(f"/v3/roles/{admin}/implies/{member}", expect=200)
    ks.head(f"/v3/roles/{member}/implies/{reader}", expect=204)
    inferences = ks.get("/v3/role_inferences", expect=200).json()["role_inferences"]
    pairs = {(x["prior_role"]["name"], imp["name"]) for x in inferences for imp in x["implies"]}
    assert {("admin", "member"), ("member", "reader")} <= pairs
    new = ks.post("/v3/roles", json={"role": {"name": uniq("r")}}, expect=201).json()["role"]
    r = ks.put(f"/v3/roles/{new['id']}/implies/{reader}", expect=201).json()
    assert r["role_inference"]["prior_role"]["id"] == new["id"]
    assert r["role_inference"]["implies"]["id"] == reader
    user, project, _ = ks.user_with_role(new["name"])
    _, body = ks.issue(password_auth(user["name"], user["_password"],
                                     scope=project_scope(project["id"])))
    assert {x["name"] for x in body["token"]["roles"]} == {new["name"], "reader"}
    ks.delete(f"/v3/roles/{new['id']}/implies/{reader}", expect=204)
    assert_keystone_error(ks.get(f"/v3/roles/{new['id']}/implies/{reader}"), 404)


def test_group_membership_grants_roles(server):
    ks = Identity(server, server.admin_token())
    group = ks.post("/v3/groups", json={"group": {"name": uniq("g")}}, expect=201).json()["group"]
    project = ks.create_project()
    user = ks.create_user()
    member = ks.role_id("member")
    ks.put(f"/v3/projects/{project['id']}/groups/{group['id']}/roles/{member}", expect=204)
    ks.put(f"/v3/groups/{group['id']}/users/{user['id']}", expect=204)
    ks.head(f"/v3/groups/{group['id']}/users/{user['id']}", expect=204)
    users = ks.get(f"/v3/groups/{group['id']}/users", expect=200).json()["users"]
    assert [u["id"] for u in users] == [user["id"]]
    groups = ks.get(f"/v3/users/{user['id']}/groups", expect=200).json()["groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    tok, body = ks.issue(password_auth(user["name"], user["_password"],
                                       scope=project_scope(project["id"])))
    assert "member" in {x["name"] for x in body["token"]["roles"]}
    ra = ks.get("/v3/role_assignments", params={"user.id": user["id"], "effective": ""},
                expect=200).json()["role_assignments"]
    assert any(a["scope"].get("project", {}).get("id") == project["id"]
               and a["role"]["id"] == member for a in ra), ra
    # leaving the group removes the access and revokes the token
    ks.delete(f"/v3/groups/{group['id']}/users/{user['id']}", expect=204)
    assert_keystone_error(ks.validate(tok), 404)
    r = ks.post("/v3/auth/tokens", token=None, json=password_auth(
        user["name"], user["_password"], scope=project_scope(project["id"])))
    assert_keystone_error(r, 401)


def test_credentials_crud(server):
    ks = Identity(server, server.admin_token())
    user, project, _ = ks.user_with_role("member")
    blob = '{"access": "a1", "secret": "s1"}'
    cred = ks.post("/v3/credentials", json={"credential": {
        "user_id": user["id"], "project_id": project["id"], "type": "ec2", "blob": blob}},
        expect=201).json()["credential"]
    assert cred["type"] == "ec2" and cred["user_id"] == user["id"] and cred["blob"] == blob
    got = ks.get(f"/v3/credentials/{cred['id']}", expect=200).json()["credential"]
    assert got["blob"] == blob
    listed = ks.get("/v3/credentials", params={"user_id": user["id"]}, expect=200).json()
    assert [c["id"] for c in listed["credentials"]] == [cred["id"]]
    ks.patch(f"/v3/credentials/{cred['id']}", json={"credential": {"blob": '{"access": "a2", "secret": "s2"}'}},
             expect=200)
    ks.delete(f"/v3/credentials/{cred['id']}", expect=204)
    assert_keystone_error(ks.get(f"/v3/credentials/{cred['id']}"), 404)


def test_application_credential_api(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    path = f"/v3/users/{user['id']}/application_credentials"
    r = ks.post(path, token=tok, json={"application_credential": {"name": "ac1"}}, expect=201)
    ac = r.json()["application_credential"]
    assert ac["secret"] and ac["id"] and ac["project_id"] == project["id"]
    assert {x["name"] for x in ac["roles"]} >= {"member"}
    listed = ks.get(path, token=tok, expect=200).json()["application_credentials"]
    assert [x["id"] for x in listed] == [ac["id"]]
    assert "secret" not in listed[0]
    shown = ks.get(f"{path}/{ac['id']}", token=tok, expect=200).json()["application_credential"]
    assert "secret" not in shown
    # duplicate name -> 409
    assert_keystone_error(ks.post(path, token=tok, json={"application_credential": {"name": "ac1"}}),
                          409)
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": ac["id"], "secret": ac["secret"]}}}}
    _, body = ks.issue(auth)
    token = body["token"]
    assert token["project"]["id"] == project["id"]
    assert token["user"]["id"] == user["id"]
    assert token["application_credential"]["id"] == ac["id"]
    assert token["methods"] == ["application_credential"]
    # by name + user
    auth2 = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "name": "ac1", "secret": ac["secret"], "user": {"id": user["id"]}}}}}
    ks.issue(auth2)
    bad = {"auth": {"identity": {"methods": ["application_credential"],
                                 "application_credential": {"id": ac["id"], "secret": "wrong"}}}}
    assert_keystone_error(ks.post("/v3/auth/tokens", token=None, json=bad), 401)
    # another user cannot see it
    _, _, other_tok = ks.user_with_role("member")
    r = ks.get(path, token=other_tok)
    assert_keystone_error(r, 403)
    ks.delete(f"{path}/{ac['id']}", token=tok, expect=204)
    assert_keystone_error(ks.post("/v3/auth/tokens", token=None, json=auth), 401)


# ---------------------------------------------------------------------------
# application credential access rules
# ---------------------------------------------------------------------------

def test_access_rules(server):
    """/v3/users/{id}/access_rules: the rules a user's application
    credentials were made with, one per service/path/method, kept after the
    credential goes, deletable only when no credential names them."""
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    me = Identity(server, tok)
    base = f"/v3/users/{user['id']}"
    rule = {"service": "compute", "path": "/v2.1/servers/*/ips", "method": "GET"}
    ac = me.post(base + "/application_credentials", expect=201, json={
        "application_credential": {"name": uniq("ac"), "access_rules": [rule]}}).json()
    ac = ac["application_credential"]
    got = ac["access_rules"][0]
    rid = got.pop("id")
    assert got == rule
    # The same rule again is the same rule (by value, or by id).
    ac2 = me.post(base + "/application_credentials", expect=201, json={
        "application_credential": {"name": uniq("ac"), "access_rules": [rule]}}).json()
    assert ac2["application_credential"]["access_rules"][0]["id"] == rid
    ac3 = me.post(base + "/application_credentials", expect=201, json={
        "application_credential": {"name": uniq("ac"), "access_rules": [{"id": rid}]}}).json()
    assert ac3["application_credential"]["access_rules"] == [dict(rule, id=rid)]

    listed = me.get(base + "/access_rules", expect=200).json()
    assert set(listed) == {"access_rules", "links"}
    assert [r["id"] for r in listed["access_rules"]] == [rid]
    r = listed["access_rules"][0]
    assert set(r) == {"id", "service", "path", "method", "links"} and r["service"] == "compute"
    assert me.get(base + "/access_rules", params={"service": "image"},
                  expect=200).json()["access_rules"] == []
    shown = me.get(f"{base}/access_rules/{rid}", expect=200).json()["access_rule"]
    assert shown == r
    assert_keystone_error(me.get(f"{base}/access_rules/{'0' * 32}"), 404)
    # Someone else's rules are not theirs to read.
    other, _, other_tok = ks.user_with_role("member")
    assert_keystone_error(Identity(server, other_tok).get(base + "/access_rules"), 403)

    # In use: 403; once no credential names it, it can go.
    assert_keystone_error(me.delete(f"{base}/access_rules/{rid}"), 403)
    for a in (ac, ac2["application_credential"], ac3["application_credential"]):
        me.delete(f"{base}/application_credentials/{a['id']}", expect=204)
    assert [x["id"] for x in me.get(base + "/access_rules", expect=200).json()["access_rules"]] \
        == [rid]
    me.delete(f"{base}/access_rules/{rid}", expect=204)
    assert me.get(base + "/access_rules", expect=200).json()["access_rules"] == []
    assert_keystone_error(me.delete(f"{base}/access_rules/{rid}"), 404)

    # Bad rules: 400 naming the field; someone else's rule id: 404.
    for bad, field in [({"service": "compute", "path": "no-slash", "method": "GET"}, "path"),
                       ({"service": "compute", "path": "/x", "method": "FETCH"}, "method"),
                       ({"path": "/x", "method": "GET"}, "service")]:
        r = me.post(base + "/application_credentials", json={
            "application_credential": {"name": uniq("ac"), "access_rules": [bad]}})
        assert field in assert_keystone_error(r, 400)["message"]
    theirs = Identity(server, other_tok).post(
        f"/v3/users/{other['id']}/application_credentials", expect=201, json={
            "application_credential": {"name": uniq("ac"), "access_rules": [rule]}}).json()
    their_rule = theirs["application_credential"]["access_rules"][0]["id"]
    r = me.post(base + "/application_credentials", json={
        "application_credential": {"name": uniq("ac"), "access_rules": [{"id": their_rule}]}})
    assert_keystone_error(r, 404)
