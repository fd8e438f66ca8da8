"""State survives restarts: graceful (SIGTERM) and kill -9."""

import requests

from kshelp import Identity, assert_keystone_error, password_auth, project_scope, uniq


def _populate(ks):
    """Create a bit of everything; return what to look for afterwards."""
    dom = ks.post("/v3/domains", json={"domain": {"name": uniq("dom")}}, expect=201).json()["domain"]
    project = ks.create_project(domain_id=dom["id"], tags=["keep"])
    user = ks.create_user(domain_id=dom["id"])
    ks.grant_project(project["id"], user["id"], "member")
    group = ks.post("/v3/groups", json={"group": {"name": uniq("g"), "domain_id": dom["id"]}},
                    expect=201).json()["group"]
    ks.put(f"/v3/groups/{group['id']}/users/{user['id']}", expect=204)
    role = ks.post("/v3/roles", json={"role": {"name": uniq("role")}}, expect=201).json()["role"]
    region = ks.post("/v3/regions", json={"region": {"id": uniq("Reg"), "description": "r"}},
                     expect=201).json()["region"]
    svc = ks.post("/v3/services", json={"service": {"type": "persist-test", "name": uniq("s")}},
                  expect=201).json()["service"]
    ep = ks.post("/v3/endpoints", json={"endpoint": {
        "service_id": svc["id"], "interface": "public", "url": "http://127.0.0.1:9/p",
        "region_id": region["id"]}}, expect=201).json()["endpoint"]
    user_token, _ = ks.issue(password_auth(user_id=user["id"], password=user["_password"],
                                           scope=project_scope(project["id"])))
    revoked, _ = ks.issue(password_auth(user_id=user["id"], password=user["_password"],
                                        scope=project_scope(project["id"])))
    ks.delete("/v3/auth/tokens", headers={"X-Subject-Token": revoked}, expect=204)
    ac = ks.post(f"/v3/users/{user['id']}/application_credentials", token=user_token,
                 json={"application_credential": {"name": "persist"}}, expect=201
                 ).json()["application_credential"]
    return dict(dom=dom, project=project, user=user, group=group, role=role, region=region,
                svc=svc, ep=ep, user_token=user_token, revoked=revoked, ac=ac)


def _check(server, state, admin_token):
    ks = Identity(server, admin_token)
    # tokens issued before the restart still validate, revoked ones stay revoked
    r = ks.validate(admin_token)
    assert r.status_code == 200, r.text
    r = ks.validate(state["user_token"])
    assert r.status_code == 200, r.text
    assert r.json()["token"]["project"]["id"] == state["project"]["id"]
    assert_keystone_error(ks.validate(state["revoked"]), 404)
    # the old admin token is usable for API calls
    ks.get("/v3/users", expect=200)
    # data is all there
    assert ks.get(f"/v3/domains/{state['dom']['id']}", expect=200).json()["domain"]["name"] == \
        state["dom"]["name"]
    proj = ks.get(f"/v3/projects/{state['project']['id']}", expect=200).json()["project"]
    assert proj["name"] == state["project"]["name"] and proj["tags"] == ["keep"]
    ks.get(f"/v3/users/{state['user']['id']}", expect=200)
    ks.head(f"/v3/groups/{state['group']['id']}/users/{state['user']['id']}", expect=204)
    ks.get(f"/v3/roles/{state['role']['id']}", expect=200)
    ks.get(f"/v3/regions/{state['region']['id']}", expect=200)
    ks.get(f"/v3/services/{state['svc']['id']}", expect=200)
    assert ks.get(f"/v3/endpoints/{state['ep']['id']}", expect=200).json()["endpoint"]["url"] == \
        "http://127.0.0.1:9/p"
    # passwords and application credentials still authenticate
    user = state["user"]
    ks.issue(password_auth(user["name"], user["_password"], domain_id=state["dom"]["id"],
                           scope=project_scope(state["project"]["id"])))
    ks.issue({"auth": {"identity": {"methods": ["application_credential"],
                                    "application_credential": {"id": state["ac"]["id"],
                                                               "secret": state["ac"]["secret"]}}}})
    # the bootstrap did not run twice or reset the admin password
    admins = ks.get("/v3/users", params={"name": "admin"}, expect=200).json()["users"]
    assert len(admins) == 1
    roles = [r["name"] for r in ks.get("/v3/roles", expect=200).json()["roles"]]
    assert sorted(roles).count("member") == 1
    services = ks.get("/v3/services", params={"type": "identity"}, expect=200).json()["services"]
    assert len(services) == 1


def test_restart_keeps_tokens_and_data(server):
    admin_token = server.admin_token()
    state = _populate(Identity(server, admin_token))
    old_url = server.url
    server.restart()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    _check(server, state, admin_token)
    # clouds.yaml is rewritten for the new address
    assert server.url in server.clouds_yaml.read_text() or old_url == server.url


def test_kill9_keeps_data(server):
    admin_token = server.admin_token()
    state = _populate(Identity(server, admin_token))
    server.kill9()
    server.start()
    _check(server, state, admin_token)

