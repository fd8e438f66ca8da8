"""Block storage microversions 3.0-3.71: every boundary that changes a
shape, checked on both sides (the version just below and the version that
adds it), for volumes, snapshots, filters, types, limits and the routes a
version adds."""

import time

from volumehelp import admin_cinder, assert_cinder_error, member_cinder


def mv(v):
    return {"OpenStack-API-Version": f"volume {v}"}


def show(c, vid, v):
    r = c.get(f"/volumes/{vid}", headers=mv(v), expect=200)
    assert r.headers["OpenStack-API-Version"] == f"volume {v}"
    return r.json()["volume"]


def test_version_negotiation(server):
    c, _ = admin_cinder(server)
    r = c.get("/volumes", headers=mv("latest"), expect=200)
    assert r.headers["OpenStack-API-Version"] == "volume 3.71"
    assert_cinder_error(c.get("/volumes", headers=mv("3.72")), 406)
    r = c.get("/volumes", expect=200)
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"


def test_volume_view_fields_per_version(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    vid = member.create_volume(1, name="mv")["id"]
    # (field, version that adds it, shown to admins only)
    added = [("group_id", "3.13", False), ("provider_id", "3.21", True),
             ("service_uuid", "3.48", False), ("shared_targets", "3.48", False),
             ("cluster_name", "3.61", True), ("volume_type_id", "3.63", False),
             ("consumes_quota", "3.65", False)]
    for field, ver, admin_only in added:
        major, minor = ver.split(".")
        below = f"{major}.{int(minor) - 1}"
        for c, sees in ((admin, True), (member, not admin_only)):
            assert field not in show(c, vid, below), (field, below)
            assert (field in show(c, vid, ver)) == sees, (field, ver, sees)
    latest = show(admin, vid, "3.71")
    assert latest["group_id"] is None and latest["provider_id"] is None
    assert latest["shared_targets"] is False and latest["cluster_name"] is None
    assert latest["consumes_quota"] is True and "encryption_key_id" not in latest
    types = admin.get("/types", expect=200).json()["volume_types"]
    default = next(t for t in types if t["name"] == "__DEFAULT__")
    assert latest["volume_type_id"] == default["id"]
    assert latest["volume_type"] == "__DEFAULT__"
    # migration_status is an admin field at every version
    assert "migration_status" not in show(member, vid, "3.0")
    assert "migration_status" in show(admin, vid, "3.0")
    # detail lists and create responses carry the same versioned fields
    d = member.get("/volumes/detail", headers=mv("3.63"), expect=200).json()["volumes"]
    assert d[0]["volume_type_id"] == default["id"]
    body = {"volume": {"size": 1}}
    r = member.post("/volumes", json=body, headers=mv("3.65"), expect=202).json()["volume"]
    assert r["consumes_quota"] is True and "volume_type_id" in r
    r = member.post("/volumes", json=body, headers=mv("3.12"), expect=202).json()["volume"]
    assert "group_id" not in r


def test_snapshot_fields_and_count(server):
    c, _ = admin_cinder(server)
    vid = c.create_volume(1)["id"]
    sid = c.create_snapshot(vid)["id"]
    for field, ver in (("group_snapshot_id", "3.14"), ("user_id", "3.41"),
                       ("consumes_quota", "3.65")):
        below = f"3.{int(ver.split('.')[1]) - 1}"
        s = c.get(f"/snapshots/{sid}", headers=mv(below), expect=200).json()["snapshot"]
        assert field not in s
        s = c.get(f"/snapshots/{sid}", headers=mv(ver), expect=200).json()["snapshot"]
        assert field in s
    # with_count: 3.45 on volumes and snapshots
    for path in ("/volumes", "/volumes/detail", "/snapshots", "/snapshots/detail"):
        r = c.get(path + "?with_count=true&limit=1", headers=mv("3.44"), expect=200).json()
        assert "count" not in r
        r = c.get(path + "?with_count=true&limit=1", headers=mv("3.45"), expect=200).json()
        assert r["count"] == 1
        r = c.get(path, headers=mv("3.45"), expect=200).json()
        assert "count" not in r


def test_filters_per_version(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    a = c.create_volume(1, name="alpha-one")
    time.sleep(0.05)
    b = c.create_volume(2, name="beta-two")
    c.action(b["id"], {"os-set_bootable": {"bootable": True}}, expect=200)

    def names(q, v, who=c):
        r = who.get("/volumes?" + q, headers=mv(v), expect=200)
        return sorted(x["name"] for x in r.json()["volumes"])

    # 3.2: bootable values other than true/false are a 400; before, "true"
    assert names("bootable=maybe", "3.1") == ["beta-two"]
    assert_cinder_error(c.get("/volumes?bootable=maybe", headers=mv("3.2")), 400)
    assert names("bootable=false", "3.2") == ["alpha-one"]
    # 3.31: a non-admin's unknown filter is dropped before, a 400 from
    msg_filter = "bogus=1"
    assert names(msg_filter, "3.30") == ["alpha-one", "beta-two"]
    r = c.get("/volumes?" + msg_filter, headers=mv("3.31"))
    assert "bogus" in assert_cinder_error(r, 400)
    # all_tenants from a non-admin is silently ignored
    assert names("all_tenants=1", "3.31") == ["alpha-one", "beta-two"]
    # 3.34: like filters
    assert_cinder_error(c.get("/volumes?name~=alp", headers=mv("3.33")), 400)
    assert names("name~=alp", "3.34") == ["alpha-one"]
    assert names("size=2", "3.34") == ["beta-two"]
    # 3.60: time comparison filters
    t = b["created_at"]
    assert names(f"created_at=gte:{t}", "3.60") == ["beta-two"]
    assert names(f"created_at=lt:{t}", "3.60") == ["alpha-one"]
    assert_cinder_error(c.get("/volumes?created_at=zz:2020-01-01", headers=mv("3.60")), 400)
    assert_cinder_error(c.get("/volumes?created_at=gt:notatime", headers=mv("3.60")), 400)
    # 3.65: consumes_quota
    assert names("consumes_quota=true", "3.65") == ["alpha-one", "beta-two"]
    assert names("consumes_quota=false", "3.65") == []
    # volume_type (admin: any filter) by name or id
    assert len(admin.get("/volumes?volume_type=__DEFAULT__&all_tenants=1",
                         expect=200).json()["volumes"]) == 2
    # admin's filter on something volumes do not have matches nothing
    assert names("nonsense=1", "3.31", who=admin) == []
    # resource_filters (3.33)
    assert_cinder_error(c.get("/resource_filters", headers=mv("3.32")), 404)
    r = c.get("/resource_filters?resource=volume", headers=mv("3.33"), expect=200).json()
    assert r["resource_filters"][0]["resource"] == "volume"
    assert "consumes_quota" in r["resource_filters"][0]["filters"]


def test_routes_added_by_versions(server):
    admin, ks = admin_cinder(server)
    c, project = member_cinder(server, ks)
    c.create_volume(2, metadata={"k": "v"})
    # 3.12 summary, 3.36 its metadata
    assert_cinder_error(c.get("/volumes/summary", headers=mv("3.11")), 404)
    s = c.get("/volumes/summary", headers=mv("3.12"), expect=200).json()["volume-summary"]
    assert s == {"total_count": 1, "total_size": 2}
    s = c.get("/volumes/summary", headers=mv("3.36"), expect=200).json()["volume-summary"]
    assert s["metadata"] == {"k": ["v"]}
    # 3.3 messages: an empty list, unknown ids
    assert_cinder_error(c.get("/messages", headers=mv("3.2")), 404)
    assert c.get("/messages", headers=mv("3.3"), expect=200).json() == {"messages": []}
    assert_cinder_error(c.get("/messages/" + "0" * 32, headers=mv("3.3")), 404)
    # 3.39: an admin reads another project's limits
    c.post("/volumes", json={"volume": {"size": 3}}, expect=202)
    lim = admin.get(f"/limits?project_id={project['id']}", headers=mv("3.39"),
                    expect=200).json()["limits"]["absolute"]
    assert lim["totalVolumesUsed"] == 2
    lim = admin.get(f"/limits?project_id={project['id']}", headers=mv("3.38"),
                    expect=200).json()["limits"]["absolute"]
    assert lim["totalVolumesUsed"] == 0


def test_default_types_362(server):
    admin, ks = admin_cinder(server)
    c, project = member_cinder(server, ks)
    pid = project["id"]
    t = admin.post("/types", json={"volume_type": {"name": "gold"}},
                   expect=200).json()["volume_type"]
    body = {"default_type": {"volume_type": "gold"}}
    assert_cinder_error(admin.put(f"/v3/default-types/{pid}", raw=True, json=body,
                                  headers=mv("3.61")), 404)
    r = admin.put(f"/v3/default-types/{pid}", raw=True, json=body, headers=mv("3.62"),
                  expect=200).json()
    assert r == {"default_type": {"project_id": pid, "volume_type_id": t["id"]}}
    assert_cinder_error(c.put(f"/v3/default-types/{pid}", raw=True, json=body,
                              headers=mv("3.62")), 403)
    r = c.get(f"/v3/default-types/{pid}", raw=True, headers=mv("3.62"), expect=200).json()
    assert r["default_type"]["volume_type_id"] == t["id"]
    lst = admin.get("/v3/default-types", raw=True, headers=mv("3.62"), expect=200).json()
    assert {"project_id": pid, "volume_type_id": t["id"]} in lst["default_types"]
    v = c.create_volume(1)
    assert v["volume_type"] == "gold"
    bad = {"default_type": {"volume_type": "gold", "x": 1}}
    assert_cinder_error(admin.put(f"/v3/default-types/{pid}", raw=True, json=bad,
                                  headers=mv("3.62")), 400)
    admin.delete(f"/v3/default-types/{pid}", raw=True, headers=mv("3.62"), expect=204)
    assert_cinder_error(admin.delete(f"/v3/default-types/{pid}", raw=True,
                                     headers=mv("3.62")), 404)
    assert c.create_volume(1)["volume_type"] == "__DEFAULT__"


def test_type_extra_specs_filter_352(server):
    admin, _ = admin_cinder(server)
    admin.post("/types", json={"volume_type": {"name": "fast",
                                               "extra_specs": {"speed": "high"}}}, expect=200)
    q = '/types?extra_specs={"speed":"high"}'
    names = [t["name"] for t in admin.get(q, headers=mv("3.52"), expect=200)
             .json()["volume_types"]]
    assert names == ["fast"]
    names = [t["name"] for t in admin.get(q, headers=mv("3.51"), expect=200)
             .json()["volume_types"]]
    assert "__DEFAULT__" in names and "fast" in names


def test_create_and_update_schema_353(server):
    c, _ = admin_cinder(server)
    extra = {"volume": {"size": 1, "user_id": "x"}}
    c.post("/volumes", json=extra, headers=mv("3.52"), expect=202)
    assert "user_id" in assert_cinder_error(
        c.post("/volumes", json=extra, headers=mv("3.53")), 400)
    # top-level keys other than volume and scheduler hints: 400 at every version
    top = {"volume": {"size": 1}, "bogus": {}}
    assert "bogus" in assert_cinder_error(c.post("/volumes", json=top), 400)
    hints = {"volume": {"size": 1}, "OS-SCH-HNT:scheduler_hints": {"same_host": []}}
    vid = c.post("/volumes", json=hints, expect=202).json()["volume"]["id"]
    # empty update: accepted before 3.53, a 400 from
    c.put(f"/volumes/{vid}", json={"volume": {}}, headers=mv("3.52"), expect=200)
    assert_cinder_error(c.put(f"/volumes/{vid}", json={"volume": {}}, headers=mv("3.53")), 400)
    # fields that cannot be updated: 400 at every version
    for field, value in (("size", 5), ("status", "error")):
        for v in ("3.0", "3.71"):
            r = c.put(f"/volumes/{vid}", json={"volume": {field: value}}, headers=mv(v))
            assert field in assert_cinder_error(r, 400)
    # group_id exists from 3.13 (unknown group: 404), ignored before
    g = {"volume": {"size": 1, "group_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}}
    c.post("/volumes", json=g, headers=mv("3.12"), expect=202)
    assert_cinder_error(c.post("/volumes", json=g, headers=mv("3.13")), 404)
    # backup_id exists from 3.47 (no backups here: 404)
    b = {"volume": {"size": 1, "backup_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}}
    c.post("/volumes", json=b, headers=mv("3.46"), expect=202)
    assert_cinder_error(c.post("/volumes", json=b, headers=mv("3.47")), 404)
    # the removed multiattach flag
    assert "multiattach" in assert_cinder_error(
        c.post("/volumes", json={"volume": {"size": 1, "multiattach": True}}), 400)


def test_delete_force_323_and_snapshot_in_use_366(server):
    c, _ = admin_cinder(server)
    v = c.create_volume(1)
    c.action(v["id"], {"os-reset_status": {"status": "error_deleting"}})
    assert_cinder_error(c.delete(f"/volumes/{v['id']}?force=true", headers=mv("3.22")), 400)
    c.delete(f"/volumes/{v['id']}?force=true", headers=mv("3.23"), expect=202)
    v = c.create_volume(1)
    c.action(v["id"], {"os-reset_status": {"status": "in-use"}})
    body = {"snapshot": {"volume_id": v["id"]}}
    assert_cinder_error(c.post("/snapshots", json=body, headers=mv("3.65")), 400)
    s = c.post("/snapshots", json=body, headers=mv("3.66"), expect=202).json()["snapshot"]
    assert s["volume_id"] == v["id"]
    forced = {"snapshot": {"volume_id": v["id"], "force": False}}
    assert "force" in assert_cinder_error(c.post("/snapshots", json=forced,
                                                 headers=mv("3.66")), 400)
    forced["snapshot"]["force"] = True
    c.post("/snapshots", json=forced, headers=mv("3.66"), expect=202)


def test_extend_in_use_342_revert_340_completion_371(server):
    c, _ = admin_cinder(server)
    v = c.create_volume(1)
    c.action(v["id"], {"os-reset_status": {"status": "in-use"}})
    assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json={"os-extend": {"new_size": 2}},
                               headers=mv("3.41")), 400)
    c.post(f"/volumes/{v['id']}/action", json={"os-extend": {"new_size": 2}},
           headers=mv("3.42"), expect=202)
    v = c.wait_volume(v["id"], until=("in-use", "error_extending"))
    assert v["size"] == 2 and v["status"] == "in-use"
    # 3.71: completion only for a volume still extending
    done = {"os-extend_volume_completion": {"error": False}}
    assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json=done, headers=mv("3.70")), 404)
    assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json=done, headers=mv("3.71")), 400)
    c.action(v["id"], {"os-reset_status": {"status": "extending"}})
    c.post(f"/volumes/{v['id']}/action", json=done, headers=mv("3.71"), expect=202)
    assert c.get(f"/volumes/{v['id']}", expect=200).json()["volume"]["status"] == "in-use"
    # 3.40 revert to the latest snapshot
    c.action(v["id"], {"os-reset_status": {"status": "available"}})
    s1 = c.create_snapshot(v["id"])
    s2 = c.create_snapshot(v["id"])
    rev = lambda sid, ver: c.post(f"/volumes/{v['id']}/action",  # noqa: E731
                                  json={"revert": {"snapshot_id": sid}}, headers=mv(ver))
    assert_cinder_error(rev(s2["id"], "3.39"), 404)
    assert_cinder_error(rev(s1["id"], "3.40"), 400)   # not the latest
    assert rev(s2["id"], "3.40").status_code == 202
    v = c.wait_volume(v["id"])
    assert v["status"] == "available"
    s = c.get(f"/snapshots/{s2['id']}", expect=200).json()["snapshot"]
    assert s["status"] == "available"


def test_no_valid_host_message_33(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    admin.post("/types", json={"volume_type": {"name": "elsewhere", "extra_specs": {
        "vendor_name": "Nobody", "storage_protocol": "iSCSI"}}}, expect=200)
    admin.post("/types", json={"volume_type": {"name": "here", "extra_specs": {
        "vendor_name": "Ferrostack", "capabilities:storage_protocol": "<or> iSCSI <or> qcow2",
        "my:scoped": "x"}}}, expect=200)
    assert c.create_volume(1, volume_type="here")["status"] == "available"
    v = c.create_volume(1, volume_type="elsewhere")
    assert v["status"] == "error"
    h = mv("3.3")
    msgs = c.get("/messages", headers=h, expect=200).json()["messages"]
    (m,) = [x for x in msgs if x["resource_uuid"] == v["id"]]
    assert m["message_level"] == "ERROR" and m["resource_type"] == "VOLUME"
    assert m["event_id"] == "VOLUME_VOLUME_001_002" and m["request_id"].startswith("req-")
    assert m["guaranteed_until"] > m["created_at"]
    got = c.get(f"/messages/{m['id']}", headers=h, expect=200).json()["message"]
    assert got == m
    other, _ = member_cinder(server, ks)
    assert_cinder_error(other.get(f"/messages/{m['id']}", headers=h), 404)
    assert other.get("/messages", headers=h, expect=200).json() == {"messages": []}
    c.delete(f"/messages/{m['id']}", headers=h, expect=204)
    assert_cinder_error(c.get(f"/messages/{m['id']}", headers=h), 404)


def test_empty_id_is_404(server):
    c, _ = admin_cinder(server)
    for method in ("GET", "PUT", "DELETE"):
        for coll in ("volumes", "snapshots"):
            r = c.request(method, f"/{coll}/", json={"volume": {"name": "x"}})
            assert_cinder_error(r, 404)
    assert c.get("/volumes", expect=200).json() == {"volumes": []}


def test_backups_per_version(server):
    c, _ = admin_cinder(server)
    vid = c.create_volume(1)["id"]
    assert c.get("/backups", expect=200).json() == {"backups": []}
    assert c.get("/backups/detail?with_count=true", headers=mv("3.45"),
                 expect=200).json() == {"backups": [], "count": 0}
    bid = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    assert_cinder_error(c.get(f"/backups/{bid}"), 404)
    assert_cinder_error(c.post(f"/backups/{bid}/restore", json={"restore": {}}), 404)
    assert_cinder_error(c.post("/backups", json={"backup": {"volume_id": bid}}), 404)
    # 3.43 metadata: an unknown key before; 3.51 availability_zone likewise
    body = {"backup": {"volume_id": vid, "metadata": {"m": "1"}}}
    assert "metadata" in assert_cinder_error(c.post("/backups", json=body,
                                                    headers=mv("3.42")), 400)
    body_az = {"backup": {"volume_id": vid, "availability_zone": "nova"}}
    assert "availability_zone" in assert_cinder_error(
        c.post("/backups", json=body_az, headers=mv("3.50")), 400)
    b = c.post("/backups", json=body, headers=mv("3.43"), expect=202).json()["backup"]
    deadline = time.monotonic() + 60
    while c.get(f"/backups/{b['id']}", expect=200).json()["backup"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    old = c.get(f"/backups/{b['id']}", headers=mv("3.42"), expect=200).json()["backup"]
    assert "metadata" not in old and "os-backup-project-attr:project_id" in old
    assert "user_id" not in old
    new = c.get(f"/backups/{b['id']}", headers=mv("3.56"), expect=200).json()["backup"]
    assert new["metadata"] == {"m": "1"} and new["user_id"]
    first = c.get(f"/backups/{b['id']}", headers=mv("3.17"), expect=200).json()["backup"]
    assert "os-backup-project-attr:project_id" not in first
    c.delete(f"/backups/{b['id']}", expect=202)


def _image(server, token, data=b"\x01" * 4096):
    import requests
    h = {"X-Auth-Token": token}
    r = requests.post(server.url + "/image/v2/images", json={
        "name": "mv-image", "disk_format": "raw", "container_format": "bare"},
        headers=h, timeout=20)
    assert r.status_code == 201, r.text
    img = r.json()
    r = requests.put(server.url + f"/image/v2/images/{img['id']}/file", data=data,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}),
                     timeout=20)
    assert r.status_code == 204, r.text
    return img["id"]


def test_more_filters_and_reimage(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    gt = admin.post("/group_types", json={"group_type": {"name": "g"}}, headers=mv("3.11"),
                    expect=202).json()["group_type"]
    g = c.post("/groups", json={"group": {"group_type": gt["id"],
                                          "volume_types": ["__DEFAULT__"]}},
               headers=mv("3.13"), expect=202).json()["group"]
    c.post("/volumes", json={"volume": {"size": 1, "name": "in-g", "group_id": g["id"]}},
           headers=mv("3.13"), expect=202)
    free = c.create_volume(1, name="free")

    def names(q, v):
        return sorted(x["name"] for x in c.get("/volumes?" + q, headers=mv(v),
                                               expect=200).json()["volumes"])

    # 3.10 group_id filter: dropped before
    assert names(f"group_id={g['id']}", "3.9") == ["free", "in-g"]
    assert names(f"group_id={g['id']}", "3.10") == ["in-g"]
    # 3.4 glance_metadata filter: dropped before
    c.action(free["id"], {"os-set_image_metadata": {"metadata": {"os": "x"}}}, expect=200)
    assert names('glance_metadata={"os": "x"}', "3.3") == ["free", "in-g"]
    assert names('glance_metadata={"os": "x"}', "3.4") == ["free"]
    # 3.22 snapshot metadata filter: dropped before
    c.create_snapshot(free["id"], metadata={"k": "v"})
    c.create_snapshot(free["id"])
    q = '/snapshots?metadata={"k": "v"}'
    assert len(c.get(q, headers=mv("3.21"), expect=200).json()["snapshots"]) == 2
    assert len(c.get(q, headers=mv("3.22"), expect=200).json()["snapshots"]) == 1
    # 3.68 os-reimage
    image_id = _image(server, c.token)
    v = c.create_volume(1)
    body = {"os-reimage": {"image_id": image_id}}
    assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json=body, headers=mv("3.67")),
                        404)
    c.post(f"/volumes/{v['id']}/action", json=body, headers=mv("3.68"), expect=202)
    assert c.wait_volume(v["id"])["status"] == "available"
    assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json={
        "os-reimage": {"image_id": "nope"}}, headers=mv("3.68")), 400)


def test_upload_to_image_31(server):
    import requests
    c, _ = admin_cinder(server)
    v = c.create_volume(1)
    body = {"os-volume_upload_image": {"image_name": "from-vol", "disk_format": "qcow2",
                                       "visibility": "shared"}}
    assert "visibility" in assert_cinder_error(
        c.post(f"/volumes/{v['id']}/action", json=body, headers=mv("3.0")), 400)
    r = c.post(f"/volumes/{v['id']}/action", json=body, headers=mv("3.1"), expect=202).json()
    up = r["os-volume_upload_image"]
    assert up["status"] == "uploading" and up["visibility"] == "shared"
    assert up["protected"] is False and up["disk_format"] == "qcow2"
    assert up["volume_type"]["name"] == "__DEFAULT__"
    assert c.wait_volume(v["id"])["status"] == "available"
    deadline = time.monotonic() + 60
    while True:
        img = requests.get(server.url + f"/image/v2/images/{up['image_id']}",
                           headers={"X-Auth-Token": c.token}, timeout=10).json()
        if img["status"] == "active" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert img["status"] == "active" and img["visibility"] == "shared"
    assert img["disk_format"] == "qcow2" and img["min_disk"] == 1
    # at 3.0 no visibility/protected in the answer
    plain = {"os-volume_upload_image": {"image_name": "plain"}}
    r = c.post(f"/volumes/{v['id']}/action", json=plain, expect=202).json()
    assert "visibility" not in r["os-volume_upload_image"]
    for bad in ({"os-volume_upload_image": {}},
                {"os-volume_upload_image": {"image_name": "x", "disk_format": "iso"}},
                {"os-volume_upload_image": {"image_name": "x", "force": None}}):
        assert_cinder_error(c.post(f"/volumes/{v['id']}/action", json=bad,
                                   headers=mv("3.1")), 400)
