"""Helpers for the block-storage (Cinder v3) black-box tests: a thin
requests client, project/user setup through the identity API, waiting."""

import subprocess
import json
import time

import requests

from kshelp import Identity, password_auth, project_scope

TIMEOUT = 20


class Cinder:
    """`c.get("/volumes")` → GET {url}/volume/v3/{project}/volumes."""

    def __init__(self, server, token, project_id, base=None):
        self.server = server
        self.token = token
        self.project_id = project_id
        self.root = base or (server.url + "/volume")
        self.http = requests.Session()

    @property
    def base(self):
        return f"{self.root}/v3/{self.project_id}"

    def request(self, method, path, expect=None, headers=None, raw=False, **kw):
        h = {"X-Auth-Token": self.token}
        h.update(headers or {})
        kw.setdefault("timeout", TIMEOUT)
        url = path if path.startswith("http") else (self.root + path if raw else self.base + path)
        r = self.http.request(method, url, headers=h, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {url} -> {r.status_code} (wanted {expect}): {r.text[:800]}"
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- resources ----------------------------------------------------------
    def create_volume(self, size=1, wait=True, **extra):
        body = {"volume": {"size": size, **extra}}
        v = self.post("/volumes", json=body, expect=202).json()["volume"]
        assert v["status"] == "creating", v
        return self.wait_volume(v["id"]) if wait else v

    def wait_volume(self, vid, until=("available", "error", "in-use", "error_extending"),
                    timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            v = self.get(f"/volumes/{vid}", expect=200).json()["volume"]
            if v["status"] in until:
                return v
            assert time.monotonic() < deadline, f"volume {vid} stuck in {v['status']}"
            time.sleep(0.2)

    def action(self, vid, body, expect=202):
        return self.post(f"/volumes/{vid}/action", json=body, expect=expect)

    def create_snapshot(self, vid, wait=True, **extra):
        s = self.post("/snapshots", json={"snapshot": {"volume_id": vid, **extra}},
                      expect=202).json()["snapshot"]
        if not wait:
            return s
        deadline = time.monotonic() + 60
        while True:
            s = self.get(f"/snapshots/{s['id']}", expect=200).json()["snapshot"]
            if s["status"] in ("available", "error"):
                return s
            assert time.monotonic() < deadline, s
            time.sleep(0.2)


def admin_cinder(server):
    ks = Identity(server, server.admin_token())
    r = ks.get("/v3/auth/tokens", headers={"X-Subject-Token": ks.token}, expect=200)
    return Cinder(server, ks.token, r.json()["token"]["project"]["id"]), ks


def member_cinder(server, ks, role="member", project=None):
    """A user with `role` on `project` (new one if None) → (Cinder, project)."""
    _user, project, tok = ks.user_with_role(role, project=project)
    return Cinder(server, tok, project["id"]), project


def assert_cinder_error(resp, status, key=None):
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    key = key or {400: "badRequest", 403: "forbidden", 404: "itemNotFound",
                  409: "conflictingRequest", 413: "overLimit", 406: "computeFault"}[status]
    assert list(body) == [key], body
    assert body[key]["code"] == status, body
    assert isinstance(body[key]["message"], str) and body[key]["message"], body
    return body[key]["message"]


def qemu_virtual_size(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["virtual-size"]


def volume_file(server, vid):
    return server.data_dir / "volumes" / f"volume-{vid}.qcow2"


def snapshot_file(server, sid):
    return server.data_dir / "volumes" / f"snapshot-{sid}.qcow2"


__all__ = ["Cinder", "admin_cinder", "member_cinder", "assert_cinder_error",
           "qemu_virtual_size", "volume_file", "snapshot_file", "password_auth",
           "project_scope", "GIB"]

GIB = 1024 ** 3
