"""Bad-input sweep over the Image API: every request here must be refused
with a 4xx in the image service's error format ({"message","code","title"}),
never a 5xx, and leave nothing half-written; the server stays healthy."""

import json

import pytest
import requests

import ferro
from imghelp import PATCH_CT, Images, assert_glance_error

UNKNOWN = "626e617b-c166-4c72-9543-5fa7d6e3a02e"  # fixed: test ids must be stable (xdist)
BIG = 2 * 1024 * 1024


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    """One server per backend; a queued image without formats, an active one."""
    if request.param == "postgres" and not ferro.POSTGRES_URL:
        pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
    url, drop = (None, None)
    if request.param == "postgres":
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("img-sweep-" + request.param) / "data",
                       database_url=url)
    srv.start()
    try:
        img = Images(srv, srv.admin_token())
        bare = img.post("/v2/images", json={"name": "bare"}, expect=201).json()["id"]
        active = img.create(name="active")["id"]
        img.upload(active, b"data" * 100)
        queued = img.create(name="queued")["id"]
        yield {"img": img, "bare": bare, "active": active, "queued": queued, "srv": srv}
        assert srv.proc.poll() is None, "server died during the sweep"
        assert requests.get(srv.url + "/readyz", timeout=5).status_code == 200
        after = img.show(queued)
        assert after["name"] == "queued" and after["status"] == "queued", after
        assert img.show(active)["status"] == "active"
    finally:
        srv.stop()
        if drop:
            drop()


CREATE_BAD = [
    ("not json", b"{nope", 400),
    ("array", [], 400),
    ("string", "x", 400),
    ("name int", {"name": 5}, 400),
    ("name long", {"name": "n" * 256}, 400),
    ("visibility bad", {"visibility": "everyone"}, 400),
    ("visibility null", {"visibility": None}, 400),
    ("protected str", {"protected": "yes"}, 400),
    ("os_hidden int", {"os_hidden": 1}, 400),
    ("min_disk neg", {"min_disk": -1}, 400),
    ("min_disk str", {"min_disk": "1"}, 400),
    ("min_ram huge", {"min_ram": 2 ** 40}, 400),
    ("min_ram float", {"min_ram": 1.5}, 400),
    ("disk_format bad", {"disk_format": "floppy"}, 400),
    ("container_format bad", {"container_format": "box"}, 400),
    ("tags str", {"tags": "a"}, 400),
    ("tags ints", {"tags": [1]}, 400),
    ("tags long", {"tags": ["t" * 256]}, 400),
    ("tags empty tag", {"tags": [""]}, 400),
    ("id not uuid", {"id": "abc"}, 400),
    ("id int", {"id": 7}, 400),
    ("prop int", {"colour": 3}, 400),
    ("prop dict", {"colour": {"a": "b"}}, 400),
    ("prop null", {"colour": None}, 400),
    ("status", {"status": "active"}, 403),
    ("checksum", {"checksum": "abc"}, 403),
    ("size", {"size": 5}, 403),
    ("self", {"self": "/x"}, 403),
    ("os_glance", {"os_glance_import_task": "x"}, 403),
    ("deleted", {"deleted": "true"}, 403),
    ("public by member", None, None),  # placeholder removed below
]
CREATE_BAD = [c for c in CREATE_BAD if c[1] is not None]


@pytest.mark.parametrize("label,body,status", CREATE_BAD, ids=[c[0] for c in CREATE_BAD])
def test_create_bad(env, label, body, status):
    img = env["img"]
    before = len(img.list_ids(limit=1000))
    if isinstance(body, bytes):
        r = img.post("/v2/images", data=body, headers={"Content-Type": "application/json"})
    else:
        r = img.post("/v2/images", json=body)
    err = assert_glance_error(r, status)
    assert len(img.list_ids(limit=1000)) == before
    if isinstance(body, dict) and body:
        key = next(iter(body))
        assert key in err["message"] or status == 403, err


def test_create_other_failures(env):
    img = env["img"]
    assert_glance_error(img.post("/v2/images", data="{}", headers={"Content-Type": "text/plain"}), 400)
    # the server closes the connection after a 413: use a fresh client
    fresh = Images(env["srv"], img.token)
    assert_glance_error(fresh.post("/v2/images", data=b"{" + b" " * BIG + b"}",
                                   headers={"Content-Type": "application/json"}), 413)
    assert_glance_error(img.post("/v2/images", json={"id": env["queued"]}), 409)
    # a NUL byte: stored (SQLite) or refused with 400 (PostgreSQL), never a 5xx
    r = img.post("/v2/images", json={"name": "nul\u0000byte"})
    assert r.status_code in (201, 400), r.text
    if r.status_code == 400:
        assert_glance_error(r, 400)
    else:
        img.delete(f"/v2/images/{r.json()['id']}", expect=204)


PATCH_BAD = [
    ("not json", b"[nope", 400),
    ("object", {"op": "add"}, 400),
    ("op not object", ["add"], 400),
    ("no op", [{"path": "/name", "value": "x"}], 400),
    ("op int", [{"op": 1, "path": "/name", "value": "x"}], 400),
    ("op move", [{"op": "move", "from": "/a", "path": "/name"}], 400),
    ("no path", [{"op": "replace", "value": "x"}], 400),
    ("path int", [{"op": "replace", "path": 3, "value": "x"}], 400),
    ("path no slash", [{"op": "replace", "path": "name", "value": "x"}], 400),
    ("path nested", [{"op": "replace", "path": "/a/b", "value": "x"}], 400),
    ("path bad escape", [{"op": "add", "path": "/a~2", "value": "x"}], 400),
    ("no value", [{"op": "replace", "path": "/name"}], 400),
    ("name int", [{"op": "replace", "path": "/name", "value": 1}], 400),
    ("min_ram str", [{"op": "replace", "path": "/min_ram", "value": "1"}], 400),
    ("visibility", [{"op": "replace", "path": "/visibility", "value": "x"}], 400),
    ("tags", [{"op": "replace", "path": "/tags", "value": "x"}], 400),
    ("prop list", [{"op": "add", "path": "/p", "value": ["x"]}], 400),
    ("status", [{"op": "replace", "path": "/status", "value": "active"}], 403),
    ("id", [{"op": "replace", "path": "/id", "value": UNKNOWN}], 403),
    ("remove core", [{"op": "remove", "path": "/min_ram"}], 403),
    ("os_glance", [{"op": "add", "path": "/os_glance_x", "value": "1"}], 403),
    ("replace missing", [{"op": "replace", "path": "/nope", "value": "1"}], 409),
    ("remove missing", [{"op": "remove", "path": "/nope"}], 409),
]


@pytest.mark.parametrize("label,body,status", PATCH_BAD, ids=[c[0] for c in PATCH_BAD])
def test_patch_bad(env, label, body, status):
    img = env["img"]
    data = body if isinstance(body, bytes) else json.dumps(body)
    r = img.request("PATCH", f"/v2/images/{env['queued']}", data=data,
                    headers={"Content-Type": PATCH_CT})
    assert_glance_error(r, status)


def test_patch_media_type_and_size(env):
    img = env["img"]
    ops = json.dumps([{"op": "replace", "path": "/name", "value": "x"}])
    for ct in ("application/json", "text/plain", "application/json-patch+json"):
        r = img.request("PATCH", f"/v2/images/{env['queued']}", data=ops,
                        headers={"Content-Type": ct})
        assert_glance_error(r, 415)
    fresh = Images(env["srv"], img.token)
    r = fresh.request("PATCH", f"/v2/images/{env['queued']}", data=b"[" + b" " * BIG + b"]",
                      headers={"Content-Type": PATCH_CT})
    assert_glance_error(r, 413)


def test_unknown_ids(env):
    img = env["img"]
    for method, path, kw in [
        ("GET", f"/v2/images/{UNKNOWN}", {}),
        ("GET", "/v2/images/not-a-uuid", {}),
        ("DELETE", f"/v2/images/{UNKNOWN}", {}),
        ("PATCH", f"/v2/images/{UNKNOWN}", {"data": "[]", "headers": {"Content-Type": PATCH_CT}}),
        ("PUT", f"/v2/images/{UNKNOWN}/file", {"data": b"x"}),
        ("GET", f"/v2/images/{UNKNOWN}/file", {}),
        ("GET", f"/v2/images/{UNKNOWN}/tasks", {}),
        ("PUT", f"/v2/images/{UNKNOWN}/tags/t", {}),
        ("DELETE", f"/v2/images/{UNKNOWN}/tags/t", {}),
        ("DELETE", f"/v2/images/{env['queued']}/tags/absent", {}),
        ("GET", f"/v2/images/{UNKNOWN}/members", {}),
        ("POST", f"/v2/images/{UNKNOWN}/members", {"json": {"member": "p"}}),
        ("GET", f"/v2/images/{env['queued']}/members/{UNKNOWN}", {}),
        ("PUT", f"/v2/images/{env['queued']}/members/{UNKNOWN}", {"json": {"status": "accepted"}}),
        ("DELETE", f"/v2/images/{env['queued']}/members/{UNKNOWN}", {}),
        ("POST", f"/v2/images/{UNKNOWN}/actions/deactivate", {}),
        ("POST", f"/v2/images/{UNKNOWN}/actions/reactivate", {}),
        ("GET", "/v2/nothing-here", {}),
        ("GET", "/v3/images", {}),
    ]:
        r = img.request(method, path, **kw)
        assert_glance_error(r, 404)


def test_data_bad(env):
    img = env["img"]
    # no formats yet
    assert_glance_error(img.upload(env["bare"], b"x", expect=None), 400)
    assert img.show(env["bare"])["status"] == "queued"
    # wrong media type
    r = img.put(f"/v2/images/{env['queued']}/file", data=b"x",
                headers={"Content-Type": "application/json"})
    assert_glance_error(r, 415)
    assert img.show(env["queued"])["status"] == "queued"
    # already active
    assert_glance_error(img.upload(env["active"], b"x", expect=None), 409)
    for rng in ("bytes=400-", "bytes=10-5", "bytes=a-b", "pages=1-2", "bytes=0-1,4-5", "bytes=-0"):
        r = img.get(f"/v2/images/{env['active']}/file", headers={"Range": rng})
        assert_glance_error(r, 416)


def test_tags_members_actions_bad(env):
    img = env["img"]
    q = env["queued"]
    assert_glance_error(img.put(f"/v2/images/{q}/tags/{'t' * 256}"), 400)
    # members only for shared images (queued is shared by default; active too)
    for body in ({}, {"member": 1}, {"member": ""}, {"member": "p", "extra": 1}, [], "x"):
        assert_glance_error(img.post(f"/v2/images/{q}/members", json=body), 400)
    assert_glance_error(img.post(f"/v2/images/{q}/members", data="{x",
                                 headers={"Content-Type": "application/json"}), 400)
    img.post(f"/v2/images/{q}/members", json={"member": "proj-x"}, expect=200)
    assert_glance_error(img.post(f"/v2/images/{q}/members", json={"member": "proj-x"}), 409)
    for body in ({}, {"status": "maybe"}, {"status": 1}):
        assert_glance_error(img.put(f"/v2/images/{q}/members/proj-x", json=body), 400)
    # admin is not the member: cannot answer for it
    assert_glance_error(img.put(f"/v2/images/{q}/members/proj-x", json={"status": "accepted"}), 403)
    img.delete(f"/v2/images/{q}/members/proj-x", expect=204)
    # deactivating a queued image is refused
    assert_glance_error(img.post(f"/v2/images/{q}/actions/deactivate"), 403)


LIST_BAD = [
    {"limit": "x"}, {"limit": "-3"}, {"marker": UNKNOWN}, {"sort_key": "nope"},
    {"sort_dir": "up"}, {"sort": "name:sideways"}, {"sort": "bogus:asc"},
    {"sort": "name", "sort_dir": "asc"}, {"sort_key": "name", "sort_dir": ["asc", "desc"]},
    {"visibility": "x"}, {"member_status": "x"}, {"os_hidden": "maybe"},
    {"size_min": "x"}, {"size_max": "1.5"}, {"protected": "x"},
    {"created_at": "gt:yesterday"}, {"name": 'in:"unbalanced'},
]


@pytest.mark.parametrize("params", LIST_BAD, ids=[json.dumps(p) for p in LIST_BAD])
def test_list_bad(env, params):
    assert_glance_error(env["img"].get("/v2/images", params=params), 400)


def test_auth_and_methods(env):
    img = env["img"]
    q = env["queued"]
    for token in (None, "garbage", "gAAAAA" + "x" * 100):
        for method, path in [("GET", "/v2/images"), ("POST", "/v2/images"),
                             ("GET", f"/v2/images/{q}"), ("DELETE", f"/v2/images/{q}"),
                             ("PUT", f"/v2/images/{q}/file"), ("GET", f"/v2/images/{q}/file"),
                             ("PUT", f"/v2/images/{q}/tags/x"), ("GET", f"/v2/images/{q}/members"),
                             ("GET", f"/v2/images/{q}/tasks"),
                             ("GET", "/v2/schemas/image")]:
            r = img.request(method, path, token=token)
            assert_glance_error(r, 401)
    for method, path in [("POST", f"/v2/images/{q}"), ("PUT", "/v2/images"),
                         ("DELETE", "/v2/schemas/image"), ("POST", f"/v2/images/{q}/file")]:
        assert_glance_error(img.request(method, path), 405)


GARBAGE = [b"{nope", b"[]", b'"x"', b"null", b"1", json.dumps({"a": "\u0000"}).encode(),
           json.dumps({"method": {"name": "glance-direct\u0000"}}).encode(),
           json.dumps({"namespace": "x" * 10000}).encode(), b"\xff\xfe"]


def test_import_routes_bad(env):
    """Stage, import, tasks and info: garbage bodies, wrong states, unknown
    ids — always a 4xx in Glance's format, never a 5xx."""
    img = env["img"]
    q, active, bare = env["queued"], env["active"], env["bare"]
    json_ct = {"Content-Type": "application/json"}
    for body in GARBAGE:
        for path in (f"/v2/images/{q}/import", f"/v2/images/{UNKNOWN}/import", "/v2/tasks"):
            assert_glance_error(img.post(path, data=body, headers=json_ct))
    for body in ({"method": {"name": "web-download", "uri": 5}},
                 {"method": {"name": "web-download", "uri": "http://[::1"}},
                 {"method": {"name": ["glance-direct"]}},
                 {"method": {"name": "glance-direct"}, "all_stores_must_succeed": False},
                 {"method": {"name": "glance-direct"}, "stores": "x"}):
        assert_glance_error(img.post(f"/v2/images/{q}/import", json=body))
    # wrong states: importing an active image, staging an active one, copying a queued one
    assert_glance_error(img.post(f"/v2/images/{active}/import",
                                 json={"method": {"name": "glance-direct"}}), 409)
    assert_glance_error(img.put(f"/v2/images/{active}/stage", data=b"x",
                                headers={"Content-Type": "application/octet-stream"}), 409)
    assert_glance_error(img.post(f"/v2/images/{q}/import",
                                 json={"method": {"name": "copy-image"}}), 409)
    assert_glance_error(img.post(f"/v2/images/{bare}/import",
                                 json={"method": {"name": "web-download",
                                                  "uri": "http://127.0.0.9/x"}}), 409)
    assert_glance_error(img.put(f"/v2/images/{UNKNOWN}/stage", data=b"x",
                                headers={"Content-Type": "application/octet-stream"}), 404)
    for params in ({"limit": "1e9"}, {"marker": UNKNOWN}, {"type": "x"}, {"sort_key": ""}):
        assert_glance_error(img.get("/v2/tasks", params=params), 400)
    for path in (f"/v2/tasks/{UNKNOWN}", "/v2/tasks/%00", f"/v2/images/{UNKNOWN}/tasks",
                 "/v2/info/stores", "/v2/info/nothing"):
        assert_glance_error(img.get(path), 404)
    assert img.show(q)["status"] == "queued"


def test_metadef_routes_bad(env):
    img = env["img"]
    ns = "/v2/metadefs/namespaces"
    json_ct = {"Content-Type": "application/json"}
    img.post(ns, json={"namespace": "sweep-ns"}, expect=201)
    base = f"{ns}/sweep-ns"
    for body in GARBAGE:
        for method, path in (("POST", ns), ("PUT", base), ("POST", f"{base}/objects"),
                             ("POST", f"{base}/properties"), ("POST", f"{base}/tags"),
                             ("POST", f"{base}/resource_types"),
                             ("PUT", f"{base}/tags/none")):
            assert_glance_error(img.request(method, path, data=body, headers=json_ct))
    for body in ({"namespace": "sweep-ns", "protected": None, "visibility": 5},
                 {"namespace": "sweep-ns", "owner": ["x"]},
                 {"namespace": "\u0000"}):
        assert_glance_error(img.put(base, json=body))
    for body in ({"name": "p", "title": "P", "type": "string", "minimum": "x"},
                 {"name": "p", "title": "P", "type": "string", "bogus": 1},
                 {"name": "", "title": "P", "type": "string"},
                 {"name": "p", "title": 5, "type": "string"}):
        assert_glance_error(img.post(f"{base}/properties", json=body))
    for body in ({"name": "o", "properties": []}, {"name": "o", "properties": {"a": 1}},
                 {"name": "o", "extra": 1}, {"name": None}):
        assert_glance_error(img.post(f"{base}/objects", json=body))
    for body in ({"tags": [{"name": ""}]}, {"tags": [5]}, {"tags": [{"name": "x" * 300}]}):
        assert_glance_error(img.post(f"{base}/tags", json=body))
    assert_glance_error(img.post(f"{base}/tags/{'x' * 300}"))
    for path in (f"{ns}/nothing", f"{ns}/nothing/objects", f"{ns}/nothing/tags/x",
                 f"{base}/objects/none", f"{base}/properties/none", f"{base}/tags/none",
                 "/v2/schemas/metadefs/none"):
        assert_glance_error(img.get(path), 404)
    assert_glance_error(img.delete(f"{base}/resource_types/OS::None"), 404)
    for method, path in (("PATCH", ns), ("POST", "/v2/metadefs/resource_types"),
                         ("PATCH", f"{base}/objects")):
        assert_glance_error(img.request(method, path), 405)
    for token in (None, "garbage"):
        for method, path in (("GET", ns), ("POST", ns), ("GET", "/v2/tasks"),
                             ("GET", "/v2/info/import"), ("PUT", f"/v2/images/{UNKNOWN}/stage"),
                             ("POST", f"/v2/images/{UNKNOWN}/import"),
                             ("GET", "/v2/schemas/metadefs/namespace")):
            assert_glance_error(img.request(method, path, token=token), 401)
    img.delete(base, expect=204)
