"""Token validations are cached; every write that can change one must show at once.

Each test validates a token first (so its answer is cached), then changes
something the answer depends on and checks the very next validation, through
the identity API and through another service, sees the change.
"""

import shutil

import pytest
import requests

import ferro
from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq


def _validated_twice(ks, tok):
    """Validate twice (the second answer comes from the cache); return the body."""
    for _ in range(2):
        r = ks.validate(tok)
        assert r.status_code == 200, r.text
    return r.json()["token"]


def _roles(ks, tok):
    return {x["name"] for x in _validated_twice(ks, tok)["roles"]}


def _images_status(server, tok):
    return requests.get(server.url + "/image/v2/images", headers={"X-Auth-Token": tok},
                        timeout=10).status_code


def test_removing_implied_role_changes_roles_at_once(server):
    ks = Identity(server, server.admin_token())
    reader = ks.role_id("reader")
    role = ks.post("/v3/roles", json={"role": {"name": uniq("r")}}, expect=201).json()["role"]
    ks.put(f"/v3/roles/{role['id']}/implies/{reader}", expect=201)
    _, _, tok = ks.user_with_role(role["name"])
    assert _roles(ks, tok) == {role["name"], "reader"}
    ks.delete(f"/v3/roles/{role['id']}/implies/{reader}", expect=204)
    assert {x["name"] for x in ks.validate(tok).json()["token"]["roles"]} == {role["name"]}


def test_new_grant_shows_at_once(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("reader")
    assert "admin" not in _roles(ks, tok)
    ks.grant_project(project["id"], user["id"], "admin")
    assert "admin" in {x["name"] for x in ks.validate(tok).json()["token"]["roles"]}


def test_deleting_the_only_role_invalidates_at_once(server):
    ks = Identity(server, server.admin_token())
    role = ks.post("/v3/roles", json={"role": {"name": uniq("r")}}, expect=201).json()["role"]
    _, _, tok = ks.user_with_role(role["name"])
    _validated_twice(ks, tok)
    assert _images_status(server, tok) == 200
    ks.delete(f"/v3/roles/{role['id']}", expect=204)
    assert_keystone_error(ks.validate(tok), 404)
    assert _images_status(server, tok) == 401


def test_revoked_token_is_refused_by_other_services_at_once(server):
    ks = Identity(server, server.admin_token())
    _, _, tok = ks.user_with_role("member")
    _validated_twice(ks, tok)
    assert _images_status(server, tok) == 200
    ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": tok}, expect=204)
    assert _images_status(server, tok) == 401
    assert_keystone_error(ks.get("/v3/auth/catalog", token=tok), 401)


def test_role_removal_is_seen_by_other_services_at_once(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    assert _images_status(server, tok) == 200
    assert _images_status(server, tok) == 200
    member = ks.role_id("member")
    ks.delete(f"/v3/projects/{project['id']}/users/{user['id']}/roles/{member}", expect=204)
    assert _images_status(server, tok) == 401


def test_deleting_application_credential_invalidates_its_tokens(server):
    ks = Identity(server, server.admin_token())
    user, _, tok = ks.user_with_role("member")
    path = f"/v3/users/{user['id']}/application_credentials"
    ac = ks.post(path, token=tok, json={"application_credential": {"name": uniq("ac")}},
                 expect=201).json()["application_credential"]
    ac_tok, _ = ks.issue({"auth": {"identity": {"methods": ["application_credential"],
                                                "application_credential": {
                                                    "id": ac["id"], "secret": ac["secret"]}}}})
    _validated_twice(ks, ac_tok)
    ks.delete(f"{path}/{ac['id']}", token=tok, expect=204)
    assert_keystone_error(ks.validate(ac_tok), 404)
    assert _images_status(server, ac_tok) == 401


def test_disabling_domain_invalidates_at_once(server):
    ks = Identity(server, server.admin_token())
    domain = ks.post("/v3/domains", json={"domain": {"name": uniq("d")}},
                     expect=201).json()["domain"]
    project = ks.create_project(domain_id=domain["id"])
    user = ks.create_user(domain_id=domain["id"])
    ks.grant_project(project["id"], user["id"], "member")
    tok, _ = ks.issue(password_auth(user["name"], user["_password"], domain_id=domain["id"],
                                    scope=project_scope(project["id"])))
    _validated_twice(ks, tok)
    ks.patch(f"/v3/domains/{domain['id']}", json={"domain": {"enabled": False}}, expect=200)
    assert_keystone_error(ks.validate(tok), 404)
    assert _images_status(server, tok) == 401


def test_deleting_project_invalidates_at_once(server):
    ks = Identity(server, server.admin_token())
    _, project, tok = ks.user_with_role("member")
    _validated_twice(ks, tok)
    ks.delete(f"/v3/projects/{project['id']}", expect=204)
    assert_keystone_error(ks.validate(tok), 404)


def test_write_through_another_process_invalidates_at_once(backend, tmp_path):
    """Two servers on one PostgreSQL database: a revocation through one is
    seen by the other's next validation (its cache is not trusted)."""
    if backend != "postgres":
        pytest.skip("several processes share a database only on PostgreSQL")
    url, drop = ferro.fresh_postgres_database()
    a = ferro.Server(tmp_path / "a", database_url=url)
    b = None
    try:
        a.start()
        (tmp_path / "b").mkdir()
        shutil.copytree(a.data_dir / "fernet-keys", tmp_path / "b" / "fernet-keys")
        b = ferro.Server(tmp_path / "b", database_url=url, admin_password=a.admin_password)
        b.start()
        ks_a = Identity(a, a.admin_token())
        ks_b = Identity(b, ks_a.token)
        user, project, tok = ks_a.user_with_role("member")
        _validated_twice(ks_b, tok)
        assert _images_status(b, tok) == 200
        member = ks_a.role_id("member")
        ks_a.delete(f"/v3/projects/{project['id']}/users/{user['id']}/roles/{member}",
                    expect=204)
        assert_keystone_error(ks_b.validate(tok), 404)
        assert _images_status(b, tok) == 401
    finally:
        if b:
            b.stop()
        a.stop()
        drop()


def test_rendered_body_follows_catalog_and_project_changes(server):
    """The serialised validation body is reused only while nothing changed."""
    ks = Identity(server, server.admin_token())
    _, project, tok = ks.user_with_role("member")
    body = _validated_twice(ks, tok)
    assert body["project"]["name"] == project["name"]
    types = {s["type"] for s in body["catalog"]}
    svc = ks.post("/v3/services", json={"service": {"type": uniq("svc"), "name": "x"}},
                  expect=201).json()["service"]
    ks.post("/v3/endpoints", expect=201, json={"endpoint": {
        "service_id": svc["id"], "interface": "public", "url": "http://example.test/x"}})
    after = _validated_twice(ks, tok)
    assert {s["type"] for s in after["catalog"]} == types | {svc["type"]}
    renamed = uniq("renamed")
    ks.patch(f"/v3/projects/{project['id']}", json={"project": {"name": renamed}}, expect=200)
    assert ks.validate(tok).json()["token"]["project"]["name"] == renamed
    # ?nocatalog has its own rendered body
    r = ks.get("/v3/auth/tokens?nocatalog", headers={"X-Subject-Token": tok}, expect=200)
    assert "catalog" not in r.json()["token"]
    assert "catalog" in ks.validate(tok).json()["token"]
