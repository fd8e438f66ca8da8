"""Keystone trusts (OS-TRUST): the API on the wire, tokens from trusts,
revocation, redelegation, bad input; the openstack CLI, keystoneauth and
openstacksdk driving them. Both database backends."""

import datetime
import json
import subprocess
import time

import pytest
import yaml

from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq
from test_identity_cli import Cli

TS_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"

# Keystone's trust response schema (keystone/trust/schema.py): the fields a
# trust may show; roles carry exactly these.
TRUST_FIELDS = {"id", "trustor_user_id", "trustee_user_id", "impersonation", "project_id",
                "remaining_uses", "expires_at", "redelegated_trust_id", "redelegation_count",
                "deleted_at", "links", "roles", "roles_links"}
ROLE_FIELDS = {"id", "name", "domain_id", "description", "options", "links"}


class Setup:
    """A project, a trustor holding two custom roles there, a trustee with
    no roles at all, and a project-scoped token for the trustor."""

    def __init__(self, server):
        self.server = server
        self.admin = Identity(server, server.admin_token())
        self.ks = Identity(server, None)
        a = self.admin
        self.project = a.create_project()
        self.role = a.post("/v3/roles", json={"role": {"name": uniq("deleg")}}, expect=201).json()["role"]
        self.other_role = a.post("/v3/roles", json={"role": {"name": uniq("kept")}},
                                 expect=201).json()["role"]
        self.trustor = a.create_user()
        self.trustee = a.create_user()
        for r in (self.role, self.other_role):
            a.put(f"/v3/projects/{self.project['id']}/users/{self.trustor['id']}/roles/{r['id']}",
                  expect=204)
        self.trustor_token = self.login(self.trustor, project_scope(self.project["id"]))

    def login(self, user, scope=None):
        tok, _ = self.ks.issue(password_auth(user_id=user["id"], password=user["_password"],
                                             scope=scope))
        return tok

    def body(self, **kw):
        t = {"trustor_user_id": self.trustor["id"], "trustee_user_id": self.trustee["id"],
             "project_id": self.project["id"], "impersonation": True,
             "roles": [{"id": self.role["id"]}]}
        t.update(kw)
        return {"trust": t}

    def create(self, token=None, expect=201, **kw):
        r = self.ks.post("/v3/OS-TRUST/trusts", json=self.body(**kw),
                         token=token or self.trustor_token)
        assert r.status_code == expect, (r.status_code, r.text)
        return r.json()["trust"] if expect == 201 else assert_keystone_error(r, expect)

    def trust_auth(self, trust_id, user=None):
        user = user or self.trustee
        return password_auth(user_id=user["id"], password=user["_password"],
                             scope={"OS-TRUST:trust": {"id": trust_id}})

    def trust_token(self, trust_id, user=None, expect=201):
        tok, body = self.ks.issue(self.trust_auth(trust_id, user), expect=expect)
        return tok, body

    def validate(self, tok):
        return self.admin.validate(tok)


@pytest.fixture
def s(server):
    return Setup(server)


def check_trust_schema(t, with_roles):
    assert set(t) <= TRUST_FIELDS, set(t) - TRUST_FIELDS
    for k in ("id", "trustor_user_id", "trustee_user_id", "impersonation", "project_id",
              "remaining_uses", "expires_at", "redelegation_count", "links"):
        assert k in t, k
    assert isinstance(t["impersonation"], bool)
    assert "/v3/OS-TRUST/trusts/" + t["id"] in t["links"]["self"]
    assert "allow_redelegation" not in t
    if with_roles:
        assert isinstance(t["roles"], list) and t["roles"]
        for r in t["roles"]:
            assert set(r) == ROLE_FIELDS, r
            assert r["links"]["self"].endswith("/v3/roles/" + r["id"])
        assert set(t["roles_links"]) == {"self", "previous", "next"}
    else:
        assert "roles" not in t and "roles_links" not in t


def test_create_show_list_roles_delete(s):
    ks, admin = s.ks, s.admin
    t = s.create()
    check_trust_schema(t, with_roles=True)
    assert t["trustor_user_id"] == s.trustor["id"] and t["trustee_user_id"] == s.trustee["id"]
    assert t["project_id"] == s.project["id"] and t["impersonation"] is True
    assert t["expires_at"] is None and t["remaining_uses"] is None
    assert t["redelegation_count"] == 0 and t["redelegated_trust_id"] is None
    assert [r["id"] for r in t["roles"]] == [s.role["id"]]
    assert t["roles"][0]["name"] == s.role["name"]
    path = f"/v3/OS-TRUST/trusts/{t['id']}"

    # Trustor, trustee and admin read it; someone else may not.
    trustee_tok = s.login(s.trustee)
    for tok in (s.trustor_token, trustee_tok, admin.token):
        got = ks.get(path, token=tok, expect=200).json()["trust"]
        check_trust_schema(got, with_roles=True)
        assert got == t
    stranger = admin.create_user()
    assert_keystone_error(ks.get(path, token=s.login(stranger)), 403)
    assert_keystone_error(ks.get("/v3/OS-TRUST/trusts/" + "0" * 32, token=s.trustor_token), 404)

    # Lists: by trustor (the trustor), by trustee (the trustee), all (admin only).
    q = ks.get(f"/v3/OS-TRUST/trusts?trustor_user_id={s.trustor['id']}",
               token=s.trustor_token, expect=200).json()
    assert set(q) == {"trusts", "links"} and [x["id"] for x in q["trusts"]] == [t["id"]]
    check_trust_schema(q["trusts"][0], with_roles=False)
    q = ks.get("/v3/OS-TRUST/trusts/", params={"trustee_user_id": s.trustee["id"]},
               token=trustee_tok, expect=200).json()
    assert [x["id"] for x in q["trusts"]] == [t["id"]]
    assert_keystone_error(ks.get(f"/v3/OS-TRUST/trusts?trustor_user_id={s.trustor['id']}",
                                 token=trustee_tok), 403)
    assert_keystone_error(ks.get(f"/v3/OS-TRUST/trusts?trustee_user_id={s.trustee['id']}",
                                 token=s.trustor_token), 403)
    assert_keystone_error(ks.get("/v3/OS-TRUST/trusts", token=s.trustor_token), 403)
    all_ids = [x["id"] for x in ks.get("/v3/OS-TRUST/trusts", token=admin.token,
                                       expect=200).json()["trusts"]]
    assert t["id"] in all_ids
    # Other parameters alone match nothing (as Keystone).
    assert ks.get("/v3/OS-TRUST/trusts?foo=bar", token=admin.token,
                  expect=200).json()["trusts"] == []

    # Roles of the trust: the delegated one only.
    roles = ks.get(path + "/roles", token=trustee_tok, expect=200).json()
    assert [r["id"] for r in roles["roles"]] == [s.role["id"]]
    assert set(roles["links"]) == {"self", "previous", "next"}
    got = ks.get(f"{path}/roles/{s.role['id']}", token=s.trustor_token, expect=200).json()
    assert got["role"]["id"] == s.role["id"] and set(got["role"]) == ROLE_FIELDS
    head = ks.head(f"{path}/roles/{s.role['id']}", token=s.trustor_token)
    assert head.status_code == 200 and head.content == b""
    assert ks.head(path + "/roles", token=s.trustor_token).status_code == 200
    assert_keystone_error(ks.get(f"{path}/roles/{s.other_role['id']}", token=s.trustor_token), 404)
    assert ks.head(f"{path}/roles/{s.other_role['id']}", token=s.trustor_token).status_code == 404

    # Only the trustor (or an admin) deletes it.
    assert_keystone_error(ks.delete(path, token=trustee_tok), 403)
    ks.delete(path, token=s.trustor_token, expect=204)
    assert_keystone_error(ks.get(path, token=s.trustor_token), 404)
    assert_keystone_error(ks.delete(path, token=s.trustor_token), 404)
    t2 = s.create()
    ks.delete(f"/v3/OS-TRUST/trusts/{t2['id']}", token=admin.token, expect=204)


def test_token_from_trust_impersonating(s):
    t = s.create()
    tok, body = s.trust_token(t["id"])
    tb = body["token"]
    assert tb["OS-TRUST:trust"] == {
        "id": t["id"], "impersonation": True,
        "trustor_user": {"id": s.trustor["id"]}, "trustee_user": {"id": s.trustee["id"]}}
    # Impersonation: the token shows (and acts as) the trustor.
    assert tb["user"]["id"] == s.trustor["id"] and tb["user"]["name"] == s.trustor["name"]
    assert tb["project"]["id"] == s.project["id"]
    assert [r["id"] for r in tb["roles"]] == [s.role["id"]]
    assert "is_domain" not in tb
    assert tb["methods"] == ["password"]
    assert any(e["type"] == "identity" for e in tb["catalog"])
    v = s.validate(tok)
    assert v.status_code == 200, v.text
    vb = v.json()["token"]
    assert vb["OS-TRUST:trust"] == tb["OS-TRUST:trust"] and vb["user"] == tb["user"]
    assert vb["roles"] == tb["roles"]
    # The token works as the trustor, e.g. for the trustor's own record.
    s.ks.get(f"/v3/users/{s.trustor['id']}", token=tok, expect=200)
    # Token method: a trustee's unscoped token can be traded for a trust token.
    unscoped = s.login(s.trustee)
    tok2, body2 = s.ks.issue({"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                                       "scope": {"OS-TRUST:trust": {"id": t["id"]}}}})
    assert body2["token"]["OS-TRUST:trust"]["id"] == t["id"]
    assert sorted(body2["token"]["methods"]) == ["password", "token"]
    # A trust-scoped token cannot make another token.
    r = s.ks.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": tok}}}}, token=None)
    assert_keystone_error(r, 403)
    # Nor manage application credentials (Keystone: they would outlive it).
    r = s.ks.post(f"/v3/users/{s.trustor['id']}/application_credentials", token=tok,
                  json={"application_credential": {"name": uniq("ac")}})
    assert_keystone_error(r, 403)
    assert_keystone_error(s.ks.get(f"/v3/users/{s.trustor['id']}/application_credentials",
                                   token=tok), 403)


def test_token_from_trust_not_impersonating(s):
    t = s.create(impersonation=False)
    _, body = s.trust_token(t["id"])
    tb = body["token"]
    assert tb["user"]["id"] == s.trustee["id"]
    assert tb["OS-TRUST:trust"]["impersonation"] is False
    assert [r["id"] for r in tb["roles"]] == [s.role["id"]]


def test_only_the_trustee_uses_it(s):
    t = s.create(remaining_uses=3)
    other = s.admin.create_user()
    # Not the trustee: 403, and no use is taken.
    r = s.ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"], other), token=None)
    assert_keystone_error(r, 403)
    r = s.ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"], s.trustor), token=None)
    assert_keystone_error(r, 403)
    got = s.ks.get(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.trustor_token, expect=200)
    assert got.json()["trust"]["remaining_uses"] == 3


def test_remaining_uses(s):
    t = s.create(remaining_uses=2)
    assert t["remaining_uses"] == 2
    path = f"/v3/OS-TRUST/trusts/{t['id']}"
    tok1, _ = s.trust_token(t["id"])
    assert s.ks.get(path, token=s.trustor_token, expect=200).json()["trust"]["remaining_uses"] == 1
    tok2, _ = s.trust_token(t["id"])
    # Used up: the trust is gone from view and gives no more tokens (401).
    assert_keystone_error(s.ks.get(path, token=s.trustor_token), 404)
    r = s.ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"]), token=None)
    assert_keystone_error(r, 401)
    # The tokens already issued stay good.
    assert s.validate(tok1).status_code == 200
    assert s.validate(tok2).status_code == 200


def test_expiry(s):
    when = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).replace(
        microsecond=0)
    t = s.create(expires_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert t["expires_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    got = s.ks.get(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.trustor_token, expect=200)
    assert got.json()["trust"]["expires_at"] == t["expires_at"]
    # A bad timestamp or one in the past: 400.
    s.create(expires_at="bad.123Z", expect=400)
    s.create(expires_at="2001-01-01T00:00:00Z", expect=400)
    # A trust that expires: its tokens stop validating and no new ones come.
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
    t = s.create(expires_at=soon.strftime(TS_MICRO), roles=[{"name": s.other_role["name"]}])
    tok, _ = s.trust_token(t["id"])
    assert s.validate(tok).status_code == 200
    time.sleep(max(0.0, (soon - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.5)
    assert s.validate(tok).status_code == 404
    r = s.ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"]), token=None)
    assert_keystone_error(r, 401)
    assert_keystone_error(s.ks.get(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.trustor_token), 404)


def test_revocation(s):
    admin, ks = s.admin, s.ks
    t = s.create(impersonation=False)
    tok, _ = s.trust_token(t["id"])
    # The trustor loses the delegated role: the token stops, no new one (403).
    grant = f"/v3/projects/{s.project['id']}/users/{s.trustor['id']}/roles/{s.role['id']}"
    admin.delete(grant, expect=204)
    assert s.validate(tok).status_code == 404
    r = ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"]), token=None)
    assert_keystone_error(r, 403)
    admin.put(grant, expect=204)
    tok, _ = s.trust_token(t["id"])
    assert s.validate(tok).status_code == 200
    # The trustor disabled: 403 on issue; enabled again: fine.
    admin.patch(f"/v3/users/{s.trustor['id']}", json={"user": {"enabled": False}}, expect=200)
    assert s.validate(tok).status_code == 404
    assert_keystone_error(ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"]), token=None), 403)
    admin.patch(f"/v3/users/{s.trustor['id']}", json={"user": {"enabled": True}}, expect=200)
    tok, _ = s.trust_token(t["id"])
    # The trustee's password changes: its trust tokens are revoked.
    admin.patch(f"/v3/users/{s.trustee['id']}", json={"user": {"password": "new-" + uniq("pw")}},
                expect=200)
    assert s.validate(tok).status_code == 404
    # Deleting the trustee deletes the trust (the trustor's token went
    # when it was disabled: a new one).
    s.trustor_token = s.login(s.trustor, project_scope(s.project["id"]))
    t2 = s.create()
    admin.delete(f"/v3/users/{s.trustee['id']}", expect=204)
    assert_keystone_error(ks.get(f"/v3/OS-TRUST/trusts/{t2['id']}", token=s.trustor_token), 404)
    assert ks.get(f"/v3/OS-TRUST/trusts?trustor_user_id={s.trustor['id']}",
                  token=s.trustor_token, expect=200).json()["trusts"] == []


def test_delete_revokes_tokens_and_project_delete(s):
    t = s.create()
    tok, _ = s.trust_token(t["id"])
    s.ks.delete(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.trustor_token, expect=204)
    assert s.validate(tok).status_code == 404
    assert s.ks.get("/v3/auth/catalog", token=tok).status_code == 401
    assert_keystone_error(s.ks.post("/v3/auth/tokens", json=s.trust_auth(t["id"]), token=None), 401)
    # A project's trusts go with it.
    t = s.create()
    s.admin.delete(f"/v3/projects/{s.project['id']}", expect=204)
    assert_keystone_error(s.ks.get(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.admin.token), 404)


def test_redelegation(s):
    admin, ks = s.admin, s.ks
    t = s.create(allow_redelegation=True)
    assert t["redelegation_count"] == 3  # Keystone's max_redelegation_count
    tok, _ = s.trust_token(t["id"])
    second = admin.create_user()
    # Impersonating, the trustee acts as the trustor and redelegates.
    r = ks.post("/v3/OS-TRUST/trusts", token=tok, json={"trust": {
        "trustor_user_id": s.trustor["id"], "trustee_user_id": second["id"],
        "project_id": s.project["id"], "impersonation": True,
        "roles": [{"id": s.role["id"]}], "allow_redelegation": True}})
    assert r.status_code == 201, r.text
    child = r.json()["trust"]
    assert child["redelegated_trust_id"] == t["id"] and child["redelegation_count"] == 2
    ctok, cbody = s.trust_token(child["id"], second)
    assert cbody["token"]["user"]["id"] == s.trustor["id"]
    assert [x["id"] for x in cbody["token"]["roles"]] == [s.role["id"]]
    base = {"trustor_user_id": s.trustor["id"], "trustee_user_id": second["id"],
            "project_id": s.project["id"], "impersonation": True, "roles": [{"id": s.role["id"]}]}
    # Limits: a role the parent does not delegate, a changed depth, limited uses.
    bad = dict(base, roles=[{"id": s.other_role["id"]}])
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", token=tok, json={"trust": bad}), 403)
    bad = dict(base, allow_redelegation=True, redelegation_count=1)
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", token=tok, json={"trust": bad}), 403)
    bad = dict(base, allow_redelegation=True, remaining_uses=5)
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", token=tok, json={"trust": bad}), 400)
    # A trust that does not allow redelegation cannot be redelegated.
    plain = s.create(trustee_user_id=second["id"])
    ptok, _ = s.trust_token(plain["id"], second)
    r = ks.post("/v3/OS-TRUST/trusts", token=ptok, json={"trust": dict(
        base, trustee_user_id=s.trustee["id"])})
    assert_keystone_error(r, 403)
    # Deeper than the maximum: 403.
    s.create(allow_redelegation=True, redelegation_count=4, expect=403)
    # A trustee up the chain disabled: the child's tokens stop (no revocation
    # event names them: the chain check does) and it gives no more (403).
    admin.patch(f"/v3/users/{s.trustee['id']}", json={"user": {"enabled": False}}, expect=200)
    assert s.validate(ctok).status_code == 404
    assert_keystone_error(ks.post("/v3/auth/tokens", json=s.trust_auth(child["id"], second),
                                  token=None), 403)
    admin.patch(f"/v3/users/{s.trustee['id']}", json={"user": {"enabled": True}}, expect=200)
    ctok, _ = s.trust_token(child["id"], second)
    assert s.validate(ctok).status_code == 200
    # Deleting the parent deletes the child; its tokens stop.
    ks.delete(f"/v3/OS-TRUST/trusts/{t['id']}", token=s.trustor_token, expect=204)
    assert_keystone_error(ks.get(f"/v3/OS-TRUST/trusts/{child['id']}", token=admin.token), 404)
    assert s.validate(ctok).status_code == 404


def test_bad_input(s):
    ks = s.ks
    missing = "0" * 32
    s.create(trustee_user_id=missing, expect=404)
    s.create(roles=[{"id": missing}], expect=404)
    s.create(roles=[{"name": "no-such-role-" + uniq("r")}], expect=404)
    s.create(project_id=missing, expect=404)
    admin_role = s.admin.role_id("admin")
    s.create(roles=[{"id": admin_role}], expect=404)  # a role the trustor does not hold
    s.create(roles=[], expect=403)
    s.create(trustor_user_id=s.trustee["id"], expect=403)
    s.create(remaining_uses=0, expect=400)
    s.create(remaining_uses="2", expect=400)
    s.create(remaining_uses=True, expect=400)
    s.create(impersonation="yes", expect=400)
    s.create(roles=[{"id": s.role["id"], "name": s.role["name"]}], expect=400)
    s.create(roles=[{"foo": "bar"}], expect=400)
    s.create(roles="admin", expect=400)
    s.create(redelegation_count=-1, expect=400)
    for field in ("trustor_user_id", "trustee_user_id", "impersonation"):
        body = s.body()
        del body["trust"][field]
        err = assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", json=body,
                                            token=s.trustor_token), 400)
        assert field in err["message"]
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", json={"trust": "x"},
                                  token=s.trustor_token), 400)
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", json=dict(s.body(), extra=1),
                                  token=s.trustor_token), 400)
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", data="{", token=s.trustor_token,
                                  headers={"Content-Type": "application/json"}), 400)
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", json=s.body(), token=None), 401)
    # Token requests naming trusts badly.
    user = {"id": s.trustee["id"], "password": s.trustee["_password"]}
    ident = {"methods": ["password"], "password": {"user": user}}
    for scope, status in [({"OS-TRUST:trust": ""}, 400), ({"OS-TRUST:trust": {}}, 400),
                          ({"OS-TRUST:trust": {"id": 5}}, 400),
                          ({"OS-TRUST:trust": {"id": missing}}, 401),
                          ({"OS-TRUST:trust": {"id": missing},
                            "project": {"id": s.project["id"]}}, 400)]:
        r = ks.post("/v3/auth/tokens", json={"auth": {"identity": ident, "scope": scope}},
                    token=None)
        assert_keystone_error(r, status)
    # An application credential may not manage trusts.
    ac = ks.post(f"/v3/users/{s.trustor['id']}/application_credentials", token=s.trustor_token,
                 json={"application_credential": {"name": uniq("ac")}}, expect=201).json()
    ac = ac["application_credential"]
    actok, _ = ks.issue({"auth": {"identity": {"methods": ["application_credential"],
                                               "application_credential": {
                                                   "id": ac["id"], "secret": ac["secret"]}}}})
    assert_keystone_error(ks.post("/v3/OS-TRUST/trusts", json=s.body(), token=actok), 403)
    assert_keystone_error(ks.get(f"/v3/OS-TRUST/trusts?trustor_user_id={s.trustor['id']}",
                                 token=actok), 403)


def test_roles_by_name_and_implied(s):
    admin = s.admin
    implied = admin.post("/v3/roles", json={"role": {"name": uniq("implied")}},
                         expect=201).json()["role"]
    admin.put(f"/v3/roles/{s.role['id']}/implies/{implied['id']}", expect=201)
    t = s.create(roles=[{"name": s.role["name"]}])
    assert [r["id"] for r in t["roles"]] == [s.role["id"]]
    # The token carries the implied role too (the trustor holds it through
    # the implication).
    _, body = s.trust_token(t["id"])
    assert {r["id"] for r in body["token"]["roles"]} == {s.role["id"], implied["id"]}
    # And the implied role can itself be delegated by id.
    t2 = s.create(roles=[{"id": implied["id"]}], impersonation=False)
    assert [r["id"] for r in t2["roles"]] == [implied["id"]]


def _clouds(server, path, **clouds):
    doc = yaml.safe_load(server.clouds_yaml.read_text())
    base = doc["clouds"]["ferrostack"]
    for name, auth in clouds.items():
        c = json.loads(json.dumps(base))
        c["auth"] = {"auth_url": base["auth"]["auth_url"], "user_domain_id": "default", **auth}
        doc["clouds"][name] = c
    path.write_text(yaml.safe_dump(doc))
    return path


def test_cli_and_sdk(s, tmp_path):
    srv = s.server
    conf = _clouds(srv, tmp_path / "clouds.yaml",
                   trustor={"username": s.trustor["name"], "password": s.trustor["_password"],
                            "project_id": s.project["id"]})
    cli = Cli(srv, config_file=conf, cloud="trustor")
    # A member may not look roles or other users up (as in Keystone), so
    # the CLI sends what it is given as ids: give ids.
    t = cli.json("trust", "create", "--project", s.project["id"], "--role", s.role["id"],
                 "--impersonate", s.trustor["id"], s.trustee["id"])
    assert t["trustor_user_id"] == s.trustor["id"] and t["trustee_user_id"] == s.trustee["id"]
    assert t["is_impersonation"] is True and t["project_id"] == s.project["id"]
    shown = cli.json("trust", "show", t["id"])
    assert shown["id"] == t["id"]
    listed = cli.json("trust", "list", "--auth-user")
    assert [row["ID"] for row in listed] == [t["id"]]
    admin_cli = Cli(srv)
    assert t["id"] in {row["ID"] for row in admin_cli.json("trust", "list")}

    # The trustee gets a token from the trust (clouds.yaml trust_id, and the
    # --os-trust-id option).
    conf = _clouds(srv, tmp_path / "clouds.yaml",
                   trustor={"username": s.trustor["name"], "password": s.trustor["_password"],
                            "project_id": s.project["id"]},
                   trustee={"username": s.trustee["name"], "password": s.trustee["_password"],
                            "trust_id": t["id"]},
                   trustee_plain={"username": s.trustee["name"],
                                  "password": s.trustee["_password"]})
    tok = Cli(srv, config_file=conf, cloud="trustee").json("token", "issue")
    assert tok["project_id"] == s.project["id"] and tok["user_id"] == s.trustor["id"]
    tok2 = Cli(srv, config_file=conf, cloud="trustee_plain").json(
        "--os-trust-id", t["id"], "token", "issue")
    assert tok2["project_id"] == s.project["id"]
    v = s.validate(tok2["id"]).json()["token"]
    assert v["OS-TRUST:trust"]["id"] == t["id"]

    # keystoneauth's v3.Password(trust_id=...) and openstacksdk on top of it.
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3
    import openstack
    auth = v3.Password(auth_url=srv.identity_url, user_id=s.trustee["id"],
                       password=s.trustee["_password"], trust_id=t["id"])
    sess = ks_session.Session(auth=auth)
    assert sess.get_project_id() == s.project["id"]
    access = auth.get_access(sess)
    assert access.trust_id == t["id"] and access.trust_scoped
    assert access.trustor_user_id == s.trustor["id"] and access.trustee_user_id == s.trustee["id"]
    conn = openstack.connection.Connection(session=sess, region_name="RegionOne")
    roles = list(conn.identity.trusts(trustor_user_id=s.trustor["id"]))
    assert [x.id for x in roles] == [t["id"]]

    # The admin, its own trustor, names the project, role and users by name.
    mine = admin_cli.json("trust", "create", "--project", "admin", "--role", "member",
                          "admin", s.trustee["name"])
    assert mine["trustee_user_id"] == s.trustee["id"] and mine["is_impersonation"] is False
    admin_cli.run("trust", "delete", mine["id"])

    # Delete through the CLI; the trust tokens go with it.
    cli = Cli(srv, config_file=conf, cloud="trustor")
    cli.run("trust", "delete", t["id"])
    assert s.validate(tok["id"]).status_code == 404
    p = cli.run("trust", "show", t["id"], check=False)
    assert p.returncode != 0
    assert isinstance(p, subprocess.CompletedProcess)
