"""Details other clients than the openstack CLI depend on (gophercloud,
Libcloud, glanceclient): the legacy `volumev3` catalog entry and the image
service's explicit version list."""

import os
import subprocess
import sys
from pathlib import Path

import openstack
import pytest
import requests

from kshelp import Identity

TIMEOUT = 15
GLANCE = Path(sys.executable).parent / "glance"


def _catalog(server):
    r = requests.post(server.identity_url + "/v3/auth/tokens", timeout=TIMEOUT, json={
        "auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": server.admin_password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert r.status_code == 201, r.text
    return r.json()["token"]["catalog"]


def _urls(entry):
    return sorted((ep["interface"], ep["url"]) for ep in entry["endpoints"])


def _assert_both_block_storage_types(server):
    by_type = {}
    for svc in _catalog(server):
        by_type.setdefault(svc["type"], []).append(svc)
    assert len(by_type.get("block-storage", [])) == 1, by_type.keys()
    assert len(by_type.get("volumev3", [])) == 1, by_type.keys()
    official, legacy = by_type["block-storage"][0], by_type["volumev3"][0]
    # DevStack's names: cinder and cinderv3; one URL for both
    assert official["name"] == "cinder" and legacy["name"] == "cinderv3"
    assert _urls(official) == _urls(legacy)
    assert {i for i, _ in _urls(legacy)} == {"public", "internal", "admin"}
    assert all("/volume/v3/" in u for _, u in _urls(legacy)), _urls(legacy)


def test_catalog_lists_volumev3_next_to_block_storage(server, monkeypatch):
    _assert_both_block_storage_types(server)
    # openstacksdk (which prefers the official type) still finds block storage
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(server.clouds_yaml))
    conn = openstack.connect(cloud="ferrostack")
    try:
        vol = conn.block_storage.create_volume(size=1, name="compat")
        conn.block_storage.wait_for_status(vol, "available", failures=["error"],
                                           interval=0.5, wait=60)
        assert "compat" in {v.name for v in conn.block_storage.volumes()}
        conn.block_storage.delete_volume(vol)
        conn.block_storage.wait_for_delete(vol, interval=0.5, wait=60)
    finally:
        conn.close()


def test_volumev3_restored_on_start(server):
    """A data dir made before the entry existed gets it on the next start
    (bootstrap ensures it); a second start does not duplicate it."""
    ks = Identity(server, server.admin_token())
    svcs = ks.get("/v3/services", params={"type": "volumev3"}).json()["services"]
    assert len(svcs) == 1, svcs
    r = ks.delete(f"/v3/services/{svcs[0]['id']}")
    assert r.status_code == 204, r.text
    assert "volumev3" not in {s["type"] for s in _catalog(server)}
    server.restart()
    _assert_both_block_storage_types(server)
    server.restart()
    _assert_both_block_storage_types(server)


def test_image_versions_explicit_200(sqlite_server):
    base = sqlite_server.url + "/image"
    explicit = requests.get(base + "/versions", timeout=TIMEOUT)
    assert explicit.status_code == 200, explicit.text
    assert explicit.headers["Content-Type"].startswith("application/json")
    for path in ("", "/", "/v2"):
        r = requests.get(base + path, timeout=TIMEOUT, allow_redirects=False)
        assert r.status_code == 300, (path, r.status_code)
        assert r.json() == explicit.json(), path
    versions = explicit.json()["versions"]
    assert versions[0] == {"id": "v2.16", "status": "CURRENT",
                           "links": [{"rel": "self", "href": base + "/v2/"}]}
    assert {v["status"] for v in versions[1:]} == {"SUPPORTED"}


@pytest.mark.skipif(not GLANCE.exists(), reason="python-glanceclient not in the test venv")
def test_glanceclient_discovers_without_api_version(sqlite_server, tmp_path):
    """`glance` with no --os-image-api-version asks GET /image/versions and
    stops on anything but 200 ("HTTPMultipleChoices (HTTP 300)")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=sqlite_server.identity_url + "/v3", OS_USERNAME="admin",
               OS_PASSWORD=sqlite_server.admin_password, OS_PROJECT_NAME="admin",
               OS_USER_DOMAIN_ID="default", OS_PROJECT_DOMAIN_ID="default",
               OS_REGION_NAME="RegionOne")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)

    def glance(*args):
        p = subprocess.run([str(GLANCE), *args], env=env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
        return p.stdout

    glance("image-create", "--name", "gl-disc", "--disk-format", "raw",
           "--container-format", "bare", "--file", str(disk))
    assert "gl-disc" in glance("image-list")
