"""Security groups of servers: checked at create (400 for an unknown group),
the addSecurityGroup / removeSecurityGroup actions (through the network
service: the ports' groups change), GET /servers/{id}/os-security-groups,
with the openstack CLI and plain HTTP."""

import requests

from computehelp import Nova, image, net, token, wait
from test_identity_cli import Cli


def _sg(server, token, name):
    r = requests.post(server.url + "/networking/v2.0/security-groups", timeout=30,
                      headers={"X-Auth-Token": token},
                      json={"security_group": {"name": name, "description": "d-" + name}})
    assert r.status_code == 201, r.text
    return r.json()["security_group"]


def _port_groups(server, token, sid):
    r = requests.get(server.url + f"/networking/v2.0/ports?device_id={sid}",
                     headers={"X-Auth-Token": token}, timeout=30)
    (port,) = r.json()["ports"]
    return set(port["security_groups"])


def test_create_with_unknown_group_is_400(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    body = {"name": "x", "imageRef": image(s, tok), "flavorRef": "42",
            "networks": [{"uuid": net(s, tok)}]}
    r = nova.post("/servers", {"server": dict(body, security_groups=[{"name": "does_not_exist"}])})
    assert r.status_code == 400, r.text
    assert "does_not_exist" in r.json()["badRequest"]["message"]
    assert nova.get("/servers").json()["servers"] == [], "no server may be recorded"
    # by id and by name both resolve
    web = _sg(s, tok, "web")
    r = nova.post("/servers", {"server": dict(body, security_groups=[{"name": web["id"]}, {"name": "default"}])})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    shown = wait(nova, sid, "ACTIVE")
    assert sorted(g["name"] for g in shown["security_groups"]) == ["default", "web"]
    # two groups named alike: Nova answers 409 (use an id)
    _sg(s, tok, "twin")
    _sg(s, tok, "twin")
    r = nova.post("/servers", {"server": dict(body, security_groups=[{"name": "twin"}])})
    assert r.status_code == 409, r.text


def test_add_remove_security_group_wire(server):
    tok = token(server)
    nova = Nova(server, tok)
    nid = net(server, tok)
    r = nova.post("/servers", {"server": {"name": "sg", "imageRef": image(server, tok),
                                          "flavorRef": "42", "networks": [{"uuid": nid}]}})
    sid = r.json()["server"]["id"]
    s = wait(nova, sid, "ACTIVE")
    assert s["security_groups"] == [{"name": "default"}]
    web = _sg(server, tok, "web")
    act = f"/servers/{sid}/action"
    assert nova.post(act, {"addSecurityGroup": {"name": "web"}}).status_code == 202
    assert web["id"] in _port_groups(server, tok, sid)
    listed = nova.get(f"/servers/{sid}/os-security-groups").json()["security_groups"]
    by_name = {g["name"]: g for g in listed}
    assert set(by_name) == {"default", "web"}
    assert by_name["web"]["tenant_id"] and by_name["web"]["description"] == "d-web"
    default_rules = by_name["default"]["rules"]
    assert len(default_rules) == 2, "only ingress rules are shown"
    assert all(r["group"]["name"] == "default" and r["ip_range"] == {} for r in default_rules)
    assert all(r["parent_group_id"] == by_name["default"]["id"] for r in default_rules)
    # errors as Nova's
    r = nova.post(act, {"addSecurityGroup": {"name": "nope"}})
    assert r.status_code == 404 and "itemNotFound" in r.json()
    r = nova.post(act, {"addSecurityGroup": {"name": ""}})
    assert r.status_code == 400 and "badRequest" in r.json()
    r = nova.post(act, {"addSecurityGroup": {}})
    assert r.status_code == 400 and "not specified" in r.json()["badRequest"]["message"]
    r = nova.post(act, {"removeSecurityGroup": None})
    assert r.status_code == 400
    _sg(server, tok, "unused")
    r = nova.post(act, {"removeSecurityGroup": {"name": "unused"}})
    assert r.status_code == 400 and "not associated" in r.json()["badRequest"]["message"]
    # remove everything: the key disappears from the server
    assert nova.post(act, {"removeSecurityGroup": {"name": "web"}}).status_code == 202
    assert nova.post(act, {"removeSecurityGroup": {"name": "default"}}).status_code == 202
    assert _port_groups(server, tok, sid) == set()
    assert "security_groups" not in nova.get(f"/servers/{sid}").json()["server"]
    assert nova.get(f"/servers/{sid}/os-security-groups").json() == {"security_groups": []}


def test_server_without_ports(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    r = nova.post("/servers", {"server": {"name": "lonely", "imageRef": image(s, tok),
                                          "flavorRef": "42", "networks": []}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    r = nova.post(f"/servers/{sid}/action", {"addSecurityGroup": {"name": "default"}})
    assert r.status_code == 404, r.text


def test_security_group_cli(sqlite_server):
    s = sqlite_server
    cli = Cli(s)
    tok = token(s)
    nid = net(s, tok)
    iid = image(s, tok)
    cli.json("security", "group", "create", "ssh")
    srv = cli.json("server", "create", "--image", iid, "--flavor", "m1.nano", "--network", nid,
                   "--wait", "cli-sg")
    cli.run("server", "add", "security", "group", "cli-sg", "ssh")
    shown = cli.json("server", "show", "cli-sg")
    assert "ssh" in str(shown["security_groups"])
    cli.run("server", "remove", "security", "group", "cli-sg", "ssh")
    shown = cli.json("server", "show", "cli-sg")
    assert "ssh" not in str(shown["security_groups"])
    bad = cli.run("server", "create", "--image", iid, "--flavor", "m1.nano", "--network", nid,
                  "--security-group", "missing-group", "cli-bad", check=False)
    assert bad.returncode != 0
    assert srv["id"]
