"""Bad-input sweep over the block-storage routes: malformed JSON, non-object
bodies, wrong-typed fields, unknown ids, oversized bodies, missing or bad
tokens. Every answer must be a 4xx in Cinder's error format, never a 5xx,
and the server must stay healthy. One server per backend for the module.
Where Cinder's schemas accept what looks odd, `test_accepted_as_upstream`
keeps the 2xx."""

import json
import time

import pytest
import requests

import ferro
from volumehelp import Cinder, admin_cinder

UNKNOWN = "f" * 8 + "-0000-0000-0000-" + "0" * 12
BIG = 2 * 1024 * 1024
HOST = "ferrostack@qcow2"   # the cinder-volume service's host@backend

# (method, path, a valid-shaped body or None[, the microversion it needs])
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
    ("GET", "/qos-specs/{qid}/associations", None),
    ("PUT", "/snapshots/{sid}/metadata", {"metadata": {"a": "b"}}),
    ("PUT", "/snapshots/{sid}/metadata/a", {"meta": {"a": "b"}}),
    ("GET", "/types/{tid}/os-volume-type-access", None),
    ("POST", "/types/{etid}/encryption", {"encryption": {"provider": "luks",
                                                         "control_location": "front-end"}}),
    ("PUT", "/types/{etid}/encryption/{eid}", {"encryption": {"key_size": 128}}),
    # admin views of the backend
    ("GET", "/os-hosts", None),
    ("GET", "/os-hosts/{host}", None),
    ("GET", "/scheduler-stats/get_pools", None),
    ("GET", "/capabilities/{host}", None),
    ("GET", "/os-quota-class-sets/sweep", None),
    ("PUT", "/os-quota-class-sets/sweep", {"quota_class_set": {"volumes": 5}}),
    ("GET", "/os-services", None),
    ("PUT", "/os-services/enable", {"host": HOST, "binary": "cinder-volume"}),
    ("PUT", "/os-services/disable", {"host": HOST, "binary": "cinder-volume"}),
    ("PUT", "/os-services/disable-log-reason", {"host": HOST, "binary": "cinder-volume",
                                                "disabled_reason": "r"}),
    ("PUT", "/os-services/freeze", {"host": HOST}),
    ("PUT", "/os-services/thaw", {"host": HOST}),
    # volume actions, one route each
    ("POST", "/volumes/{vid}/action", {"os-retype": {"new_type": "sweep"}}),
    ("POST", "/volumes/{vid}/action", {"os-set_image_metadata": {"metadata": {"a": "b"}}}),
    ("POST", "/volumes/{vid}/action", {"os-unset_image_metadata": {"key": "a"}}),
    ("POST", "/volumes/{vid}/action", {"os-show_image_metadata": {}}),
    ("POST", "/volumes/{vid}/action", {"os-volume_upload_image": {"image_name": "i"}}),
    ("POST", "/volumes/{vid}/action", {"os-set_bootable": {"bootable": True}}),
    ("POST", "/volumes/{vid}/action", {"os-attach": {"instance_uuid": UNKNOWN,
                                                      "mountpoint": "/dev/vdb"}}),
    # later microversions
    ("GET", "/clusters", None, "3.7"),
    ("PUT", "/clusters/enable", {"name": "c1"}, "3.7"),
    ("PUT", "/clusters/disable", {"name": "c1", "disabled_reason": "r"}, "3.7"),
    ("GET", "/manageable_volumes?host=" + HOST, None, "3.8"),
    ("POST", "/group_types", {"group_type": {"name": "g"}}, "3.11"),
    ("PUT", "/group_types/{gtid}", {"group_type": {"description": "d"}}, "3.11"),
    ("POST", "/group_types/{gtid}/group_specs", {"group_specs": {"a": "b"}}, "3.11"),
    ("PUT", "/group_types/{gtid}/group_specs/a", {"a": "b"}, "3.11"),
    ("POST", "/groups", {"group": {"group_type": "{gtid}", "volume_types": ["{tid}"]}},
     "3.13"),
    ("GET", "/groups/{gid}", None, "3.13"),
    ("PUT", "/groups/{gid}", {"group": {"name": "x"}}, "3.13"),
    ("POST", "/groups/{gid}/action", {"delete": {"delete-volumes": False}}, "3.13"),
    ("POST", "/group_snapshots", {"group_snapshot": {"group_id": "{gid}"}}, "3.14"),
    ("GET", "/group_snapshots/{gsid}", None, "3.14"),
    ("POST", "/group_snapshots/{gsid}/action", {"reset_status": {"status": "available"}},
     "3.19"),
    ("POST", "/workers/cleanup", {"host": HOST}, "3.24"),
    ("POST", "/attachments", {"attachment": {"volume_uuid": "{vid}"}}, "3.27"),
    ("GET", "/attachments/{aid}", None, "3.27"),
    ("PUT", "/attachments/{aid}", {"attachment": {"connector": {"host": "h"}}}, "3.27"),
    ("POST", "/attachments/{aid}/action", {"os-complete": {}}, "3.44"),
    ("POST", "/os-volume-transfer/{trid}/accept", {"accept": {"auth_key": "k"}}),
    ("POST", "/volume-transfers", {"transfer": {"volume_id": "{vid}"}}, "3.55"),
    ("GET", "/volume-transfers/{trid}", None, "3.55"),
    ("POST", "/volume-transfers/{trid}/accept", {"accept": {"auth_key": "k"}}, "3.55"),
    ("GET", "/default-types/{pid}", None, "3.62"),
    ("PUT", "/default-types/{pid}", {"default_type": {"volume_type": "sweep"}}, "3.62"),
]

# action names whose upstream schema takes any value for the action
ANY_ARGS = {"os-show_image_metadata", "os-complete"}

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
               "pid": c.project_id, "host": HOST}
        ids.update(_later_resources(c, tid))
        yield srv, c, ids
    finally:
        srv.stop()
        if drop:
            drop()


def _mv(version):
    return {"OpenStack-API-Version": f"volume {version}"} if version else {}


def _later_resources(c, tid):
    """An encrypted type, a group type, group and group snapshot, an
    attachment and a transfer (on volumes of their own)."""
    etid = c.post("/types", json={"volume_type": {"name": "sweep-enc"}},
                  expect=200).json()["volume_type"]["id"]
    eid = c.post(f"/types/{etid}/encryption", json={"encryption": {
        "provider": "luks", "control_location": "front-end"}},
        expect=200).json()["encryption"]["encryption_id"]
    gtid = c.post("/group_types", json={"group_type": {"name": "sweep-gt"}},
                  headers=_mv("3.11"), expect=202).json()["group_type"]["id"]
    gid = c.post("/groups", json={"group": {"group_type": gtid, "volume_types": [tid]}},
                 headers=_mv("3.13"), expect=202).json()["group"]["id"]
    deadline = time.monotonic() + 60
    while c.get(f"/groups/{gid}", headers=_mv("3.13"),
                expect=200).json()["group"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    gsid = c.post("/group_snapshots", json={"group_snapshot": {"group_id": gid}},
                  headers=_mv("3.14"), expect=202).json()["group_snapshot"]["id"]
    att_vol = c.create_volume(1)["id"]
    aid = c.post("/attachments", json={"attachment": {"volume_uuid": att_vol}},
                 headers=_mv("3.27"), expect=200).json()["attachment"]["id"]
    tr_vol = c.create_volume(1)["id"]
    trid = c.post("/volume-transfers", json={"transfer": {"volume_id": tr_vol}},
                  headers=_mv("3.55"), expect=202).json()["transfer"]["id"]
    return {"etid": etid, "eid": eid, "gtid": gtid, "gid": gid, "gsid": gsid, "aid": aid,
            "trid": trid}


def _route(r):
    """(method, path, valid body, microversion or None)."""
    return (tuple(r) + (None,))[:4]


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


def _route_id(r):
    method, path, valid, version = _route(r)
    action = next(iter(valid)) if valid and path.endswith("/action") else ""
    return " ".join(x for x in (method, path, action, version) if x)


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
@pytest.mark.parametrize("case", BAD_BODIES, ids=lambda c: c[0])
def test_bad_bodies(env, route, case):
    srv, c, ids = env
    method, path, valid, version = _route(route)
    name, raw = case
    if valid is None:
        pytest.skip("no body")
    key = next(iter(valid))
    if name == "wrapper-not-object":
        if not isinstance(valid[key], dict) or key in ANY_ARGS:
            pytest.skip("the value under the key is not an object")
        raw = ('{"%s": 5}' % key).encode()
    elif name == "nul-byte":
        raw = ('{"%s": {"name": "a\\u0000b", "description": "a\\u0000b"}}' % key).encode()
    r = c.request(method, _fill(path, ids), data=raw,
                  headers={"Content-Type": "application/json", **_mv(version)})
    if name == "empty-object" and r.status_code < 300:
        return  # e.g. an action-less update is fine when nothing is required
    if name == "nul-byte" and r.status_code < 300:
        return  # SQLite stores NUL bytes; only 5xx is wrong
    _check(r)


@pytest.mark.parametrize("case", WRONG_TYPED, ids=lambda c: f"{c[0]} {c[1]} {str(c[2])[:60]}")
def test_wrong_typed_fields(env, case):
    srv, c, ids = env
    method, path, body = case
    body = json.loads(_fill(json.dumps(body), ids))
    r = c.request(method, _fill(path, ids), json=body)
    _check(r)


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_unknown_ids_and_tokens(env, route):
    srv, c, ids = env
    method, path, valid, version = _route(route)
    h = _mv(version)
    bad_ids = {k: (UNKNOWN if k != "pid" else v) for k, v in ids.items()}
    if "{" in path and "{pid}" not in path:
        body = json.loads(_fill(json.dumps(valid), bad_ids)) if valid else None
        r = c.request(method, _fill(path, bad_ids), json=body, headers=h)
        _check(r)
        assert r.status_code == 404, r.text
    for token in (None, "garbage", "gAAAAA" + "x" * 180):
        anon = Cinder(srv, token, ids["pid"])
        r = anon.request(method, _fill(path, ids), json=valid,
                         headers={**h, **({} if token else {"X-Auth-Token": ""})})
        assert r.status_code == 401, (r.status_code, r.text)
    r = c.request(method, _fill(path, ids), data=b"{" + b" " * BIG + b"}",
                  headers={"Content-Type": "application/json", **h})
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
    data = json.loads(_fill(json.dumps(body), ids))
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


# -- admin views, quota classes, services and the later volume actions ----------
# (microversion or None, method, path, body or None, status, a word the message names)
A = "/volumes/{vid}/action"
CS = "/os-quota-class-sets/sweep"
SVC = "/os-services/"
VOL = {"host": HOST, "binary": "cinder-volume"}
NAMED_CASES = [
    # hosts, pools and capabilities: a pool is not a host; Cinder's bool and filters
    (None, "GET", "/os-hosts/" + HOST + "%23qcow2", None, 404, None),
    (None, "GET", "/os-hosts/ferrostack@other", None, 404, None),
    (None, "GET", "/capabilities/" + HOST + "%23qcow2", None, 404, None),
    (None, "GET", "/scheduler-stats/get_pools?detail=maybe", None, 400, "detail"),
    ("3.33", "GET", "/scheduler-stats/get_pools?bogus=1", None, 400, "bogus"),
    ("3.33", "GET", "/scheduler-stats/get_pools?limit=1", None, 400, "limit"),
    ("3.35", "GET", "/scheduler-stats/get_pools?volume_type=" + UNKNOWN, None, 404, None),
    # quota classes: integers from -1, or strings of digits; known keys
    (None, "PUT", CS, {"quota_class_set": {"volumes": "-1"}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": " 5"}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": ""}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": True}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": 1.5}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": -2}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": 2 ** 31}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": None}}, 400, "volumes"),
    (None, "PUT", CS, {"quota_class_set": {"bogus": 1}}, 400, "bogus"),
    (None, "PUT", CS, {"quota_class_set": {"volumes_nosuchtype": 1}}, 400, "volumes_nosuchtype"),
    (None, "PUT", CS, {"quota_class_set": {"volumes": 1}, "x": 1}, 400, "x"),
    (None, "PUT", CS, {"quota_class_set": None}, 400, "quota_class_set"),
    (None, "PUT", CS, {"quota_class_set": [1]}, 400, "quota_class_set"),
    (None, "PUT", "/os-quota-class-sets/" + "c" * 256, {"quota_class_set": {"volumes": 1}},
     400, "quota_class_name"),
    # services: binary (or service) and host required, nothing else
    (None, "PUT", SVC + "enable", {"host": HOST}, 400, "binary"),
    (None, "PUT", SVC + "enable", {"binary": "cinder-volume"}, 400, "host"),
    (None, "PUT", SVC + "enable", {**VOL, "bogus": 1}, 400, "bogus"),
    (None, "PUT", SVC + "enable", {**VOL, "disabled_reason": "r"}, 400, "disabled_reason"),
    (None, "PUT", SVC + "enable", {"host": HOST, "binary": 5}, 400, "binary"),
    (None, "PUT", SVC + "disable", {"host": HOST, "binary": ""}, 400, "binary"),
    (None, "PUT", SVC + "disable", {"host": HOST, "service": 5}, 400, "service"),
    (None, "PUT", SVC + "disable", {"host": "bad host!", "binary": "cinder-volume"}, 400,
     "host"),
    (None, "PUT", SVC + "disable", {"host": 5, "binary": "cinder-volume"}, 400, "host"),
    (None, "PUT", SVC + "enable", {"host": "nowhere", "binary": "cinder-volume"}, 404, None),
    (None, "PUT", SVC + "disable-log-reason", {**VOL, "disabled_reason": "   "}, 400,
     "disabled_reason"),
    (None, "PUT", SVC + "disable-log-reason", {**VOL, "disabled_reason": "r" * 256}, 400,
     "disabled_reason"),
    (None, "PUT", SVC + "disable-log-reason", {**VOL, "disabled_reason": 5}, 400,
     "disabled_reason"),
    (None, "PUT", SVC + "disable-log-reason", {**VOL, "disabled_reason": "a\x00b"}, 400,
     "disabled_reason"),
    (None, "PUT", SVC + "freeze", {}, 400, "host"),
    (None, "PUT", SVC + "freeze", {"host": HOST, "x": 1}, 400, "x"),
    (None, "PUT", SVC + "freeze", {"host": HOST, "binary": "cinder-volume"}, 400, "binary"),
    (None, "PUT", SVC + "freeze", {"host": 5}, 400, "host"),
    (None, "PUT", SVC + "freeze", {"host": "nowhere"}, 400, "nowhere"),
    ("3.26", "PUT", SVC + "freeze", {"host": HOST, "cluster": "c"}, 400, "cluster"),
    ("3.26", "PUT", SVC + "thaw", {"cluster": "c"}, 400, "cluster"),
    (None, "PUT", SVC + "thaw", {"host": HOST}, 400, "frozen"),   # it is not frozen
    (None, "PUT", SVC + "nonsense", VOL, 404, None),
    # os-set_image_metadata / os-unset_image_metadata
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"a$b": "x"}}}, 400, "a$b"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"ключ": "x"}}}, 400, "ключ"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"": "x"}}}, 400, "metadata"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"k" * 256: "x"}}}, 400,
     "metadata"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"a": 5}}}, 400, "attribute a."),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"a": None}}}, 400,
     "attribute a."),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"a": "x" * 65536}}}, 400,
     "65535"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": "x"}}, 400, "metadata"),
    (None, "POST", A, {"os-set_image_metadata": {}}, 400, "metadata"),
    (None, "POST", A, {"os-set_image_metadata": {"metadata": {"a": "b"}, "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-unset_image_metadata": {}}, 400, "key"),
    (None, "POST", A, {"os-unset_image_metadata": {"key": ""}}, 400, "key"),
    (None, "POST", A, {"os-unset_image_metadata": {"key": 5}}, 400, "key"),
    (None, "POST", A, {"os-unset_image_metadata": {"key": "k" * 256}}, 400, "key"),
    (None, "POST", A, {"os-unset_image_metadata": {"key": "a", "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-unset_image_metadata": {"key": "never-set"}}, 404, None),
    # os-retype
    (None, "POST", A, {"os-retype": {}}, 400, "new_type"),
    (None, "POST", A, {"os-retype": {"new_type": 5}}, 400, "new_type"),
    (None, "POST", A, {"os-retype": {"new_type": "sweep", "migration_policy": "sometimes"}},
     400, "migration_policy"),
    (None, "POST", A, {"os-retype": {"new_type": "sweep", "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-retype": {"new_type": UNKNOWN}}, 404, None),
    (None, "POST", A, {"os-retype": {"new_type": "__DEFAULT__"}}, 400, "volume_type"),
    # os-volume_upload_image (3.1 adds visibility and protected)
    (None, "POST", A, {"os-volume_upload_image": {}}, 400, "image_name"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": ""}}, 400, "image_name"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": 5}}, 400, "image_name"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": "i", "force": "Y"}}, 400,
     "force"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": "i", "force": None}}, 400,
     "force"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": "i", "disk_format": "iso"}},
     400, "disk_format"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": "i", "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-volume_upload_image": {"image_name": "i", "visibility": "public"}},
     400, "visibility"),
    ("3.1", "POST", A, {"os-volume_upload_image": {"image_name": "i", "visibility": "nope"}},
     400, "visibility"),
    ("3.1", "POST", A, {"os-volume_upload_image": {"image_name": "i", "protected": "maybe"}},
     400, "protected"),
    # the other volume actions' schemas: no extra keys, Cinder's booleans, uuids
    (None, "POST", A, {"os-set_bootable": {"bootable": "T"}}, 400, "bootable"),
    (None, "POST", A, {"os-set_bootable": {"bootable": True, "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-update_readonly_flag": {"readonly": "Y"}}, 400, "readonly"),
    (None, "POST", A, {"os-extend": {"new_size": 5, "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-attach": {"instance_uuid": "nope", "mountpoint": "/dev/vdb"}},
     400, "instance_uuid"),
    (None, "POST", A, {"os-attach": {"instance_uuid": UNKNOWN, "mountpoint": ""}}, 400,
     "mountpoint"),
    (None, "POST", A, {"os-attach": {"host_name": 5, "mountpoint": "/dev/vdb"}}, 400,
     "host_name"),
    (None, "POST", A, {"os-attach": {"instance_uuid": UNKNOWN, "mountpoint": "/x", "x": 1}},
     400, "x"),
    (None, "POST", A, {"os-detach": {"attachment_id": "nope"}}, 400, "attachment_id"),
    (None, "POST", A, {"os-detach": {"x": 1}}, 400, "x"),
    (None, "POST", A, {"os-terminate_connection": {}}, 400, "connector"),
    (None, "POST", A, {"os-terminate_connection": {"connector": 5}}, 400, "connector"),
    (None, "POST", A, {"os-reset_status": {"status": "available", "x": 1}}, 400, "x"),
    (None, "POST", A, {"os-force_detach": {"x": 1}}, 400, "x"),
    # clusters (none exist), manageable lists, workers cleanup
    ("3.7", "GET", "/clusters?bogus=1", None, 400, "bogus"),
    ("3.7", "GET", "/clusters/detail?is_up=maybe", None, 400, "is_up"),
    ("3.7", "GET", "/clusters?frozen=true", None, 400, "frozen"),   # from 3.26
    ("3.7", "PUT", "/clusters/enable", {}, 400, "name"),
    ("3.7", "PUT", "/clusters/enable", {"name": 5}, 400, "name"),
    ("3.7", "PUT", "/clusters/enable", {"name": "c", "x": 1}, 400, "x"),
    ("3.7", "PUT", "/clusters/enable", {"name": "c", "disabled_reason": "r"}, 400,
     "disabled_reason"),
    ("3.7", "PUT", "/clusters/disable", {"name": "c", "disabled_reason": "  "}, 400,
     "disabled_reason"),
    ("3.7", "PUT", "/clusters/enable", {"name": "c"}, 404, None),
    ("3.8", "GET", "/manageable_volumes?host=" + HOST + "&limit=x", None, 400, "limit"),
    ("3.8", "GET", "/manageable_snapshots?host=" + HOST + "&sort=name", None, 400, "sort"),
    ("3.8", "GET", "/manageable_volumes?host=" + HOST + "%23qcow2%23x", None, 404, None),
    ("3.24", "POST", "/workers/cleanup", {"bogus": 1}, 400, "bogus"),
    ("3.24", "POST", "/workers/cleanup", {"binary": "nova-compute"}, 400, "binary"),
    ("3.24", "POST", "/workers/cleanup", {"is_up": "maybe"}, 400, "is_up"),
    ("3.24", "POST", "/workers/cleanup", {"host": "bad host!"}, 400, "host"),
    ("3.24", "POST", "/workers/cleanup", {"resource_id": "x"}, 400, "resource_id"),
    ("3.24", "POST", "/workers/cleanup", {"resource_type": "Backup"}, 400, "resource type"),
    ("3.24", "POST", "/workers/cleanup", {"service_id": "abc"}, 400, "service_id"),
    ("3.24", "POST", "/workers/cleanup", {"resource_id": UNKNOWN}, 400, UNKNOWN),
    # paging of types and qos-specs, a quota set's usage flag
    (None, "GET", "/types?limit=x", None, 400, "limit"),
    (None, "GET", "/types?offset=-1", None, 400, "offset"),
    (None, "GET", "/types?sort=bogus", None, 400, "sort"),
    (None, "GET", "/types?sort=name:sideways", None, 400, "sort"),
    (None, "GET", "/types?marker=" + UNKNOWN, None, 404, None),
    (None, "GET", "/qos-specs?limit=x", None, 400, "limit"),
    (None, "GET", "/qos-specs?sort=bogus", None, 400, "sort"),
    (None, "GET", "/qos-specs?marker=" + UNKNOWN, None, 404, None),
    (None, "GET", "/os-quota-sets/{pid}?usage=maybe", None, 400, "usage"),
    # other lists of later versions
    ("3.5", "GET", "/messages?limit=x", None, 400, "limit"),
    ("3.5", "GET", "/messages?sort=bogus", None, 400, "sort"),
    ("3.27", "GET", "/attachments?limit=-1", None, 400, "limit"),
    ("3.13", "GET", "/groups/detail?sort=bogus", None, 400, "sort"),
    ("3.14", "GET", "/group_snapshots?offset=z", None, 400, "offset"),
    ("3.11", "GET", "/group_types?is_public=maybe", None, 400, "is_public"),
    ("3.55", "GET", "/volume-transfers/detail?limit=x", None, 400, "limit"),
    (None, "GET", "/os-volume-transfer?limit=x", None, 400, "limit"),
    ("3.45", "GET", "/volumes?with_count=maybe", None, 400, "with_count"),
]


def _case_id(c):
    return f"{c[0] or '3.0'} {c[1]} {c[2]} {json.dumps(c[3])[:50] if c[3] is not None else ''}"


@pytest.mark.parametrize("case", NAMED_CASES, ids=_case_id)
def test_named_refusals(env, case):
    _srv, c, ids = env
    version, method, path, body, status, word = case
    data = json.loads(_fill(json.dumps(body), ids)) if body is not None else None
    r = c.request(method, _fill(path, ids), json=data, headers=_mv(version))
    _check(r)
    assert r.status_code == status, (r.status_code, r.text)
    if word:
        (inner,) = r.json().values()
        assert word.lower() in inner["message"].lower(), (word, inner["message"])


def test_named_refusals_changed_nothing(env):
    """The refused requests left the volume, its type and the services alone."""
    _srv, c, ids = env
    v = c.get("/volumes/" + ids["vid"], expect=200).json()["volume"]
    assert (v["status"], v["size"], v["volume_type"]) == ("available", 1, "__DEFAULT__"), v
    assert v["bootable"] == "false" and not v.get("volume_image_metadata"), v
    svcs = c.get("/os-services", expect=200).json()["services"]
    assert {(s["binary"], s["status"]) for s in svcs} == {
        ("cinder-scheduler", "enabled"), ("cinder-volume", "enabled")}
    assert all(s.get("frozen") in (None, False) for s in svcs), svcs


def test_accepted_as_upstream(env):
    """What Cinder's schemas accept, odd as it looks, stays a 2xx."""
    _srv, c, ids = env
    vid = c.create_volume(1)["id"]
    act = f"/volumes/{vid}/action"
    # image metadata: keys of letters, digits and -_:. /, values up to 64 KiB
    long = "v" * 1000
    r = c.post(act, json={"os-set_image_metadata": {"metadata": {
        "a b:c/d.e-f_g": "x", "long": long}}}, expect=200).json()
    assert r["metadata"] == {"a b:c/d.e-f_g": "x", "long": long}
    c.post(act, json={"os-unset_image_metadata": {"key": "a b:c/d.e-f_g"}}, expect=200)
    assert c.post(act, json={"os-show_image_metadata": None},
                  expect=200).json() == {"metadata": {"long": long}}
    # ... but not while the volume is in maintenance
    c.post(act, json={"os-reset_status": {"status": "maintenance"}}, expect=202)
    for body in ({"os-set_image_metadata": {"metadata": {"k": "v"}}},
                 {"os-unset_image_metadata": {"key": "long"}}):
        assert "maintenance" in _named(c.post(act, json=body), 400)
    c.post(act, json={"os-reset_status": {"status": "available"}}, expect=202)
    # Cinder's boolean strings; migration_policy may be null
    c.post(act, json={"os-set_bootable": {"bootable": "y"}}, expect=200)
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["bootable"] == "true"
    c.post(act, json={"os-update_readonly_flag": {"readonly": "Off"}}, expect=202)
    c.post(act, json={"os-retype": {"new_type": "sweep", "migration_policy": None}},
           expect=202)
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["volume_type"] == "sweep"
    c.post(act, json={"os-terminate_connection": {"connector": None}}, expect=202)
    # quota classes: a string of digits and -1
    r = c.put("/os-quota-class-sets/sweep-ok", json={"quota_class_set": {
        "volumes": "7", "snapshots": -1}}, expect=200).json()["quota_class_set"]
    assert r["volumes"] == 7 and r["snapshots"] == -1
    # hosts are matched as Cinder does: a host names its backends
    assert c.get("/os-hosts/ferrostack", expect=200).json()["host"][0]["resource"][
        "host"] == "ferrostack"
    assert c.get("/capabilities/ferrostack", expect=200).json()["volume_backend_name"]
    assert c.get("/os-hosts?zone=nova", expect=200).json()["hosts"]
    assert c.get("/os-hosts?zone=elsewhere", expect=200).json()["hosts"] == []
    # pools: 3.28 filters on the name and capabilities, 3.35 on a volume type
    def pools(query, version):
        return c.get("/scheduler-stats/get_pools" + query, headers=_mv(version),
                     expect=200).json()["pools"]

    assert len(pools("?detail=TRUE", None)) == 1
    assert pools("?storage_protocol=iscsi", "3.27") != []   # filters came with 3.28
    assert pools("?storage_protocol=iscsi", "3.28") == []
    assert len(pools("?storage_protocol=qcow2&multiattach=true", "3.28")) == 1
    assert len(pools("?volume_type=sweep", "3.35")) == 1
    c.post("/types", json={"volume_type": {"name": "sweep-far", "extra_specs": {
        "volume_backend_name": "elsewhere"}}}, expect=200)
    assert pools("?volume_type=sweep-far", "3.35") == []
    assert len(pools("?volume_type=sweep-far", "3.34")) == 1   # ignored before 3.35
    # workers cleanup: no body, an empty one, a resource with its location
    for body in (None, {}, {"resource_id": UNKNOWN, "host": HOST, "is_up": "yes"}):
        r = c.post("/workers/cleanup", json=body, headers=_mv("3.24"), expect=202).json()
        assert r == {"cleaning": [], "unavailable": []}
    # paging of types and qos-specs
    every = c.get("/types?sort=name:asc", expect=200).json()["volume_types"]
    assert [t["name"] for t in every] == sorted(t["name"] for t in every)
    page = c.get("/types?limit=1&sort=name:asc", expect=200).json()["volume_types"]
    assert page == every[:1]
    page = c.get(f"/types?sort=name:asc&marker={page[0]['id']}&limit=1",
                 expect=200).json()["volume_types"]
    assert page == every[1:2]
    c.post("/qos-specs", json={"qos_specs": {"name": "sweep-q2"}}, expect=200)
    every = c.get("/qos-specs?sort=name:asc", expect=200).json()["qos_specs"]
    assert len(every) >= 2
    r = c.get("/qos-specs?limit=1&sort=name:asc", expect=200).json()
    assert r["qos_specs"] == every[:1] and r["qos_specs_links"][0]["rel"] == "next"
    r = c.get(r["qos_specs_links"][0]["href"], expect=200).json()
    assert r["qos_specs"] == every[1:2]
    assert c.get(f"/os-quota-sets/{ids['pid']}?usage=True",
                 expect=200).json()["quota_set"]["volumes"]["in_use"] >= 1


def test_services_as_upstream(env):
    """os-services: `service` for `binary`, a disable reason is optional,
    freeze and thaw change something or are a 400, host names match as
    Cinder matches them; a disabled volume service leaves os-hosts."""
    _srv, c, _ids = env
    try:
        r = c.put(SVC + "disable-log-reason", json={"host": HOST, "service": "cinder-volume"},
                  expect=200).json()
        assert r == {"host": HOST, "service": "cinder-volume", "binary": "",
                     "status": "disabled", "disabled": True, "disabled_reason": None}
        hosts = c.get("/os-hosts", expect=200).json()["hosts"]
        assert [h["service"] for h in hosts] == ["cinder-scheduler"]
        _named(c.get("/os-hosts/" + HOST), 404)
        assert c.get("/capabilities/" + HOST, expect=200).json()["volume_backend_name"]
        r = c.put(SVC + "enable", json={"host": "ferrostack", "binary": "cinder-volume"},
                  expect=200).json()
        assert r["status"] == "enabled" and r["host"] == "ferrostack"
        assert len(c.get("/os-hosts", expect=200).json()["hosts"]) == 2
        c.put(SVC + "freeze", json={"host": "ferrostack"}, expect=200)
        assert "frozen" in _named(c.put(SVC + "freeze", json={"host": HOST}), 400)
        c.put(SVC + "thaw", json={"host": HOST, "cluster": None}, expect=200)
        c.put(SVC + "freeze", json={"host": HOST, "cluster": "ignored before 3.26"},
              expect=200)
        c.put(SVC + "thaw", json={"host": HOST}, headers=_mv("3.26"), expect=200)
    finally:
        c.put(SVC + "enable", json=VOL)
        c.put(SVC + "thaw", json={"host": HOST})
    svcs = c.get("/os-services?binary=cinder-volume", expect=200).json()["services"]
    assert svcs[0]["status"] == "enabled" and svcs[0]["frozen"] is False


def _named(resp, status):
    _check(resp)
    assert resp.status_code == status, (resp.status_code, resp.text)
    (inner,) = resp.json().values()
    return inner["message"]
