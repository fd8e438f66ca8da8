"""Bad-input sweep over the block-storage routes: malformed JSON, non-object
bodies, wrong-typed fields, unknown ids, oversized bodies, missing or bad
tokens. Every answer must be a 4xx in Cinder's error format, never a 5xx,
and the server must stay healthy. One server per backend for the module."""

import time

import pytest
import requests

import ferro
from volumehelp import Cinder, admin_cinder

UNKNOWN = "f" * 8 + "-0000-0000-0000-" + "0" * 12
BIG = 2 * 1024 * 1024

# (method, path, a valid-shaped body or None)
ROUTES = [
    ("GET", "/volumes/{vid}", None),
    ("PUT", "/volumes/{vid}", {"volume": {"name": "x"}}),
    ("DELETE", "/volumes/{vid}", None),
    ("POST", "/volumes", {"volume": {"size": 1}}),
    ("POST", "/volumes/{vid}/action", {"os-extend": {"new_size": 5}}),
    ("GET", "/volumes/{vid}/metadata", None),
    ("POST", "/volumes/{vid}/metadata", {"metadata": {"a": "b"}}),
    ("PUT", "/volumes/{vid}/metadata", {"metadata": {"a": "b"}}),
    ("PUT", "/volumes/{vid}/metadata/a", {"meta": {"a": "b"}}),
    ("POST", "/snapshots", {"snapshot": {"volume_id": "{vid}"}}),
    ("GET", "/snapshots/{sid}", None),
    ("PUT", "/snapshots/{sid}", {"snapshot": {"name": "x"}}),
    ("POST", "/snapshots/{sid}/action", {"os-reset_status": {"status": "available"}}),
    ("POST", "/snapshots/{sid}/metadata", {"metadata": {"a": "b"}}),
    ("POST", "/types", {"volume_type": {"name": "t"}}),
    ("PUT", "/types/{tid}", {"volume_type": {"description": "d"}}),
    ("POST", "/types/{tid}/extra_specs", {"extra_specs": {"a": "b"}}),
    ("PUT", "/types/{tid}/extra_specs/a", {"a": "b"}),
    ("POST", "/types/{tid}/action", {"addProjectAccess": {"project": "p"}}),
    ("PUT", "/os-quota-sets/{pid}", {"quota_set": {"volumes": 5}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}"}}),
    ("GET", "/backups/{bid}", None),
    ("PUT", "/backups/{bid}", {"backup": {"name": "x"}}),
    ("DELETE", "/backups/{bid}", None),
    ("POST", "/backups/{bid}/restore", {"restore": {"volume_id": "{vid}"}}),
    ("POST", "/backups/{bid}/action", {"os-reset_status": {"status": "available"}}),
    ("GET", "/backups/{bid}/export_record", None),
    ("POST", "/backups/import_record", {"backup-record": {"backup_service": "x",
                                                          "backup_url": "eA=="}}),
    ("POST", "/qos-specs", {"qos_specs": {"name": "q"}}),
    ("GET", "/qos-specs/{qid}", None),
    ("PUT", "/qos-specs/{qid}", {"qos_specs": {"a": "b"}}),
    ("PUT", "/qos-specs/{qid}/delete_keys", {"keys": ["a"]}),
]

BAD_BODIES = [
    ("not-json", b"{nope"),
    ("array", b"[1, 2]"),
    ("string", b'"x"'),
    ("null", b"null"),
    ("empty-object", b"{}"),
    ("wrapper-not-object", None),   # {"<key>": 5}
    ("nul-byte", None),             # a NUL in a string field
]

WRONG_TYPED = [
    ("POST", "/volumes", {"volume": {"size": "abc"}}),
    ("POST", "/volumes", {"volume": {"size": 0}}),
    ("POST", "/volumes", {"volume": {"size": -3}}),
    ("POST", "/volumes", {"volume": {"size": 1.5}}),
    ("POST", "/volumes", {"volume": {"size": 99999999999}}),
    ("POST", "/volumes", {"volume": {"size": 1, "name": 5}}),
    ("POST", "/volumes", {"volume": {"size": 1, "name": "x" * 256}}),
    ("POST", "/volumes", {"volume": {"size": 1, "metadata": "x"}}),
    ("POST", "/volumes", {"volume": {"size": 1, "metadata": {"a": 1}}}),
    ("POST", "/volumes", {"volume": {"size": 1, "metadata": {"": "x"}}}),
    ("POST", "/volumes", {"volume": {"size": 1, "availability_zone": "mars"}}),
    ("POST", "/volumes", {"volume": {"size": 1, "volume_type": UNKNOWN}}),
    ("POST", "/volumes", {"volume": {"snapshot_id": UNKNOWN}}),
    ("POST", "/volumes", {"volume": {"source_volid": UNKNOWN}}),
    ("POST", "/volumes", {"volume": {"size": 1, "imageRef": UNKNOWN}}),
    ("POST", "/volumes", {"volume": {"size": 1, "multiattach": "maybe"}}),
    ("POST", "/volumes", {"volume": {}}),
    ("PUT", "/volumes/{vid}", {"volume": {"metadata": [1]}}),
    ("PUT", "/volumes/{vid}", {"volume": {"description": {"a": 1}}}),
    ("POST", "/volumes/{vid}/action", {"os-extend": {"new_size": "big"}}),
    ("POST", "/volumes/{vid}/action", {"os-extend": {"new_size": None}}),
    ("POST", "/volumes/{vid}/action", {"os-extend": {}}),
    ("POST", "/volumes/{vid}/action", {"os-extend": 5}),
    ("POST", "/volumes/{vid}/action", {"os-set_bootable": {"bootable": "perhaps"}}),
    ("POST", "/volumes/{vid}/action", {"os-update_readonly_flag": {}}),
    ("POST", "/volumes/{vid}/action", {"os-reset_status": {"status": "bogus"}}),
    ("POST", "/volumes/{vid}/action", {"os-attach": {"mountpoint": "/dev/vdb"}}),
    ("POST", "/volumes/{vid}/action", {"os-attach": {"instance_uuid": 5, "mountpoint": "/x"}}),
    ("POST", "/volumes/{vid}/action", {"os-attach": {"instance_uuid": UNKNOWN,
                                                      "mountpoint": "/x", "mode": "zz"}}),
    ("POST", "/volumes/{vid}/action", {"os-detach": {"attachment_id": UNKNOWN}}),
    ("POST", "/volumes/{vid}/action", {"os-nonsense": {}}),
    ("POST", "/volumes/{vid}/action", {"os-reserve": {}, "os-unreserve": {}}),
    ("POST", "/volumes/{vid}/metadata", {"metadata": {"a": ["b"]}}),
    ("PUT", "/volumes/{vid}/metadata/a", {"meta": {"a": "b", "c": "d"}}),
    ("PUT", "/volumes/{vid}/metadata/a", {"meta": {"b": "b"}}),
    ("POST", "/snapshots", {"snapshot": {"volume_id": 5}}),
    ("POST", "/snapshots", {"snapshot": {"volume_id": "{vid}", "force": "sometimes"}}),
    ("POST", "/snapshots", {"snapshot": {"volume_id": UNKNOWN}}),
    ("POST", "/types", {"volume_type": {"name": ""}}),
    ("POST", "/types", {"volume_type": {"name": 5}}),
    ("POST", "/types", {"volume_type": {"name": "t", "extra_specs": {"a": ["x"]}}}),
    ("POST", "/types", {"volume_type": {"name": "t", "os-volume-type-access:is_public": "z"}}),
    ("PUT", "/types/{tid}/extra_specs/a", {"b": "c"}),
    ("POST", "/types/{tid}/action", {"addProjectAccess": {}}),
    ("PUT", "/os-quota-sets/{pid}", {"quota_set": {"volumes": "many"}}),
    ("PUT", "/os-quota-sets/{pid}", {"quota_set": {"volumes": -5}}),
    ("PUT", "/os-quota-sets/{pid}", {"quota_set": {"bogus": 5}}),
    ("POST", "/backups", {"backup": {"volume_id": 5}}),
    ("POST", "/backups", {"backup": {}}),
    ("POST", "/backups", {"backup": {"volume_id": UNKNOWN}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "incremental": "maybe"}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "force": None}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "container": 5}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "snapshot_id": "x"}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "snapshot_id": UNKNOWN}}),
    ("POST", "/backups", {"backup": {"volume_id": "{vid}", "name": ["x"]}}),
    ("POST", "/backups/{bid}/restore", {"restore": {"volume_id": "nope"}}),
    ("POST", "/backups/{bid}/restore", {"restore": {"volume_id": UNKNOWN}}),
    ("POST", "/backups/{bid}/restore", {"restore": {"name": 5}}),
    ("POST", "/backups/{bid}/restore", {"restore": {"size": 5}}),
    ("POST", "/backups/{bid}/restore", {"restore": None}),
    ("POST", "/backups/{bid}/action", {"os-reset_status": {"status": "bogus"}}),
    ("POST", "/backups/{bid}/action", {"os-reset_status": {}}),
    ("POST", "/backups/{bid}/action", {"os-reset_status": {"status": 5}}),
    ("POST", "/backups/{bid}/action", {"os-nonsense": {}}),
    ("POST", "/backups/{bid}/action", {}),
    ("POST", "/backups/import_record", {"backup-record": {}}),
    ("POST", "/backups/import_record", {"backup-record": {"backup_service": 5,
                                                          "backup_url": "x"}}),
    ("POST", "/backups/import_record", {"backup-record": {
        "backup_service": "cinder.backup.drivers.ferrostack.Qcow2BackupDriver",
        "backup_url": "!!not base64!!"}}),
    ("POST", "/backups/import_record", {"backup-record": {
        "backup_service": "cinder.backup.drivers.ferrostack.Qcow2BackupDriver",
        "backup_url": "WzEsIDJd"}}),   # [1, 2]
    ("POST", "/backups/import_record", {"backup-record": {
        "backup_service": "cinder.backup.drivers.ferrostack.Qcow2BackupDriver",
        "backup_url": "eyJpZCI6ICJ4In0="}}),   # {"id": "x"}
    ("POST", "/qos-specs", {"qos_specs": {}}),
    ("POST", "/qos-specs", {"qos_specs": {"name": "q2", "consumer": "nowhere"}}),
    ("POST", "/qos-specs", {"qos_specs": {"name": 5}}),
    ("PUT", "/qos-specs/{qid}", {"qos_specs": {"a": ["b"]}}),
    ("PUT", "/qos-specs/{qid}/delete_keys", {"keys": "a"}),
    ("PUT", "/qos-specs/{qid}/delete_keys", {"keys": ["never-set"]}),
    ("GET", "/qos-specs/{qid}/associate?vol_type_id=" + UNKNOWN, None),
    ("GET", "/qos-specs/{qid}/associate", None),
]

BAD_QUERIES = [
    "/volumes?limit=abc", "/volumes?limit=-1", "/volumes/detail?marker=" + UNKNOWN,
    "/volumes?sort=size:sideways", "/volumes?sort_key=nope",
    "/volumes/detail?metadata=notjson", "/snapshots?limit=x", "/snapshots?offset=-1",
    "/snapshots/detail?sort=bogus", "/types?is_public=maybe", "/volumes?offset=zz",
    "/backups?limit=x", "/backups/detail?sort=bogus", "/backups?marker=" + UNKNOWN,
    "/backups/detail?offset=-2",
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    drop, url = None, None
    if request.param == "postgres":
        if not ferro.POSTGRES_URL:
            pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path_factory.mktemp("vol-bad") / "data", database_url=url)
    srv.start()
    try:
        c, _ = admin_cinder(srv)
        vid = c.create_volume(1)["id"]
        sid = c.create_snapshot(vid)["id"]
        tid = c.post("/types", json={"volume_type": {"name": "sweep",
                                                     "os-volume-type-access:is_public": False}},
                     expect=200).json()["volume_type"]["id"]
        bid = c.post("/backups", json={"backup": {"volume_id": vid}},
                     expect=202).json()["backup"]["id"]
        deadline = time.monotonic() + 60
        while c.get(f"/backups/{bid}", expect=200).json()["backup"]["status"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        c.wait_volume(vid)
        # an incremental on top keeps `bid` from being deleted by the sweep
        inc = c.post("/backups", json={"backup": {"volume_id": vid, "incremental": True}},
                     expect=202).json()["backup"]["id"]
        while c.get(f"/backups/{inc}", expect=200).json()["backup"]["status"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        c.wait_volume(vid)
        qid = c.post("/qos-specs", json={"qos_specs": {"name": "sweep-q", "a": "1"}},
                     expect=200).json()["qos_specs"]["id"]
        ids = {"vid": vid, "sid": sid, "tid": tid, "bid": bid, "qid": qid,
               "pid": c.project_id}
        yield srv, c, ids
    finally:
        srv.stop()
        if drop:
            drop()


def _fill(path, ids):
    for k, v in ids.items():
        path = path.replace("{" + k + "}", v)
    return path


def _check(resp):
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    if resp.status_code == 401:
        assert resp.json()["error"]["code"] == 401
        return
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.text
    body = resp.json()
    assert len(body) == 1, body
    (inner,) = body.values()
    assert inner["code"] == resp.status_code and inner["message"], body


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("case", BAD_BODIES, ids=lambda c: c[0])
def test_bad_bodies(env, route, case):
    srv, c, ids = env
    method, path, valid = route
    name, raw = case
    if valid is None:
        pytest.skip("no body")
    key = next(iter(valid))
    if name == "wrapper-not-object":
        if path.endswith("extra_specs/a") or path.endswith("/action"):
            pytest.skip("no wrapper")
        raw = ('{"%s": 5}' % key).encode()
    elif name == "nul-byte":
        raw = ('{"%s": {"name": "a\\u0000b", "description": "a\\u0000b"}}' % key).encode()
    r = c.request(method, _fill(path, ids), data=raw,
                  headers={"Content-Type": "application/json"})
    if name == "empty-object" and r.status_code < 300:
        return  # e.g. an action-less update is fine when nothing is required
    if name == "nul-byte" and r.status_code < 300:
        return  # SQLite stores NUL bytes; only 5xx is wrong
    _check(r)


@pytest.mark.parametrize("case", WRONG_TYPED, ids=lambda c: f"{c[0]} {c[1]} {str(c[2])[:60]}")
def test_wrong_typed_fields(env, case):
    srv, c, ids = env
    method, path, body = case
    body = __import__("json").loads(_fill(__import__("json").dumps(body), ids))
    r = c.request(method, _fill(path, ids), json=body)
    _check(r)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_unknown_ids_and_tokens(env, route):
    srv, c, ids = env
    method, path, valid = route
    bad_ids = {k: (UNKNOWN if k != "pid" else v) for k, v in ids.items()}
    if "{" in path and "{pid}" not in path:
        body = __import__("json").loads(_fill(__import__("json").dumps(valid), bad_ids)) \
            if valid else None
        r = c.request(method, _fill(path, bad_ids), json=body)
        _check(r)
        assert r.status_code == 404, r.text
    for token in (None, "garbage", "gAAAAA" + "x" * 180):
        anon = Cinder(srv, token, ids["pid"])
        r = anon.request(method, _fill(path, ids), json=valid,
                         headers={} if token else {"X-Auth-Token": ""})
        assert r.status_code == 401, (r.status_code, r.text)
    r = c.request(method, _fill(path, ids), data=b"{" + b" " * BIG + b"}",
                  headers={"Content-Type": "application/json"})
    if valid is not None:
        assert r.status_code == 413, r.status_code
        _check(r)


@pytest.mark.parametrize("path", BAD_QUERIES)
def test_bad_queries(env, path):
    _srv, c, _ids = env
    _check(c.get(path))


def test_odd_paths_and_methods(env):
    srv, c, ids = env
    for method, path in [("GET", "/volumes/%00"), ("GET", "/volumes/" + "x" * 300),
                         ("PATCH", "/volumes/" + ids["vid"]), ("GET", "/nothing"),
                         ("DELETE", "/volumes"), ("GET", "/types/%ff"),
                         ("POST", "/volumes/detail")]:
        _check(c.request(method, path))
    r = c.post("/volumes", data=b"size=1", headers={"Content-Type": "text/plain"})
    _check(r)
    assert requests.get(srv.url + "/readyz", timeout=5).status_code == 200
    # the sweep changed nothing it should not have
    v = c.get("/volumes/" + ids["vid"], expect=200).json()["volume"]
    assert v["status"] == "available" and v["size"] == 1


# -- per microversion: Cinder's schemas -----------------------------------------
# (min version, method, path, body, the field the 400 must name)
VERSIONS = ["3.0", "3.27", "3.55", "latest"]
CTRL = "a\x07b"
SCHEMA_CASES = [
    ("3.0", "POST", "/volumes", {"volume": {"size": 1}, "bogus": 1}, "bogus"),
    ("3.53", "POST", "/volumes", {"volume": {"size": 1, "bogus": 1}}, "bogus"),
    ("3.53", "POST", "/volumes", {"volume": {"size": 1, "user_id": "u"}}, "user_id"),
    ("3.0", "POST", "/volumes", {"volume": {"size": 1, "name": CTRL}}, "name"),
    ("3.0", "POST", "/volumes", {"volume": {"size": 1, "description": CTRL}}, "description"),
    ("3.0", "POST", "/volumes", {"volume": {"size": 1, "snapshot_id": "x"}}, "snapshot_id"),
    ("3.0", "POST", "/volumes", {"volume": {"size": 1, "source_volid": 5}}, "source_volid"),
    ("3.0", "POST", "/volumes", {"volume": None}, "volume"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"size": 5}}, "size"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"status": "error"}}, "status"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"name": "x"}, "extra": 1}, "extra"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"metadata": None}}, "metadata"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"name": CTRL}}, "name"),
    ("3.0", "PUT", "/volumes/{vid}", {"volume": {"name": 5}}, "name"),
    ("3.53", "PUT", "/volumes/{vid}", {"volume": {}}, "volume"),
    ("3.0", "POST", "/snapshots", {"snapshot": {"volume_id": "{vid}", "bogus": 1}}, "bogus"),
    ("3.0", "POST", "/snapshots", {"snapshot": {"volume_id": "{vid}", "force": None}},
     "force"),
    ("3.0", "POST", "/snapshots", {"snapshot": {"volume_id": "{vid}", "name": CTRL}}, "name"),
    ("3.0", "POST", "/snapshots", {"snapshot": {"volume_id": "{vid}"}, "x": 1}, "x"),
    ("3.0", "PUT", "/snapshots/{sid}", {"snapshot": {"size": 5}}, "size"),
    ("3.0", "PUT", "/snapshots/{sid}", {"snapshot": {"status": "error"}}, "status"),
    ("3.0", "PUT", "/snapshots/{sid}", {"snapshot": {"metadata": {"a": "b"}}}, "metadata"),
    ("3.0", "PUT", "/snapshots/{sid}", {"snapshot": {"name": CTRL}}, "name"),
    ("3.0", "PUT", "/snapshots/{sid}", {"snapshot": {}}, "snapshot"),
    ("3.27", "POST", "/attachments", {"attachment": {"volume_uuid": "{vid}", "x": 1}}, "x"),
    ("3.27", "POST", "/attachments", {"attachment": {"volume_uuid": None}}, "volume_uuid"),
    ("3.27", "POST", "/attachments", {"attachment": {"volume_uuid": "{vid}",
                                                     "connector": []}}, "connector"),
    ("3.27", "POST", "/attachments", {"attachment": {"volume_uuid": "{vid}"}, "y": 1}, "y"),
    ("3.54", "POST", "/attachments", {"attachment": {"volume_uuid": "{vid}", "mode": "rx"}},
     "mode"),
    ("3.0", "POST", "/os-volume-transfer", {"transfer": {"volume_id": "{vid}", "x": 1}}, "x"),
    ("3.0", "POST", "/os-volume-transfer", {"transfer": {"volume_id": None}}, "volume_id"),
    ("3.0", "POST", "/os-volume-transfer", {"transfer": {"volume_id": "{vid}",
                                                         "name": CTRL}}, "name"),
    ("3.55", "POST", "/volume-transfers", {"transfer": {"volume_id": "{vid}",
                                                        "no_snapshots": None}}, "no_snapshots"),
    ("3.55", "POST", "/volume-transfers", {"transfer": {"volume_id": "{vid}",
                                                        "no_snapshots": "perhaps"}},
     "no_snapshots"),
    ("3.0", "POST", "/backups", {"backup": {"volume_id": "{vid}", "bogus": 1}}, "bogus"),
    ("3.0", "POST", "/backups", {"backup": {"volume_id": "{vid}", "name": CTRL}}, "name"),
    ("3.0", "POST", "/backups", {"backup": {"volume_id": "{vid}"}, "x": 1}, "x"),
    ("3.43", "POST", "/backups", {"backup": {"volume_id": "{vid}", "metadata": {"a": 1}}},
     "metadata"),
    ("3.9", "PUT", "/backups/{bid}", {"backup": {"size": 5}}, "size"),
    ("3.9", "PUT", "/backups/{bid}", {"backup": {"name": CTRL}}, "name"),
    ("3.0", "POST", "/backups/{bid}/restore", {"restore": {"x": 1}}, "x"),
    ("3.0", "POST", "/backups/{bid}/restore", {"restore": {"volume_id": 5}}, "volume_id"),
    ("3.62", "PUT", "/v3/default-types/{pid}", {"default_type": {"volume_type": "x",
                                                                 "y": 1}}, "y"),
]


def _version_num(v):
    return (3, 71) if v == "latest" else tuple(int(x) for x in v.split("."))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", SCHEMA_CASES,
                         ids=lambda c: f"{c[0]} {c[1]} {c[2]} {c[4]}")
def test_schema_per_version(env, version, case):
    _srv, c, ids = env
    since, method, path, body, field = case
    if _version_num(version) < _version_num(since):
        pytest.skip(f"{field} is checked from {since}")
    data = __import__("json").loads(_fill(__import__("json").dumps(body), ids))
    raw = path.startswith("/v3/")
    r = c.request(method, _fill(path, ids), json=data, raw=raw,
                  headers={"OpenStack-API-Version": f"volume {version}"})
    _check(r)
    assert r.status_code == 400, (r.status_code, r.text)
    (inner,) = r.json().values()
    assert field in inner["message"], (field, inner["message"])


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_queries_per_version(env, version):
    _srv, c, _ids = env
    h = {"OpenStack-API-Version": f"volume {version}"}
    for path in BAD_QUERIES:
        _check(c.get(path, headers=h))
    # bootable: any value before 3.2, true/false only from 3.2
    r = c.get("/volumes?bootable=maybe", headers=h)
    assert r.status_code == (200 if version == "3.0" else 400), r.text
    if version == "latest":
        # 3.60 time comparisons: bad operator or time
        for q in ("created_at=gt:nonsense", "updated_at=zz:2020-01-01T00:00:00"):
            r = c.get("/volumes?" + q, headers=h)
            _check(r)
            assert r.status_code == 400
    # the sweep changed nothing
    v = c.get("/volumes/" + _ids["vid"], expect=200).json()["volume"]
    assert v["status"] == "available" and v["size"] == 1
