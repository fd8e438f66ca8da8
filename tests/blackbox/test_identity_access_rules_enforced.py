"""Application credential access rules are enforced on requests, as
keystonemiddleware does for every service: a token from a credential with
rules may only make the requests a rule allows (service type, method, path
template with * and **); anything else is 401 in the target service's error
format. Driven with requests, keystoneauth and the openstack CLI. Both
database backends."""

import os
import subprocess

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kshelp import Identity, assert_keystone_error

OPENSTACK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), ".venv", "bin", "openstack")

RULES = [
    {"service": "compute", "method": "GET", "path": "/v2.1/servers"},
    {"service": "compute", "method": "GET", "path": "/v2.1/servers/detail"},
    {"service": "compute", "method": "GET", "path": "/v2.1/servers/*/os-instance-actions"},
    {"service": "image", "method": "GET", "path": "/v2/images/**"},
    {"service": "identity", "method": "GET", "path": "/v3/users/{user_id}"},
]


def app_cred(ks, user, token, **extra):
    body = {"application_credential": {"name": extra.pop("name", "ac"), **extra}}
    return ks.post(f"/v3/users/{user['id']}/application_credentials", token=token, json=body,
                   expect=201).json()["application_credential"]


def ac_token(ks, ac):
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": ac["id"],
                                                             "secret": ac["secret"]}}}}
    return ks.issue(auth)


def get(server, path, token, method="GET"):
    return requests.request(method, server.url + path, headers={"X-Auth-Token": token},
                            timeout=30)


def test_rules_allow_only_matching_requests(server):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    ac = app_cred(ks, user, tok, name="restricted", access_rules=RULES)
    rtok, body = ac_token(ks, ac)
    shown = body["token"]["application_credential"]
    assert [{k: r[k] for k in ("service", "method", "path")} for r in shown["access_rules"]] \
        == RULES

    # Allowed: exactly the rules' requests.
    assert get(server, "/compute/v2.1/servers", rtok).status_code == 200
    assert get(server, "/compute/v2.1/servers/detail", rtok).status_code == 200
    # `*` is one path segment: the request passes the token check and gets
    # the service's own answer (no such server).
    r = get(server, "/compute/v2.1/servers/0d7d2b2e-0000-4000-8000-000000000000"
                    "/os-instance-actions", rtok)
    assert r.status_code == 404, r.text
    # `**` is any depth.
    r = get(server, "/image/v2/images/0d7d2b2e-0000-4000-8000-000000000000", rtok)
    assert r.status_code == 404, r.text
    assert get(server, f"/identity/v3/users/{user['id']}", rtok).status_code == 200
    # Validating a token is always allowed.
    assert ks.validate(rtok, token=rtok).status_code == 200

    # Refused: another path, another method, another service.
    unauth_compute = get(server, "/compute/v2.1/flavors", "not-a-token")
    assert unauth_compute.status_code == 401
    for method, path in [("GET", "/compute/v2.1/flavors"),
                         ("GET", "/compute/v2.1/servers/abc"),
                         ("GET", "/compute/v2.1/servers/abc/os-interface"),
                         ("POST", "/compute/v2.1/servers"),
                         ("GET", "/image/v2/images"),
                         ("GET", "/networking/v2.0/networks"),
                         ("GET", f"/volume/v3/{project['id']}/volumes"),
                         ("GET", f"/identity/v3/users/{user['id']}/application_credentials"),
                         ("GET", "/identity/v3/auth/projects")]:
        r = get(server, path, rtok, method)
        assert r.status_code == 401, (method, path, r.status_code, r.text[:300])
    # In the service's own error format: the same body shape as any 401 there.
    r = get(server, "/compute/v2.1/flavors", rtok)
    assert set(r.json()) == set(unauth_compute.json())
    r = get(server, "/identity/v3/auth/projects", rtok)
    assert r.json()["error"]["code"] == 401 and r.json()["error"]["title"] == "Unauthorized"

    # The same user's password token and an unrestricted credential are not
    # affected.
    assert get(server, "/compute/v2.1/flavors", tok).status_code == 200
    free = app_cred(ks, user, tok, name="free")
    ftok, fbody = ac_token(ks, free)
    assert "access_rules" not in fbody["token"]["application_credential"]
    assert get(server, "/compute/v2.1/flavors", ftok).status_code == 200
    assert get(server, "/networking/v2.0/networks", ftok).status_code == 200


def test_keystoneauth_and_cli_with_restricted_credential(server, tmp_path):
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    ac = app_cred(ks, user, tok, name="cli", access_rules=RULES)

    auth = v3.ApplicationCredential(auth_url=server.identity_url,
                                    application_credential_id=ac["id"],
                                    application_credential_secret=ac["secret"])
    sess = ks_session.Session(auth=auth)
    # The catalog's compute endpoint ends in /v2.1.
    r = sess.get("/servers", endpoint_filter={"service_type": "compute"})
    assert r.status_code == 200
    r = sess.get("/flavors", endpoint_filter={"service_type": "compute"},
                 raise_exc=False)
    assert r.status_code == 401

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_AUTH_TYPE": "v3applicationcredential", "OS_AUTH_URL": server.identity_url,
                "OS_APPLICATION_CREDENTIAL_ID": ac["id"],
                "OS_APPLICATION_CREDENTIAL_SECRET": ac["secret"],
                "OS_IDENTITY_API_VERSION": "3"})

    def cli(*args):
        return subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)

    ok = cli("server", "list", "-f", "json")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert ok.stdout.strip() == "[]"
    refused = cli("flavor", "list")
    assert refused.returncode != 0
    assert "401" in refused.stderr or "authenticat" in refused.stderr.lower(), refused.stderr


def test_bad_rules_are_refused(server):
    ks = Identity(server, server.admin_token())
    user, _, tok = ks.user_with_role("member")
    path = f"/v3/users/{user['id']}/application_credentials"
    for rule in [{"service": "compute", "method": "GET"},
                 {"service": "compute", "method": "FETCH", "path": "/v2.1/servers"},
                 {"service": "compute", "method": "GET", "path": "v2.1/servers"}]:
        r = ks.post(path, token=tok, json={"application_credential": {
            "name": "bad", "access_rules": [rule]}})
        assert_keystone_error(r, 400)


def test_proxy_calls_between_services_follow_the_first_rule(server):
    """Nova's proxy APIs call Neutron in process with the caller's token: a
    credential allowed the compute request is not refused by Neutron (as a
    request with a service token upstream), and the direct Neutron request
    stays refused."""
    ks = Identity(server, server.admin_token())
    user, project, tok = ks.user_with_role("member")
    rules = [{"service": "compute", "method": "GET", "path": "/v2.1/os-security-groups"}]
    ac = app_cred(ks, user, tok, name="proxy", access_rules=rules)
    rtok, _ = ac_token(ks, ac)
    r = requests.get(server.url + "/compute/v2.1/os-security-groups", timeout=30,
                     headers={"X-Auth-Token": rtok, "X-OpenStack-Nova-API-Version": "2.35"})
    assert r.status_code == 200, r.text
    assert [g["name"] for g in r.json()["security_groups"]] == ["default"]
    assert get(server, "/networking/v2.0/security-groups", rtok).status_code == 401
