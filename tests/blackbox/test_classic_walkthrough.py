"""The tutorial walkthrough with plain HTTP on the classic per-service ports
(`--classic-ports`): identity at :5000, images at :9292, compute at :8774,
networks at :9696 — each API at the root of its port, as old tutorials and
scripts address them — plus the legacy v2.0 token call followed by the
project-in-URL compute form."""

import socket
import time

import requests

import ferro


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_walkthrough_on_classic_ports(tmp_path):
    ports = {k: _free_port() for k in ("identity", "compute", "network", "image", "block_storage")}
    cfg = tmp_path / "ports.toml"
    cfg.write_text("[ports]\n" + "".join(f"{k} = {v}\n" for k, v in ports.items()))
    srv = ferro.Server(tmp_path / "data", extra_args=["--classic-ports", "--config", str(cfg)])
    srv.start()
    try:
        url = lambda svc: f"http://127.0.0.1:{ports[svc]}"  # noqa: E731
        # 1. token from :5000/v3/auth/tokens
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": srv.admin_password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r = requests.post(url("identity") + "/v3/auth/tokens", json=body, timeout=30)
        assert r.status_code == 201, r.text
        h = {"X-Auth-Token": r.headers["X-Subject-Token"]}
        project = r.json()["token"]["project"]["id"]

        # 2. an image through :9292/v2/images
        r = requests.post(url("image") + "/v2/images", headers=h, timeout=30, json={
            "name": "tut", "disk_format": "raw", "container_format": "bare"})
        assert r.status_code == 201, r.text
        image = r.json()["id"]
        r = requests.put(f"{url('image')}/v2/images/{image}/file", data=b"\0" * 65536, timeout=30,
                         headers=dict(h, **{"Content-Type": "application/octet-stream"}))
        assert r.status_code == 204, r.text
        assert requests.get(f"{url('image')}/v2/images/{image}", headers=h, timeout=30).json()["status"] == "active"

        # 3. a network through :9696/v2.0/networks
        r = requests.post(url("network") + "/v2.0/networks", headers=h, json={"network": {"name": "tut-net"}}, timeout=30)
        assert r.status_code == 201, r.text
        net = r.json()["network"]["id"]
        r = requests.post(url("network") + "/v2.0/subnets", headers=h, timeout=30, json={"subnet": {
            "network_id": net, "cidr": "192.168.77.0/24", "ip_version": 4}})
        assert r.status_code == 201, r.text

        # 4. a server through :8774/v2.1/servers
        r = requests.post(url("compute") + "/v2.1/servers", headers=h, timeout=30, json={"server": {
            "name": "tut-vm", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": net}]}})
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        assert r.json()["server"]["links"][0]["href"].startswith(url("compute") + "/v2.1/servers/")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            s = requests.get(f"{url('compute')}/v2.1/servers/{sid}", headers=h, timeout=30).json()["server"]
            if s["status"] == "ACTIVE":
                break
            time.sleep(0.1)
        assert s["status"] == "ACTIVE", s
        assert s["addresses"]["tut-net"][0]["addr"].startswith("192.168.77.")

        # 5. legacy v2.0 token, then the project-in-URL compute form
        r = requests.post(url("identity") + "/v2.0/tokens", timeout=30, json={"auth": {
            "passwordCredentials": {"username": "admin", "password": srv.admin_password},
            "tenantName": "admin"}})
        assert r.status_code == 200, r.text
        access = r.json()["access"]
        assert access["token"]["tenant"]["id"] == project
        types = {s["type"] for s in access["serviceCatalog"]}
        assert {"identity", "compute", "network", "image"} <= types
        v2h = {"X-Auth-Token": access["token"]["id"]}
        r = requests.get(f"{url('compute')}/v2/{project}/flavors", headers=v2h, timeout=30)
        assert r.status_code == 200, r.text
        assert "m1.tiny" in {f["name"] for f in r.json()["flavors"]}
        r = requests.get(f"{url('compute')}/v2.1/{project}/servers/detail", headers=v2h, timeout=30)
        assert [x["id"] for x in r.json()["servers"]] == [sid]

        # the path-prefixed layout serves the same cloud
        r = requests.get(f"{srv.url}/compute/v2.1/servers/{sid}", headers=h, timeout=30)
        assert r.status_code == 200
        assert requests.delete(f"{url('compute')}/v2.1/servers/{sid}", headers=h, timeout=30).status_code == 204
    finally:
        srv.stop()
