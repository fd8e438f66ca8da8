"""Helpers for the compute (Nova) black-box tests: tokens, a small Nova
client over requests, an image and a network to boot on, waiting for a
server's status."""

import time

import requests


def token(server, user="admin", password=None, project="admin"):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password or server.admin_password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    r = requests.post(server.identity_url + "/v3/auth/tokens", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


class Nova:
    def __init__(self, server, token):
        self.base = server.url + "/compute/v2.1"
        self.h = {"X-Auth-Token": token}

    def req(self, method, path, **kw):
        headers = dict(self.h, **kw.pop("headers", {}))
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.req("POST", path, json=body, **kw)


def wait(nova, sid, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = nova.get(f"/servers/{sid}")
        if r.status_code == 200 and r.json()["server"]["status"] == status:
            return r.json()["server"]
        if status == "DELETED" and r.status_code == 404:
            return None
        time.sleep(0.1)
    raise AssertionError(f"server {sid} did not reach {status}: {r.status_code} {r.text[:300]}")


def settled(nova, sid, timeout=30):
    """Until the server has no task (a snapshot or other action is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = nova.get(f"/servers/{sid}").json()["server"]
        if s["OS-EXT-STS:task_state"] is None:
            return s
        time.sleep(0.05)
    raise AssertionError(f"server {sid} still has task {s['OS-EXT-STS:task_state']}")


def net(server, token, name="n1", cidr="10.1.0.0/24"):
    h = {"X-Auth-Token": token}
    base = server.url + "/networking/v2.0"
    n = requests.post(base + "/networks", json={"network": {"name": name}}, headers=h, timeout=30)
    assert n.status_code == 201, n.text
    nid = n.json()["network"]["id"]
    s = requests.post(base + "/subnets", headers=h, timeout=30, json={"subnet": {
        "network_id": nid, "cidr": cidr, "ip_version": 4}})
    assert s.status_code == 201, s.text
    return nid


def image(server, token):
    h = {"X-Auth-Token": token}
    base = server.url + "/image/v2"
    r = requests.post(base + "/images", headers=h, timeout=30, json={
        "name": "cirros", "disk_format": "qcow2", "container_format": "bare", "visibility": "public"})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    r = requests.put(f"{base}/images/{iid}/file", data=b"x" * 4096, timeout=30,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    assert r.status_code == 204, r.text
    return iid


def project_token(s, admin, name):
    ident = s.identity_url + "/v3"
    h = {"X-Auth-Token": admin}
    role = requests.get(ident + "/roles?name=member", headers=h, timeout=10).json()["roles"][0]
    p = requests.post(ident + "/projects", headers=h, json={"project": {"name": name}}, timeout=10).json()["project"]
    u = requests.post(ident + "/users", headers=h, timeout=10,
                      json={"user": {"name": "u" + name, "password": "pw-" + name}}).json()["user"]
    requests.put(f"{ident}/projects/{p['id']}/users/{u['id']}/roles/{role['id']}", headers=h, timeout=10)
    return token(s, "u" + name, "pw-" + name, name)


def boot_active(nova, server, tok, name):
    """A server on a fresh image and network, once ACTIVE; its id."""
    iid, nid = image(server, tok), net(server, tok)
    r = nova.post("/servers", {"server": {"name": name, "imageRef": iid, "flavorRef": "42",
                                          "networks": [{"uuid": nid}]}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    wait(nova, sid, "ACTIVE")
    return sid


def shared_net_server(server, admin_tok, name):
    """A member of a new project "pa" boots `name` on the admin's network
    (made shared) and waits for ACTIVE; a member of another project "pb"
    looks on. Returns (member, other, the create response)."""
    member = Nova(server, project_token(server, admin_tok, "pa"))
    other = Nova(server, project_token(server, admin_tok, "pb"))
    iid, nid = image(server, admin_tok), net(server, admin_tok)
    requests.put(server.url + f"/networking/v2.0/networks/{nid}", headers={"X-Auth-Token": admin_tok},
                 json={"network": {"shared": True}}, timeout=10)
    r = member.post("/servers", {"server": {"name": name, "imageRef": iid, "flavorRef": "42",
                                            "networks": [{"uuid": nid}]}})
    wait(member, r.json()["server"]["id"], "ACTIVE")
    return member, other, r
