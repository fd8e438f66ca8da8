"""Keystone's OAuth1 delegation (OS-OAUTH1) on the wire: a consumer gets a
request token, a user authorizes it with some of their roles, the consumer
exchanges it for an access token and gets project-scoped tokens with it.
Requests are signed by oauthlib (what keystoneclient and keystoneauth use)
and the token is got with keystoneauth1's oauth1 plugin. Both database
backends."""

import time
import urllib.parse

import pytest
from keystoneauth1 import exceptions as ka_exc
from keystoneauth1 import session as ka_session
from keystoneauth1.extras import oauth1 as ka_oauth1
from oauthlib import oauth1

from kshelp import TIMESTAMP_RE, Identity, assert_keystone_error, password_auth, project_scope, uniq

FORM = "application/x-www-form-urlencoded"


class Flow:
    """A consumer, a project, a user holding two custom roles there (and a
    third role elsewhere), and the user's project-scoped token."""

    def __init__(self, server):
        self.server = server
        self.admin = Identity(server, server.admin_token())
        self.ks = Identity(server, None)
        a = self.admin
        self.consumer = a.post("/v3/OS-OAUTH1/consumers",
                               json={"consumer": {"description": "test app"}},
                               expect=201).json()["consumer"]
        self.project = a.create_project()
        self.role = a.post("/v3/roles", json={"role": {"name": uniq("deleg")}}, expect=201).json()["role"]
        self.other = a.post("/v3/roles", json={"role": {"name": uniq("kept")}}, expect=201).json()["role"]
        self.unheld = a.post("/v3/roles", json={"role": {"name": uniq("unheld")}}, expect=201).json()["role"]
        self.user = a.create_user()
        for r in (self.role, self.other):
            a.put(f"/v3/projects/{self.project['id']}/users/{self.user['id']}/roles/{r['id']}",
                  expect=204)
        self.token, _ = self.ks.issue(password_auth(user_id=self.user["id"],
                                                    password=self.user["_password"],
                                                    scope=project_scope(self.project["id"])))

    def url(self, path):
        return self.server.identity_url + path

    def signed_post(self, path, headers=None, **client_kw):
        """POST `path` signed by an oauthlib client (HMAC-SHA1 unless told)."""
        kw = {"client_secret": self.consumer["secret"], "signature_method": oauth1.SIGNATURE_HMAC}
        kw.update(client_kw)
        key = kw.pop("client_key", self.consumer["id"])
        client = oauth1.Client(key, **kw)
        url, signed_headers, _ = client.sign(self.url(path), http_method="POST")
        signed_headers.update(headers or {})
        return self.ks.http.post(url, headers=signed_headers, timeout=15)

    def request_token(self, **kw):
        r = self.signed_post("/v3/OS-OAUTH1/request_token", callback_uri="oob",
                             headers={"Requested-Project-Id": self.project["id"]}, **kw)
        assert r.status_code == 201, r.text
        assert r.headers["Content-Type"].startswith(FORM)
        body = dict(urllib.parse.parse_qsl(r.text, strict_parsing=True))
        assert set(body) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}, body
        assert TIMESTAMP_RE.match(body["oauth_expires_at"]), body
        return body

    def authorize(self, req, roles, token=None, expect=200):
        r = self.ks.put(f"/v3/OS-OAUTH1/authorize/{req['oauth_token']}", json={"roles": roles},
                        token=token or self.token)
        assert r.status_code == expect, r.text
        return r

    def access_token(self, req, verifier, **kw):
        return self.signed_post("/v3/OS-OAUTH1/access_token",
                                resource_owner_key=req["oauth_token"],
                                resource_owner_secret=req["oauth_token_secret"],
                                verifier=verifier, **kw)

    def delegate(self, roles=None):
        """The whole dance; returns the access token's form fields."""
        req = self.request_token()
        v = self.authorize(req, roles or [{"id": self.role["id"]}]).json()["token"]["oauth_verifier"]
        r = self.access_token(req, v)
        assert r.status_code == 201, r.text
        assert r.headers["Content-Type"].startswith(FORM)
        acc = dict(urllib.parse.parse_qsl(r.text, strict_parsing=True))
        assert set(acc) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}, acc
        return acc

    def oauth_session(self, acc, consumer_secret=None):
        auth = ka_oauth1.V3OAuth1(
            auth_url=self.url("/v3"),
            consumer_key=self.consumer["id"],
            consumer_secret=consumer_secret or self.consumer["secret"],
            access_key=acc["oauth_token"],
            access_secret=acc["oauth_token_secret"])
        return ka_session.Session(auth=auth)

    def at_path(self, acc=None):
        p = f"/v3/users/{self.user['id']}/OS-OAUTH1/access_tokens"
        return p + (f"/{acc['oauth_token']}" if acc else "")


@pytest.fixture
def f(server):
    return Flow(server)


def test_consumer_secret_shown_only_on_create(f):
    assert len(f.consumer["secret"]) >= 32
    shown = f.admin.get(f"/v3/OS-OAUTH1/consumers/{f.consumer['id']}", expect=200).json()["consumer"]
    assert "secret" not in shown and shown["description"] == "test app"
    listed = f.admin.get("/v3/OS-OAUTH1/consumers", expect=200).json()["consumers"]
    assert all("secret" not in c for c in listed)


def test_whole_flow_with_keystoneauth(f):
    acc = f.delegate(roles=[{"name": f.role["name"]}])
    sess = f.oauth_session(acc)
    tok = sess.get_token()
    assert tok
    # The token, as the project's admin sees it: scoped to the project,
    # carrying only the delegated role, naming its access token and consumer.
    r = f.admin.validate(tok)
    assert r.status_code == 200, r.text
    body = r.json()["token"]
    assert body["methods"] == ["oauth1"]
    assert body["user"]["id"] == f.user["id"]
    assert body["project"]["id"] == f.project["id"]
    assert [r["id"] for r in body["roles"]] == [f.role["id"]]
    assert body["OS-OAUTH1"] == {"access_token_id": acc["oauth_token"],
                                 "consumer_id": f.consumer["id"]}
    # The token works against the API as the user on the project.
    r = f.ks.get(f"/v3/projects/{f.project['id']}", token=tok)
    assert r.status_code == 200, r.text
    # ... but cannot delegate further, nor list access tokens, nor be rescoped.
    req = f.request_token()
    assert_keystone_error(f.authorize(req, [{"id": f.role["id"]}], token=tok, expect=403), 403)
    assert_keystone_error(f.ks.get(f.at_path(), token=tok), 403)
    r = f.ks.post("/v3/auth/tokens", token=None, json={"auth": {"identity": {
        "methods": ["token"], "token": {"id": tok}}}})
    assert_keystone_error(r, 403)


def test_access_token_crud_and_roles(f):
    acc = f.delegate(roles=[{"id": f.role["id"]}, {"id": f.other["id"]}])
    lst = f.ks.get(f.at_path(), token=f.token, expect=200).json()
    assert [a["id"] for a in lst["access_tokens"]] == [acc["oauth_token"]]
    one = f.ks.get(f.at_path(acc), token=f.token, expect=200).json()["access_token"]
    assert one["consumer_id"] == f.consumer["id"]
    assert one["project_id"] == f.project["id"]
    assert one["authorizing_user_id"] == f.user["id"]
    assert one["expires_at"] == acc["oauth_expires_at"]
    assert "access_secret" not in one and "role_ids" not in one
    assert one["links"]["roles"].endswith(f.at_path(acc) + "/roles")
    roles = f.ks.get(f.at_path(acc) + "/roles", token=f.token, expect=200).json()["roles"]
    assert sorted(r["id"] for r in roles) == sorted([f.role["id"], f.other["id"]])
    r = f.ks.get(f.at_path(acc) + f"/roles/{f.other['id']}", token=f.token, expect=200).json()
    assert r["role"]["name"] == f.other["name"]
    assert_keystone_error(f.ks.get(f.at_path(acc) + f"/roles/{f.unheld['id']}", token=f.token), 404)
    assert_keystone_error(f.ks.get(f.at_path() + "/nope", token=f.token), 404)
    # Another user sees none of it.
    other, _, other_tok = f.admin.user_with_role("member")
    assert_keystone_error(f.ks.get(f.at_path(acc), token=other_tok), 403)
    assert f.ks.get(f"/v3/users/{other['id']}/OS-OAUTH1/access_tokens/{acc['oauth_token']}",
                    token=other_tok).status_code == 404


def test_deleting_the_access_token_revokes_its_tokens(f):
    acc = f.delegate()
    tok = f.oauth_session(acc).get_token()
    assert f.admin.validate(tok).status_code == 200
    f.ks.delete(f.at_path(acc), token=f.token, expect=204)
    assert f.admin.validate(tok).status_code == 404
    assert f.ks.get(f"/v3/projects/{f.project['id']}", token=tok).status_code == 401
    with pytest.raises(ka_exc.NotFound):
        f.oauth_session(acc).get_token()
    assert_keystone_error(f.ks.delete(f.at_path(acc), token=f.token), 404)


def test_deleting_the_consumer_revokes_its_tokens(f):
    acc = f.delegate()
    tok = f.oauth_session(acc).get_token()
    f.admin.delete(f"/v3/OS-OAUTH1/consumers/{f.consumer['id']}", expect=204)
    assert f.admin.validate(tok).status_code == 404
    assert f.ks.get(f.at_path(), token=f.token, expect=200).json()["access_tokens"] == []
    with pytest.raises(ka_exc.NotFound):
        f.oauth_session(acc).get_token()


def test_flow_survives_a_restart(f):
    def restart():
        f.server.restart()
        f.ks = Identity(f.server, None)   # the port may change

    req = f.request_token()
    restart()
    f.token, _ = f.ks.issue(password_auth(user_id=f.user["id"], password=f.user["_password"],
                                          scope=project_scope(f.project["id"])))
    v = f.authorize(req, [{"id": f.role["id"]}]).json()["token"]["oauth_verifier"]
    restart()
    r = f.access_token(req, v)
    assert r.status_code == 201, r.text
    acc = dict(urllib.parse.parse_qsl(r.text))
    restart()
    assert f.oauth_session(acc).get_token()


def test_bad_signatures_are_401(f):
    # request token signed with the wrong consumer secret
    r = f.signed_post("/v3/OS-OAUTH1/request_token", callback_uri="oob",
                      client_secret="not-the-secret",
                      headers={"Requested-Project-Id": f.project["id"]})
    assert_keystone_error(r, 401)
    req = f.request_token()
    v = f.authorize(req, [{"id": f.role["id"]}]).json()["token"]["oauth_verifier"]
    # access token: wrong request-token secret, then wrong verifier
    r = f.access_token({**req, "oauth_token_secret": "wrong"}, v)
    assert_keystone_error(r, 401)
    r = f.access_token(req, "WRONGVER")
    assert_keystone_error(r, 401)
    acc = f.delegate()
    # token auth signed with the wrong consumer secret
    with pytest.raises(ka_exc.Unauthorized):
        f.oauth_session(acc, consumer_secret="wrong").get_token()
    # a tampered token request: the signature of one request replayed on another URL
    client = oauth1.Client(f.consumer["id"], client_secret=f.consumer["secret"],
                           resource_owner_key=acc["oauth_token"],
                           resource_owner_secret=acc["oauth_token_secret"])
    _, headers, _ = client.sign(f.url("/v3/auth/tokens?nocatalog"), http_method="POST")
    r = f.ks.post("/v3/auth/tokens", token=None, headers=headers,
                  json={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    assert_keystone_error(r, 401)
    # the same signature on its own URL works
    r = f.ks.post("/v3/auth/tokens?nocatalog", token=None, headers=headers,
                  json={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    assert r.status_code == 201, r.text
    assert r.json()["token"]["OS-OAUTH1"]["access_token_id"] == acc["oauth_token"]


def test_stale_timestamp_and_missing_header_are_400(f):
    client = oauth1.Client(f.consumer["id"], client_secret=f.consumer["secret"],
                           callback_uri="oob", timestamp=str(int(time.time()) - 3600))
    url, headers, _ = client.sign(f.url("/v3/OS-OAUTH1/request_token"), http_method="POST")
    headers["Requested-Project-Id"] = f.project["id"]
    assert_keystone_error(f.ks.http.post(url, headers=headers, timeout=15), 400)
    r = f.ks.post("/v3/OS-OAUTH1/request_token", token=None,
                  headers={"Requested-Project-Id": f.project["id"]})
    assert_keystone_error(r, 400)
    # no Requested-Project-Id; an unknown project; an unknown consumer
    r = f.signed_post("/v3/OS-OAUTH1/request_token", callback_uri="oob")
    assert_keystone_error(r, 400)
    r = f.signed_post("/v3/OS-OAUTH1/request_token", callback_uri="oob",
                      headers={"Requested-Project-Id": "nope"})
    assert_keystone_error(r, 404)
    r = f.signed_post("/v3/OS-OAUTH1/request_token", callback_uri="oob", client_key="nope",
                      headers={"Requested-Project-Id": f.project["id"]})
    assert_keystone_error(r, 404)


def test_authorize_only_held_roles(f):
    req = f.request_token()
    # a role the user does not hold on the project
    assert_keystone_error(f.authorize(req, [{"id": f.unheld["id"]}], expect=401), 401)
    assert_keystone_error(f.authorize(req, [{"name": "no-such-role"}], expect=404), 404)
    for bad in ([], "x", [{}], [{"id": 5}], [{"id": "a", "name": "b"}], [{"bogus": "x"}]):
        assert_keystone_error(f.authorize(req, bad, expect=400), 400)
    assert_keystone_error(f.ks.put("/v3/OS-OAUTH1/authorize/nope", token=f.token,
                                   json={"roles": [{"id": f.role["id"]}]}), 404)
    assert_keystone_error(f.ks.put(f"/v3/OS-OAUTH1/authorize/{req['oauth_token']}", token=None,
                                   json={"roles": [{"id": f.role["id"]}]}), 401)
    # not yet authorized: no access token
    r = f.access_token(req, "whatever")
    assert_keystone_error(r, 401)


def test_delegated_roles_follow_the_users_roles(f):
    acc = f.delegate(roles=[{"id": f.role["id"]}, {"id": f.other["id"]}])
    f.admin.delete(f"/v3/projects/{f.project['id']}/users/{f.user['id']}/roles/{f.other['id']}",
                   expect=204)
    tok = f.oauth_session(acc).get_token()
    body = f.admin.validate(tok).json()["token"]
    assert [r["id"] for r in body["roles"]] == [f.role["id"]]


def test_request_token_is_used_once(f):
    req = f.request_token()
    v = f.authorize(req, [{"id": f.role["id"]}]).json()["token"]["oauth_verifier"]
    assert f.access_token(req, v).status_code == 201
    assert_keystone_error(f.access_token(req, v), 404)


def test_get_on_token_endpoints_is_405(f):
    for path in ("/v3/OS-OAUTH1/request_token", "/v3/OS-OAUTH1/access_token"):
        assert f.ks.get(path, token=None).status_code == 405


def test_deleting_the_user_deletes_its_access_tokens(f):
    acc = f.delegate()
    assert len(f.admin.get(f.at_path(), expect=200).json()["access_tokens"]) == 1
    f.admin.delete(f"/v3/users/{f.user['id']}", expect=204)
    assert f.admin.get(f.at_path(), expect=200).json()["access_tokens"] == []
    with pytest.raises(ka_exc.NotFound):
        f.oauth_session(acc).get_token()
