"""Compute (Nova v2.1) wire details with plain HTTP: discovery, microversion
headers, flavors, keypairs, server lifecycle and its errors, isolation,
and a crash during a build."""

import signal
import time
import uuid

import requests

from computehelp import Nova, image, net, token, wait


def test_discovery_and_microversions(sqlite_server):
    s = sqlite_server
    r = requests.get(s.url + "/compute", timeout=10)
    assert r.status_code == 200
    v = [x for x in r.json()["versions"] if x["id"] == "v2.1"][0]
    assert v["status"] == "CURRENT" and v["min_version"] == "2.1"
    r = requests.get(s.url + "/compute/v2.1", timeout=10)
    assert r.status_code == 200 and r.json()["version"]["id"] == "v2.1"
    nova = Nova(s, token(s))
    r = nova.get("/flavors")
    assert r.headers["OpenStack-API-Version"] == "compute 2.1"
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    r = nova.get("/flavors", headers={"OpenStack-API-Version": "compute 2.999"})
    assert r.status_code == 406 and "notAcceptable" in r.json()
    r = nova.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "latest"})
    assert r.status_code == 200
    # the image proxy: a delete with a blank id is a 404, the collection has no DELETE
    r = nova.req("DELETE", "/images/")
    assert r.status_code == 404 and r.json()["itemNotFound"]["code"] == 404
    r = nova.req("DELETE", "/images")
    assert r.status_code == 405 and "badMethod" in r.json()


def test_flavors_and_keypairs(sqlite_server):
    s = sqlite_server
    nova = Nova(s, token(s))
    names = {f["name"] for f in nova.get("/flavors/detail").json()["flavors"]}
    assert {"m1.tiny", "m1.small", "m1.nano"} <= names
    r = nova.post("/flavors", {"flavor": {"name": "f-x", "ram": 64, "vcpus": 1, "disk": 0, "id": None}})
    assert r.status_code == 200, r.text
    f = r.json()["flavor"]
    assert f["swap"] == "" and f["os-flavor-access:is_public"] is True
    assert nova.post("/flavors", {"flavor": {"name": "f-x", "ram": 64, "vcpus": 1, "disk": 0}}).status_code == 409
    assert nova.get("/flavors/nope").json()["itemNotFound"]["code"] == 404
    page = nova.get("/flavors?limit=2").json()
    assert len(page["flavors"]) == 2 and page["flavors_links"][0]["rel"] == "next"
    # following the next links keeps the request's filters (as Nova's links do)
    href = s.url + "/compute/v2.1/flavors/detail?minRam=512&limit=2"
    walked = []
    while href:
        page = requests.get(href, headers=nova.h, timeout=30).json()
        walked += page["flavors"]
        links = page.get("flavors_links") or []
        href = links[0]["href"] if links else None
        assert href is None or ("minRam=512" in href and "limit=2" in href), href
    assert walked and all(f["ram"] >= 512 for f in walked)
    every = nova.get("/flavors/detail?minRam=512").json()["flavors"]
    assert [f["id"] for f in walked] == [f["id"] for f in every]
    r = nova.post("/os-keypairs", {"keypair": {"name": "k1"}})
    assert r.status_code == 200, r.text
    k = r.json()["keypair"]
    assert k["private_key"].startswith("-----BEGIN") and len(k["fingerprint"].split(":")) == 16
    r = nova.post("/os-keypairs", {"keypair": {"name": "k2", "public_key": k["public_key"]}})
    assert r.status_code == 200 and "private_key" not in r.json()["keypair"]
    assert nova.post("/os-keypairs", {"keypair": {"name": "k3", "public_key": "ssh-rsa nonsense"}}).status_code == 400
    assert nova.post("/os-keypairs", {"keypair": {"name": "k1"}}).status_code == 409
    shown = nova.get("/os-keypairs/k1").json()["keypair"]
    assert shown["deleted"] is False and isinstance(shown["id"], int)
    assert nova.req("DELETE", "/os-keypairs/k1").status_code == 202
    assert nova.get("/os-keypairs/k1").status_code == 404


def test_server_lifecycle(server):
    tok = token(server)
    nova = Nova(server, tok)
    nid = net(server, tok)
    iid = image(server, tok)
    r = nova.post("/servers", {"server": {"name": "s1", "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid}], "metadata": {"a": "b"}}})
    assert r.status_code == 202, r.text
    created = r.json()["server"]
    assert set(created) >= {"id", "links", "adminPass", "OS-DCF:diskConfig", "security_groups"}
    sid = created["id"]
    s = wait(nova, sid, "ACTIVE")
    assert s["OS-EXT-STS:vm_state"] == "active" and s["OS-EXT-STS:power_state"] == 1
    assert s["metadata"] == {"a": "b"} and s["image"]["id"] == iid and s["flavor"]["id"] == "42"
    (addr,) = s["addresses"]["n1"]
    assert addr["addr"].startswith("10.1.0.") and addr["OS-EXT-IPS:type"] == "fixed"
    assert nova.get(f"/servers/{sid}/ips").json()["addresses"]["n1"][0]["addr"] == addr["addr"]
    assert nova.get("/servers?name=^s").json()["servers"][0]["id"] == sid
    assert nova.get("/servers/detail?status=SHUTOFF").json()["servers"] == []
    # actions and their state checks
    assert nova.post(f"/servers/{sid}/action", {"os-start": None}).status_code == 409
    assert nova.post(f"/servers/{sid}/action", {"os-stop": None}).status_code == 202
    wait(nova, sid, "SHUTOFF")
    assert nova.post(f"/servers/{sid}/action", {"os-start": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    assert nova.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}}).status_code == 202
    wait(nova, sid, "ACTIVE")
    assert nova.post(f"/servers/{sid}/action", {"pause": None}).status_code == 202
    wait(nova, sid, "PAUSED")
    assert nova.post(f"/servers/{sid}/action", {"unpause": None}).status_code == 202
    wait(nova, sid, "ACTIVE")
    out = nova.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {"length": 5}})
    assert out.status_code == 200 and "output" in out.json()
    assert nova.post(f"/servers/{sid}/action", {"bogus": None}).status_code == 400
    r = nova.req("PUT", f"/servers/{sid}", json={"server": {"name": "s1b"}})
    assert r.status_code == 200 and r.json()["server"]["name"] == "s1b"
    assert "OS-EXT-STS:vm_state" not in r.json()["server"]
    # metadata
    assert nova.req("PUT", f"/servers/{sid}/metadata/k", json={"meta": {"k": "v"}}).json() == {"meta": {"k": "v"}}
    assert nova.get(f"/servers/{sid}/metadata").json()["metadata"] == {"a": "b", "k": "v"}
    # delete releases the port
    assert nova.req("DELETE", f"/servers/{sid}").status_code == 204
    wait(nova, sid, "DELETED")
    ports = requests.get(server.url + f"/networking/v2.0/ports?device_id={sid}",
                         headers={"X-Auth-Token": tok}, timeout=30).json()["ports"]
    assert ports == []


def test_server_create_errors(sqlite_server):
    s = sqlite_server
    tok = token(s)
    nova = Nova(s, tok)
    iid = image(s, tok)
    nid = net(s, tok)
    base = {"name": "x", "imageRef": iid, "flavorRef": "1", "networks": [{"uuid": nid}]}

    def create(**over):
        body = dict(base, **over)
        return nova.post("/servers", {"server": {k: v for k, v in body.items() if v is not ...}})

    assert create(flavorRef="nope").status_code == 400
    assert create(imageRef=str(uuid.uuid4())).status_code == 400
    assert create(name="").status_code == 400
    assert create(networks=[{"uuid": "not-a-uuid"}]).status_code == 400
    assert create(key_name="missing").status_code == 400
    assert create(metadata={"k": 1}).status_code == 400
    assert create(min_count=3, max_count=2).status_code == 400
    assert create(bogus=1).status_code == 400
    assert create(availability_zone="elsewhere").status_code == 400
    r = create(name=..., flavorRef=...)
    assert r.status_code == 400 and "badRequest" in r.json()
    assert nova.post("/servers", {"server": "nope"}).status_code == 400
    r = nova.req("POST", "/servers", data=b"{bad", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["badRequest"]["message"]
    assert nova.get("/servers/" + str(uuid.uuid4())).json()["itemNotFound"]["code"] == 404
    # quota: 10 instances
    r = create(min_count=11, max_count=11)
    assert r.status_code == 403 and "Quota exceeded" in r.json()["forbidden"]["message"]


def test_isolation_between_projects(sqlite_server):
    s = sqlite_server
    admin = token(s)
    ident = s.identity_url + "/v3"
    h = {"X-Auth-Token": admin}
    roles = requests.get(ident + "/roles?name=member", headers=h, timeout=10).json()["roles"]
    toks = {}
    for name in ("pa", "pb"):
        p = requests.post(ident + "/projects", headers=h, json={"project": {"name": name}}, timeout=10).json()["project"]
        u = requests.post(ident + "/users", headers=h, timeout=10, json={"user": {"name": "u" + name, "password": "pw-" + name}}).json()["user"]
        requests.put(f"{ident}/projects/{p['id']}/users/{u['id']}/roles/{roles[0]['id']}", headers=h, timeout=10)
        toks[name] = token(s, "u" + name, "pw-" + name, name)
    iid = image(s, admin)
    a = Nova(s, toks["pa"])
    nid = net(s, toks["pa"])
    r = a.post("/servers", {"server": {"name": "mine", "imageRef": iid, "flavorRef": "42", "networks": [{"uuid": nid}]}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(a, sid, "ACTIVE")
    b = Nova(s, toks["pb"])
    assert b.get(f"/servers/{sid}").status_code == 404
    assert b.get("/servers").json()["servers"] == []
    assert b.req("DELETE", f"/servers/{sid}").status_code == 404
    assert b.post(f"/servers/{sid}/action", {"os-stop": None}).status_code == 404
    assert Nova(s, admin).get("/servers/detail?all_tenants=1").json()["servers"][0]["id"] == sid
    # a second server in project B; admin pages through every project's servers
    nid_b = net(s, toks["pb"], name="nb", cidr="10.2.0.0/24")
    r = b.post("/servers", {"server": {"name": "theirs", "imageRef": iid, "flavorRef": "42",
                                       "networks": [{"uuid": nid_b}]}})
    assert r.status_code == 202, r.text
    page = Nova(s, admin).get("/servers?all_tenants=1&limit=1").json()
    assert len(page["servers"]) == 1
    nxt = page["servers_links"][0]["href"]
    assert "all_tenants=1" in nxt and "limit=1" in nxt, nxt
    rest = requests.get(nxt, headers={"X-Auth-Token": admin}, timeout=30).json()["servers"]
    assert {x["id"] for x in page["servers"] + rest} == {sid, r.json()["server"]["id"]}


def test_kill9_during_build_recovers(tmp_path):
    import ferro
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(_slow_config(tmp_path))])
    srv.start()
    try:
        tok = token(srv)
        nova = Nova(srv, tok)
        nid = net(srv, tok)
        iid = image(srv, tok)
        r = nova.post("/servers", {"server": {"name": "slow", "imageRef": iid, "flavorRef": "42",
                                              "networks": [{"uuid": nid}]}})
        assert r.status_code == 202
        sid = r.json()["server"]["id"]
        time.sleep(0.3)
        assert nova.get(f"/servers/{sid}").json()["server"]["status"] == "BUILD"
        srv.stop(signal.SIGKILL)
        srv.start()
        nova = Nova(srv, token(srv))
        s = wait(nova, sid, "ACTIVE", timeout=60)
        assert len(s["addresses"]["n1"]) == 1, "the rebuilt task must not allocate a second port"
    finally:
        srv.stop()


def _slow_config(tmp_path):
    cfg = tmp_path / "slow.toml"
    cfg.write_text("[compute]\nfake_delay_ms = 3000\n")
    return cfg
