"""Helpers for talking to the Image API (Glance v2) over plain HTTP."""

import hashlib
import os

import requests

from kshelp import Identity

TIMEOUT = 30
PATCH_CT = "application/openstack-images-v2.1-json-patch"


def assert_glance_error(resp, status=None):
    """A 4xx in the image service's error format: {"message","code","title"}."""
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("message"), str) and body["message"].strip(), body
    assert body.get("code", "").startswith(str(resp.status_code)), body
    assert isinstance(body.get("title"), str) and body["title"], body
    return body


class Images:
    """`img.get("/v2/images")` against one server, holding one token."""

    def __init__(self, server, token, base=None):
        self.server = server
        self.base = base or (server.url + "/image")
        self.token = token
        self.http = requests.Session()

    def request(self, method, path, expect=None, token=..., **kw):
        headers = dict(kw.pop("headers", {}) or {})
        tok = self.token if token is ... else token
        if tok:
            headers.setdefault("X-Auth-Token", tok)
        kw.setdefault("timeout", TIMEOUT)
        r = self.http.request(method, self.base + path, headers=headers, **kw)
        if expect is not None:
            assert r.status_code == expect, (
                f"{method} {path} -> {r.status_code} (wanted {expect}): {r.text[:800]}")
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, ops, **kw):
        headers = {"Content-Type": PATCH_CT, **(kw.pop("headers", {}) or {})}
        import json
        return self.request("PATCH", path, data=json.dumps(ops), headers=headers, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- shortcuts ----------------------------------------------------------
    def create(self, expect=201, **body):
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
        return self.post("/v2/images", json=body, expect=expect).json()

    def upload(self, image_id, data, expect=204):
        return self.put(f"/v2/images/{image_id}/file", data=data, expect=expect,
                        headers={"Content-Type": "application/octet-stream"})

    def show(self, image_id, expect=200):
        return self.get(f"/v2/images/{image_id}", expect=expect).json()

    def list_ids(self, **params):
        return [i["id"] for i in self.get("/v2/images", params=params, expect=200).json()["images"]]


def md5(data):
    return hashlib.md5(data).hexdigest()


def sha512(data):
    return hashlib.sha512(data).hexdigest()


def random_bytes(n):
    return os.urandom(n)


def project_users(server):
    """Admin identity client plus helpers to make users with a role in a project."""
    return Identity(server, server.admin_token())
