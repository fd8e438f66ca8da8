"""Block storage (Cinder v3) over plain HTTP: discovery and microversions,
the volume/snapshot lifecycle on real qcow2 files, pagination, error
bodies, quotas, Nova's old attach flow, cross-project isolation."""

import socket

import pytest
import requests

import ferro
from volumehelp import (GIB, Cinder, admin_cinder, assert_cinder_error, member_cinder,
                        qemu_virtual_size, snapshot_file, volume_file)


def test_discovery_and_microversions(server):
    r = requests.get(server.url + "/volume", timeout=10)
    assert r.status_code == 300, r.text
    (entry,) = r.json()["versions"]
    assert entry["id"] == "v3.0" and entry["status"] == "CURRENT"
    assert entry["min_version"] == "3.0" and entry["version"] == "3.71"
    assert {"rel": "self", "href": server.url + "/volume/v3/"} in entry["links"]
    assert entry["media-types"]
    r = requests.get(server.url + "/volume/v3/", timeout=10)
    assert r.status_code == 200 and r.json()["versions"][0]["id"] == "v3.0"

    c, _ = admin_cinder(server)
    r = c.get("/volumes", expect=200)
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    assert "OpenStack-API-Version" in r.headers["Vary"]
    r = c.get("/volumes", headers={"OpenStack-API-Version": "volume 3.0"}, expect=200)
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    r = c.get("/volumes", headers={"OpenStack-API-Version": "volume latest"}, expect=200)
    assert r.headers["OpenStack-API-Version"] == "volume 3.71"
    for bad in ("3.72", "2.0", "4.0"):
        r = c.get("/volumes", headers={"OpenStack-API-Version": f"volume {bad}"})
        assert_cinder_error(r, 406)
        assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    r = c.get("/volumes", headers={"OpenStack-API-Version": "volume x.y"})
    assert_cinder_error(r, 400)
    # errors carry the header too
    r = c.get("/volumes/" + "0" * 32)
    assert_cinder_error(r, 404)
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    # project-less form
    r = c.get("/v3/volumes/detail", raw=True, expect=200)
    assert "volumes" in r.json()


def test_volume_lifecycle_on_files(server):
    c, _ = admin_cinder(server)
    v = c.create_volume(1, name="v1", metadata={"a": "b"})
    assert v["status"] == "available", v
    assert v["bootable"] == "false" and v["volume_type"] == "__DEFAULT__"
    assert v["metadata"] == {"a": "b"}
    path = volume_file(server, v["id"])
    assert qemu_virtual_size(path) == 1 * GIB

    c.action(v["id"], {"os-extend": {"new_size": 3}})
    v = c.wait_volume(v["id"])
    assert v["size"] == 3 and v["status"] == "available"
    assert qemu_virtual_size(path) == 3 * GIB
    r = c.action(v["id"], {"os-extend": {"new_size": 2}}, expect=400)
    assert_cinder_error(r, 400)

    s = c.create_snapshot(v["id"], name="s1")
    assert s["status"] == "available" and s["size"] == 3
    assert s["os-extended-snapshot-attributes:progress"] == "100%"
    assert qemu_virtual_size(snapshot_file(server, s["id"])) == 3 * GIB

    v2 = c.create_volume(size=None, snapshot_id=s["id"], name="v2")
    assert v2["status"] == "available" and v2["size"] == 3 and v2["snapshot_id"] == s["id"]
    clone = c.create_volume(size=4, source_volid=v["id"])
    assert clone["size"] == 4 and clone["source_volid"] == v["id"]
    assert qemu_virtual_size(volume_file(server, clone["id"])) == 4 * GIB
    r = c.post("/volumes", json={"volume": {"size": 1, "snapshot_id": s["id"]}})
    assert_cinder_error(r, 400)

    # update and metadata sub-resource
    r = c.put(f"/volumes/{v['id']}", json={"volume": {"name": "renamed", "description": "d"}},
              expect=200).json()["volume"]
    assert r["name"] == "renamed" and r["description"] == "d"
    assert c.post(f"/volumes/{v['id']}/metadata", json={"metadata": {"k": "v"}},
                  expect=200).json()["metadata"] == {"a": "b", "k": "v"}
    assert c.get(f"/volumes/{v['id']}/metadata/k", expect=200).json() == {"meta": {"k": "v"}}
    c.put(f"/volumes/{v['id']}/metadata/k", json={"meta": {"k": "w"}}, expect=200)
    assert_cinder_error(c.put(f"/volumes/{v['id']}/metadata/k", json={"meta": {"z": "w"}}), 400)
    c.delete(f"/volumes/{v['id']}/metadata/k", expect=200)
    assert_cinder_error(c.get(f"/volumes/{v['id']}/metadata/k"), 404)
    assert c.put(f"/volumes/{v['id']}/metadata", json={"metadata": {"x": "1"}},
                 expect=200).json()["metadata"] == {"x": "1"}
    c.action(v["id"], {"os-set_bootable": {"bootable": True}}, expect=200)
    assert c.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["bootable"] == "true"

    # deletion rules: snapshots block it unless cascade
    assert_cinder_error(c.delete(f"/volumes/{v['id']}"), 400)
    c.delete(f"/volumes/{v['id']}?cascade=true", expect=202)
    assert_cinder_error(c.get(f"/volumes/{v['id']}"), 404)
    assert not path.exists()
    assert not snapshot_file(server, s["id"]).exists()
    for other in (v2, clone):
        c.delete(f"/volumes/{other['id']}", expect=202)
        assert not volume_file(server, other["id"]).exists()


def test_pagination_and_filters(server):
    c, ks = admin_cinder(server)
    m, _ = member_cinder(server, ks)
    ids = [m.create_volume(1, name=f"p{i}", metadata={"n": str(i)})["id"] for i in range(3)]
    seen, url, pages = [], "/volumes/detail?limit=2&sort=name:asc", 0
    while url:
        body = m.get(url, expect=200).json()
        pages += 1
        seen += [v["name"] for v in body["volumes"]]
        links = body.get("volumes_links") or []
        url = next((link["href"] for link in links if link["rel"] == "next"), None)
        assert pages < 5
    assert seen == ["p0", "p1", "p2"]
    body = m.get("/volumes?limit=3", expect=200).json()
    assert len(body["volumes"]) == 3 and "volumes_links" in body
    assert set(body["volumes"][0]) == {"id", "name", "links"}
    assert m.get("/volumes?limit=3&marker=" + body["volumes"][-1]["id"],
                 expect=200).json() == {"volumes": []}
    assert_cinder_error(m.get("/volumes?marker=" + "0" * 32), 404)
    assert_cinder_error(m.get("/volumes?limit=-1"), 400)
    assert_cinder_error(m.get("/volumes?sort=bogus:asc"), 400)
    assert [v["name"] for v in m.get("/volumes?name=p1", expect=200).json()["volumes"]] == ["p1"]
    got = m.get('/volumes/detail?metadata={"n": "2"}', expect=200).json()["volumes"]
    assert [v["id"] for v in got] == [ids[2]]
    assert m.get("/volumes?status=error", expect=200).json()["volumes"] == []
    # admin sees them only with all_tenants
    mine = {v["id"] for v in c.get("/volumes", expect=200).json()["volumes"]}
    assert not mine & set(ids)
    every = {v["id"] for v in c.get("/volumes?all_tenants=1", expect=200).json()["volumes"]}
    assert set(ids) <= every


def test_quota_exhaustion_is_413_overlimit(server):
    c, ks = admin_cinder(server)
    m, project = member_cinder(server, ks)
    pid = project["id"]
    qs = m.get(f"/os-quota-sets/{pid}", expect=200).json()["quota_set"]
    assert (qs["volumes"], qs["snapshots"], qs["gigabytes"]) == (10, 10, 1000)
    assert_cinder_error(m.put(f"/os-quota-sets/{pid}", json={"quota_set": {"volumes": 2}}), 403)
    c.put(f"/os-quota-sets/{pid}", json={"quota_set": {"volumes": 2, "gigabytes": 5}},
          expect=200)
    m.create_volume(1)
    m.create_volume(3)
    msg = assert_cinder_error(m.post("/volumes", json={"volume": {"size": 1}}), 413)
    assert "volumes" in msg
    c.put(f"/os-quota-sets/{pid}", json={"quota_set": {"volumes": 5}}, expect=200)
    msg = assert_cinder_error(m.post("/volumes", json={"volume": {"size": 2}}), 413)
    assert "gigabytes" in msg
    lim = m.get("/limits", expect=200).json()["limits"]["absolute"]
    assert lim["maxTotalVolumes"] == 5 and lim["totalVolumesUsed"] == 2
    assert lim["maxTotalVolumeGigabytes"] == 5 and lim["totalGigabytesUsed"] == 4
    usage = m.get(f"/os-quota-sets/{pid}?usage=true", expect=200).json()["quota_set"]
    assert usage["volumes"] == {"limit": 5, "in_use": 2, "reserved": 0}
    c.delete(f"/os-quota-sets/{pid}", expect=200)
    assert m.get(f"/os-quota-sets/{pid}", expect=200).json()["quota_set"]["volumes"] == 10


def test_old_attach_flow(server):
    c, _ = admin_cinder(server)
    v = c.create_volume(1)
    vid, srv = v["id"], "8c5e0c7e-0f43-4f55-9d8b-2d0d7f7e6a11"
    c.action(vid, {"os-reserve": None})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "attaching"
    assert_cinder_error(c.action(vid, {"os-reserve": {}}, expect=None), 400)
    c.action(vid, {"os-unreserve": {}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "available"
    c.action(vid, {"os-reserve": {}})
    c.action(vid, {"os-attach": {"instance_uuid": srv, "mountpoint": "/dev/vdb", "mode": "rw"}})
    v = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert v["status"] == "in-use"
    (att,) = v["attachments"]
    assert att["server_id"] == srv and att["device"] == "/dev/vdb"
    assert att["volume_id"] == vid and att["id"] == vid and att["attachment_id"]
    assert att["attached_at"] and "host_name" in att
    assert_cinder_error(c.delete(f"/volumes/{vid}"), 400)
    assert_cinder_error(c.action(vid, {"os-extend": {"new_size": 2}}, expect=None), 400)
    c.action(vid, {"os-begin_detaching": {}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "detaching"
    c.action(vid, {"os-roll_detaching": {}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "in-use"
    c.action(vid, {"os-begin_detaching": {}})
    c.action(vid, {"os-detach": {"attachment_id": att["attachment_id"]}})
    v = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert v["status"] == "available" and v["attachments"] == []
    c.action(vid, {"os-update_readonly_flag": {"readonly": True}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["metadata"]["readonly"] == "True"
    c.action(vid, {"os-reset_status": {"status": "error"}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "error"
    c.delete(f"/volumes/{vid}", expect=202)


def test_isolation_between_projects(server):
    _, ks = admin_cinder(server)
    a, pa = member_cinder(server, ks)
    b, _pb = member_cinder(server, ks)
    reader, _ = member_cinder(server, ks, role="reader", project=pa)
    v = a.create_volume(1, name="secret")
    s = a.create_snapshot(v["id"])
    vid, sid = v["id"], s["id"]
    # B: 404 everywhere, nothing in lists
    for method, path, body in [
        ("GET", f"/volumes/{vid}", None),
        ("PUT", f"/volumes/{vid}", {"volume": {"name": "x"}}),
        ("DELETE", f"/volumes/{vid}", None),
        ("POST", f"/volumes/{vid}/action", {"os-extend": {"new_size": 2}}),
        ("POST", f"/volumes/{vid}/action", {"os-reserve": {}}),
        ("GET", f"/volumes/{vid}/metadata", None),
        ("POST", f"/volumes/{vid}/metadata", {"metadata": {"a": "b"}}),
        ("GET", f"/snapshots/{sid}", None),
        ("PUT", f"/snapshots/{sid}", {"snapshot": {"name": "x"}}),
        ("DELETE", f"/snapshots/{sid}", None),
        ("GET", f"/snapshots/{sid}/metadata", None),
        ("POST", "/snapshots", {"snapshot": {"volume_id": vid}}),
        ("POST", "/volumes", {"volume": {"source_volid": vid}}),
        ("POST", "/volumes", {"volume": {"snapshot_id": sid}}),
    ]:
        assert_cinder_error(b.request(method, path, json=body), 404)
    assert vid not in {x["id"] for x in b.get("/volumes/detail", expect=200).json()["volumes"]}
    assert sid not in {x["id"] for x in b.get("/snapshots", expect=200).json()["snapshots"]}
    assert b.get("/volumes?all_tenants=1", expect=200).json()["volumes"] == []
    # B cannot use A's project id in the URL
    r = b.get(f"{a.base}/volumes", expect=None)
    assert_cinder_error(r, 400)
    # reader of A: sees, cannot change
    assert reader.get(f"/volumes/{vid}", expect=200).json()["volume"]["name"] == "secret"
    assert_cinder_error(reader.post("/volumes", json={"volume": {"size": 1}}), 403)
    assert_cinder_error(reader.put(f"/volumes/{vid}", json={"volume": {"name": "x"}}), 403)
    assert_cinder_error(reader.delete(f"/volumes/{vid}"), 403)
    assert_cinder_error(reader.post("/snapshots", json={"snapshot": {"volume_id": vid}}), 403)
    assert_cinder_error(reader.post("/types", json={"volume_type": {"name": "t"}}), 403)
    # A's volume is untouched
    v = a.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert v["name"] == "secret" and v["size"] == 1 and v["status"] == "available"


def test_volume_types_admin_crud(server):
    c, ks = admin_cinder(server)
    m, project = member_cinder(server, ks)
    t = c.post("/types", json={"volume_type": {"name": "fast", "extra_specs": {"k": "v"}}},
               expect=200).json()["volume_type"]
    assert t["is_public"] is True and t["extra_specs"] == {"k": "v"}
    assert_cinder_error(c.post("/types", json={"volume_type": {"name": "fast"}}), 409)
    assert "fast" in {x["name"] for x in m.get("/types", expect=200).json()["volume_types"]}
    assert_cinder_error(m.post("/types", json={"volume_type": {"name": "x"}}), 403)
    c.post(f"/types/{t['id']}/extra_specs", json={"extra_specs": {"a": "1"}}, expect=200)
    assert c.get(f"/types/{t['id']}/extra_specs/a", expect=200).json() == {"a": "1"}
    vol = m.create_volume(1, volume_type="fast")
    assert vol["volume_type"] == "fast"
    assert_cinder_error(c.delete(f"/types/{t['id']}"), 400)
    m.delete(f"/volumes/{vol['id']}", expect=202)
    c.delete(f"/types/{t['id']}", expect=202)
    assert_cinder_error(c.get(f"/types/{t['id']}"), 404)
    priv = c.post("/types", json={"volume_type": {"name": "priv",
                                                  "os-volume-type-access:is_public": False}},
                  expect=200).json()["volume_type"]
    assert_cinder_error(m.get(f"/types/{priv['id']}"), 404)
    c.post(f"/types/{priv['id']}/action", json={"addProjectAccess": {"project": project["id"]}},
           expect=202)
    assert m.get(f"/types/{priv['id']}", expect=200).json()["volume_type"]["name"] == "priv"
    default = c.get("/types/default", expect=200).json()["volume_type"]
    assert default["name"] == "__DEFAULT__"
    assert_cinder_error(c.delete(f"/types/{default['id']}"), 400)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_classic_port_8776(tmp_path):
    port = _free_port()
    cfg = tmp_path / "ferro.toml"
    others = [_free_port() for _ in range(3)]
    cfg.write_text(f"[ports]\nblock_storage = {port}\nidentity = {others[0]}\n"
                   f"image = {others[1]}\nnetwork = {others[2]}\n")
    srv = ferro.Server(tmp_path / "data", extra_args=["--config", str(cfg), "--classic-ports"])
    srv.start()
    try:
        root = f"http://127.0.0.1:{port}"
        r = requests.get(root + "/", timeout=10)
        assert r.status_code == 300
        assert r.json()["versions"][0]["links"][-1]["href"] == root + "/v3/"
        c, _ = admin_cinder(srv)
        c.root = root
        v = c.create_volume(1)
        assert v["links"][0]["href"].startswith(root + "/v3/")
        r = c.get(f"/volumes/{v['id']}", headers={"OpenStack-API-Version": "volume 3.99"})
        assert_cinder_error(r, 406)
        c.action(v["id"], {"os-reserve": {}})
        c.action(v["id"], {"os-attach": {"instance_uuid": "8c5e0c7e-0f43-4f55-9d8b-2d0d7f7e6a11",
                                         "mountpoint": "/dev/vdc"}})
        assert c.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["status"] == "in-use"
        c.action(v["id"], {"os-detach": {}})
        assert c.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["status"] == "available"
    finally:
        srv.stop()
