"""Bad input to every compute route, at several microversions: malformed
JSON, wrong types, missing fields, unknown ids, bad tokens. Every answer must
be a 4xx in Nova's error format, never a 5xx, and the server must stay
healthy; the classes of input Nova's schemas refuse (`STRICT_CASES`) must be
a 400 that names the field."""

import uuid

import pytest
import requests

import ferro

_STATE = {}


@pytest.fixture(scope="module", autouse=True)
def _stop_sweep_server():
    """The sweep's shared server goes with the module, whichever tests ran."""
    yield
    srv = _STATE.get("srv")
    if srv is not None:
        srv.stop()
        _STATE.clear()


def _server():
    """One server (and one real instance) shared by the whole sweep."""
    if "srv" not in _STATE:
        import tempfile
        from computehelp import Nova, image, net, token, wait

        d = tempfile.mkdtemp(prefix="ferro-compute-sweep-")
        srv = ferro.Server(__import__("pathlib").Path(d) / "data").start()
        tok = token(srv)
        nova = Nova(srv, tok)
        nid = net(srv, tok)
        iid = image(srv, tok)
        r = nova.post("/servers", {"server": {"name": "sweep", "imageRef": iid, "flavorRef": "1",
                                              "networks": [{"uuid": nid}]}})
        sid = r.json()["server"]["id"]
        wait(nova, sid, "ACTIVE")
        nova.post("/os-keypairs", {"keypair": {"name": "sweep-key"}})
        _STATE.update(srv=srv, nova=nova, sid=sid, nid=nid, iid=iid, fives=[])
    return _STATE


BAD_BODIES = [
    ("not json", b"{nope"),
    ("json list", b"[]"),
    ("json string", b'"x"'),
    ("null", b"null"),
    ("empty object", b"{}"),
    ("wrong wrapper", b'{"zzz": {}}'),
    ("wrapper is list", b'{"server": []}'),
    ("nul byte", b'{"server": {"name": "a\\u0000b"}}'),
]

ROUTES = [
    ("POST", "/servers"),
    ("PUT", "/servers/{sid}"),
    ("POST", "/servers/{sid}/action"),
    ("POST", "/servers/{sid}/metadata"),
    ("PUT", "/servers/{sid}/metadata"),
    ("PUT", "/servers/{sid}/metadata/k"),
    ("POST", "/servers/{sid}/os-volume_attachments"),
    ("POST", "/servers/{sid}/os-interface"),
    ("POST", "/flavors"),
    ("POST", "/flavors/1/os-extra_specs"),
    ("PUT", "/flavors/1/os-extra_specs/k"),
    ("POST", "/flavors/1/action"),
    ("POST", "/os-keypairs"),
    ("POST", "/os-server-groups"),
    ("PUT", "/os-services/enable"),
    ("PUT", "/os-services/disable-log-reason"),
    ("PUT", "/os-quota-sets/p1"),
    ("PUT", "/os-quota-class-sets/default"),
    ("POST", "/os-security-groups"),
    ("PUT", "/os-security-groups/6b8f2d1e-0000-4000-8000-00000000dead"),
    ("POST", "/os-security-group-rules"),
    ("POST", "/os-floating-ips"),
    ("POST", "/os-volumes"),
    ("POST", "/os-snapshots"),
    ("POST", "/images/{iid}/metadata"),
    ("PUT", "/images/{iid}/metadata"),
    ("PUT", "/images/{iid}/metadata/k"),
    ("POST", "/os-server-external-events"),
    ("POST", "/os-assisted-volume-snapshots"),
]

FIELD_CASES = [
    ("POST", "/servers", {"server": {"name": 1, "imageRef": "{iid}", "flavorRef": "1"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": 5, "flavorRef": "1"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": []}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": "all"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [1]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "metadata": []}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "min_count": "many"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "min_count": 0}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "user_data": "%%%"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "security_groups": "default"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "accessIPv4": "1.2.3"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "block_device_mapping_v2": [{"source_type": "bogus"}]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "uuid": "nope", "boot_index": 0}]}}),
    ("PUT", "/servers/{sid}", {"server": {"name": ""}}),
    ("PUT", "/servers/{sid}", {"server": {"accessIPv6": 7}}),
    ("POST", "/servers/{sid}/action", {"reboot": {"type": "GENTLE"}}),
    ("POST", "/servers/{sid}/action", {"reboot": None}),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": 5}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": "daily"}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}),
    ("POST", "/servers/{sid}/action", {"createBackup": {"name": "b", "backup_type": [], "rotation": 1}}),
    ("POST", "/servers/{sid}/action", {"createBackup": "daily"}),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-server-password", None),
    ("DELETE", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-server-password", None),
    ("POST", "/servers/{sid}/action", {"resize": {"flavorRef": "nope"}}),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": {"length": "x"}}),
    ("POST", "/servers/{sid}/action", {"os-stop": None, "os-start": None}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": None}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": 5}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": " "}}),
    ("POST", "/servers/{sid}/action", {"addSecurityGroup": {"name": "no-such-group"}}),
    ("POST", "/servers/{sid}/action", {"removeSecurityGroup": []}),
    ("POST", "/servers/{sid}/action", {"removeSecurityGroup": {"name": "no-such-group"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "security_groups": [{"name": "no-such-group"}]}}),
    ("POST", "/servers/{sid}/metadata", {"metadata": {"k": 1}}),
    ("POST", "/servers/{sid}/metadata", {"metadata": {"": "v"}}),
    ("PUT", "/servers/{sid}/metadata/k", {"meta": {"other": "v"}}),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "nope"}}),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {}}),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {"net_id": "6b8f2d1e-0000-4000-8000-00000000dead"}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": "lots", "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": -1, "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "", "ram": 1, "vcpus": 1, "disk": 0}}),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": "x"}}),
    ("POST", "/flavors/1/os-extra_specs", {"extra_specs": {"k": [1]}}),
    ("POST", "/flavors/1/action", {"addTenantAccess": {}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "bad/name"}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "k", "public_key": 5}}),
    ("POST", "/os-keypairs", {"keypair": {"name": "k", "type": "pgp"}}),
    ("POST", "/os-server-groups", {"server_group": {"name": "g"}}),
    ("POST", "/os-server-groups", {"server_group": {"name": 7, "policies": ["affinity"]}}),
    ("POST", "/os-server-groups", {"server_group": {"name": "g", "policies": [None]}}),
    # (the soft policies are valid from 2.15: test_compute_microversions_resources.py)
    ("POST", "/os-server-groups", {"server_group": {"name": "g", "policies": ["bogus-affinity"]}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1"}, "os:scheduler_hints": {"group": "nope"}}),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1"}, "os:scheduler_hints": []}),
    ("GET", "/os-server-groups?limit=-2", None),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-instance-actions", None),
    ("GET", "/servers/{sid}/os-instance-actions/req-nope", None),
    ("GET", "/servers/{sid}/os-instance-actions/%00", None),
    ("GET", "/os-server-groups/6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("DELETE", "/os-server-groups/nope", None),
    ("GET", "/servers?limit=x", None),
    ("GET", "/servers?limit=-1", None),
    ("GET", "/servers?marker=nope", None),
    ("GET", "/servers/detail?changes-since=yesterday", None),
    ("GET", "/servers?name=(", None),
    ("GET", "/flavors?minRam=x", None),
    ("GET", "/servers/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/servers/%00abc", None),
    ("GET", "/flavors/%00abc", None),
    ("DELETE", "/os-keypairs/nope", None),
    ("GET", "/servers/{sid}/metadata/missing", None),
    ("GET", "/servers/{sid}/ips/nonet", None),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/os-security-groups", None),
    ("GET", "/servers/{sid}/os-volume_attachments/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/servers/{sid}/os-interface/" + "6b8f2d1e-0000-4000-8000-00000000dead", None),
    ("GET", "/no-such-thing", None),
    ("PUT", "/os-services/disable", {"host": "ferrostack"}),
    ("PUT", "/os-services/disable", {"host": 5, "binary": "nova-compute"}),
    ("PUT", "/os-services/disable", {"host": "ferrostack", "binary": "nova-compute", "zzz": 1}),
    ("PUT", "/os-services/disable-log-reason", {"host": "ferrostack", "binary": "nova-compute", "disabled_reason": ""}),
    ("PUT", "/os-services/disable", {"host": "ferrostack", "binary": "nova-conductor"}),
    # (force-down is valid from 2.11 to 2.52: test_compute_microversions_resources.py)
    ("PUT", "/os-services/force-down", {"host": "ferrostack", "binary": "nova-compute", "forced_down": "maybe"}),
    ("PUT", "/os-services/%00", {"host": "ferrostack", "binary": "nova-compute"}),
    ("DELETE", "/os-services/x1", None),
    ("DELETE", "/os-services/99999999999999999999999", None),
    ("GET", "/os-hypervisors/99999999999999999999999", None),
    ("GET", "/os-hypervisors/%00/uptime", None),
    ("GET", "/os-hypervisors/%00/search", None),
    ("GET", "/os-hypervisors/no-such-host/servers", None),
    ("GET", "/os-simple-tenant-usage?start=2020-13-45T00:00:00", None),
    ("GET", "/os-simple-tenant-usage?start=2020-01-02T00:00:00&end=2020-01-01T00:00:00", None),
    ("GET", "/os-simple-tenant-usage/x?end=%00", None),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"ram": "x"}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"cores": -5}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"cores": 1.5}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"nope": 1}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"force": [], "ram": 1}}),
    ("PUT", "/os-quota-sets/p1", {"quota_set": {"ram": 99999999999999999999999}}),
    ("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"force": True}}),
    ("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"instances": {}}}),
    ("POST", "/os-security-groups", {"security_group": {"name": 5, "description": "d"}}),
    ("POST", "/os-security-groups", {"security_group": {"name": "x" * 300}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": "nope"}}),
    ("POST", "/os-security-group-rules", {"security_group_rule": {"parent_group_id": [], "from_port": "x"}}),
    ("POST", "/os-floating-ips", {"pool": 5}),
    ("POST", "/os-floating-ips", {"pool": "no-such-pool"}),
    ("GET", "/os-floating-ips/%00", None),
    ("POST", "/os-volumes", {"volume": {"size": -1}}),
    ("POST", "/os-volumes", {"volume": {"size": 1, "metadata": []}}),
    ("POST", "/os-snapshots", {"snapshot": {"volume_id": 5}}),
    ("POST", "/os-snapshots", {"snapshot": {"volume_id": "6b8f2d1e-0000-4000-8000-00000000dead", "force": "maybe"}}),
    ("GET", "/os-networks/%00", None),
    ("DELETE", "/os-tenant-networks/x", None),
    ("POST", "/images/{iid}/metadata", {"metadata": {"k": 5}}),
    ("PUT", "/images/{iid}/metadata/k", {"meta": {"k": "v", "j": "w"}}),
    ("POST", "/servers/{sid}/action", {"addFloatingIp": {"address": 5}}),
    ("POST", "/servers/{sid}/action", {"removeFloatingIp": {}}),
    ("GET", "/servers/6b8f2d1e-0000-4000-8000-00000000dead/diagnostics", None),
    ("POST", "/os-server-external-events", {"events": [{"name": "nope", "server_uuid": "{sid}"}]}),
    ("POST", "/os-server-external-events", {"events": []}),
    ("POST", "/os-assisted-volume-snapshots", {"snapshot": {"volume_id": "x", "create_info": []}}),
    ("DELETE", "/os-assisted-volume-snapshots/x?delete_info=%7Bnope", None),
    ("GET", "/extensions/%00", None),
]


# The sweep runs at these versions: the first, the one that added tags at
# create, the one that made list queries strict, and the newest.
VERSIONS = ["2.1", "2.52", "2.75", "latest"]


def _at(version):
    return {"OpenStack-API-Version": f"compute {version}"}


# (method, path, body, field the 400 must name): refused by Nova's schemas
# at every version of the sweep.
STRICT_CASES = [
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}, "bogus": 1}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "bogus": 1}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "security_groups": [{"name": "default", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "block_device_mapping_v2": [{"source_type": "image", "uuid": "{iid}", "bogus": 1}]}}, "bogus"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "metadata": None}}, "metadata"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "min_count": None}}, "min_count"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "key_name": None}}, "key_name"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "security_groups": None}}, "security_groups"),
    ("POST", "/servers", {"server": {"name": "x\u0007y", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}}, "name"),
    ("POST", "/servers", {"server": {"name": " lead", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}]}}, "name"),
    ("POST", "/servers", {"server": {"name": "x", "imageRef": "{iid}", "flavorRef": "1", "networks": [{"uuid": "{nid}"}], "metadata": {"a/b": "c"}}}, "metadata"),
    ("PUT", "/servers/{sid}", {"server": {"name": "x"}, "bogus": 1}, "bogus"),
    ("PUT", "/servers/{sid}", {"server": {"bogus": 1}}, "bogus"),
    ("PUT", "/servers/{sid}", {"server": {"name": "trail "}}, "name"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "metadata": []}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "metadata": {"k": 1}}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"rebuild": {"imageRef": "{iid}", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "metadata": "a"}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "metadata": None}}, "metadata"),
    ("POST", "/servers/{sid}/action", {"createImage": {"name": "x", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": 5}, "os-getConsoleOutput"),
    ("POST", "/servers/{sid}/action", {"os-getConsoleOutput": {"bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"reboot": {"type": "HARD", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/action", {"resize": {"flavorRef": "2", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/os-volume_attachments", {"volumeAttachment": {"volumeId": "6b8f2d1e-0000-4000-8000-00000000dead", "bogus": 1}}, "bogus"),
    ("POST", "/servers/{sid}/os-interface", {"interfaceAttachment": {"net_id": "{nid}", "bogus": 1}}, "bogus"),
]


def _check(r, label):
    st = _server()
    if r.status_code >= 500:
        st["fives"].append(label)
    assert 400 <= r.status_code < 500, f"{label} -> {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), (label, r.headers)
    body = r.json()
    ((key, inner),) = body.items()
    assert inner["code"] == r.status_code and inner["message"], (label, body)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("name,raw", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies(method, path, name, raw, version):
    st = _server()
    path = path.format(sid=st["sid"], iid=st["iid"])
    r = st["nova"].req(method, path, data=raw,
                       headers=dict(_at(version), **{"Content-Type": "application/json"}))
    _check(r, f"{version} {method} {path} {name}")


def _send(st, method, path, body, version):
    import json as _json

    path = path.replace("{sid}", st["sid"]).replace("{iid}", st["iid"])
    kw = {"headers": _at(version)}
    if body is not None:
        raw = _json.dumps(body).replace("{iid}", st["iid"]).replace("{nid}", st["nid"])
        kw["data"] = raw.encode()
        kw["headers"]["Content-Type"] = "application/json"
    return st["nova"].req(method, path, **kw)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path,body", FIELD_CASES, ids=[f"{c[0]} {c[1]} #{i}" for i, c in enumerate(FIELD_CASES)])
def test_bad_fields(method, path, body, version):
    st = _server()
    r = _send(st, method, path, body, version)
    _check(r, f"{version} {method} {path} {body}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method,path,body,field", STRICT_CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]} #{i}" for i, c in enumerate(STRICT_CASES)])
def test_schema_refusals(method, path, body, field, version):
    """What Nova's request schemas refuse is a 400 naming the field."""
    st = _server()
    r = _send(st, method, path, body, version)
    _check(r, f"{version} {method} {path} {body}")
    assert r.status_code == 400, (version, body, r.text)
    assert field in r.json()["badRequest"]["message"], (version, body, r.text)


@pytest.mark.parametrize("token", ["", "garbage", "gAAAAAB" + "x" * 100])
def test_bad_tokens(token):
    st = _server()
    r = requests.get(st["srv"].url + "/compute/v2.1/servers", headers={"X-Auth-Token": token}, timeout=10)
    assert r.status_code == 401, r.text


def test_still_healthy_after_sweep():
    st = _server()
    srv = st["srv"]
    assert st["fives"] == []
    assert requests.get(srv.url + "/healthz", timeout=10).status_code == 200
    r = st["nova"].get(f"/servers/{st['sid']}")
    assert r.status_code == 200 and r.json()["server"]["status"] == "ACTIVE"
    assert st["nova"].get("/servers").json()["servers"][0]["id"] == st["sid"]
