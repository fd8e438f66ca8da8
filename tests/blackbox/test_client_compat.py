"""Details other clients than the openstack CLI depend on (gophercloud,
Libcloud, glanceclient): the legacy `volumev3` catalog entry and the image
service's explicit version list."""

import openstack
import requests

from kshelp import Identity

TIMEOUT = 15


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
