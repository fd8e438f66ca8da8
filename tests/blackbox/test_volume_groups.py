"""Group types (3.11), generic volume groups (3.13; 3.25 volumes list, 3.38
replication_status, 3.58 project_id) and group snapshots (3.14; 3.19
reset_status), including volumes created into a group and groups created
from a group snapshot or another group."""

import time

from volumehelp import admin_cinder, assert_cinder_error, member_cinder


def mv(v):
    return {"OpenStack-API-Version": f"volume {v}"}


def wait(c, path, key, want="available", h=None):
    deadline = time.monotonic() + 60
    while True:
        body = c.get(path, headers=h, expect=200).json()[key]
        if body["status"] == want:
            return body
        assert body["status"] not in ("error",) and time.monotonic() < deadline, body
        time.sleep(0.2)


def test_group_types(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    h = mv("3.11")
    assert_cinder_error(admin.get("/group_types", headers=mv("3.10")), 404)
    body = {"group_type": {"name": "gt1", "description": "d", "group_specs": {"a": "b"}}}
    assert_cinder_error(member.post("/group_types", json=body, headers=h), 403)
    t = admin.post("/group_types", json=body, headers=h, expect=202).json()["group_type"]
    assert t["name"] == "gt1" and t["is_public"] is True and t["group_specs"] == {"a": "b"}
    assert_cinder_error(admin.post("/group_types", json=body, headers=h), 409)
    shown = member.get(f"/group_types/{t['id']}", headers=h, expect=200).json()["group_type"]
    assert "group_specs" not in shown and shown["name"] == "gt1"
    assert_cinder_error(member.get("/group_types/default", headers=h), 404)
    names = [x["name"] for x in member.get("/group_types", headers=h,
                                           expect=200).json()["group_types"]]
    assert names == ["gt1"]
    r = admin.put(f"/group_types/{t['id']}", json={"group_type": {"name": "gt2"}}, headers=h,
                  expect=200).json()["group_type"]
    assert r["name"] == "gt2"
    admin.post(f"/group_types/{t['id']}/group_specs", json={"group_specs": {"c": "d"}},
               headers=h, expect=202)
    specs = admin.get(f"/group_types/{t['id']}/group_specs", headers=h, expect=200).json()
    assert specs == {"group_specs": {"a": "b", "c": "d"}}
    assert admin.put(f"/group_types/{t['id']}/group_specs/c", json={"c": "e"}, headers=h,
                     expect=200).json() == {"c": "e"}
    assert admin.get(f"/group_types/{t['id']}/group_specs/c", headers=h,
                     expect=200).json() == {"c": "e"}
    admin.delete(f"/group_types/{t['id']}/group_specs/c", headers=h, expect=202)
    assert_cinder_error(admin.get(f"/group_types/{t['id']}/group_specs/c", headers=h), 404)
    for bad, field in [({"group_type": {}}, "name"),
                       ({"group_type": {"name": "x", "bogus": 1}}, "bogus"),
                       ({"group_type": {"name": "x", "is_public": None}}, "is_public")]:
        assert field in assert_cinder_error(admin.post("/group_types", json=bad, headers=h),
                                            400)
    admin.delete(f"/group_types/{t['id']}", headers=h, expect=202)
    assert_cinder_error(admin.get(f"/group_types/{t['id']}", headers=h), 404)


def test_groups_and_group_snapshots(server):
    admin, ks = admin_cinder(server)
    c, project = member_cinder(server, ks)
    gt = admin.post("/group_types", json={"group_type": {"name": "gt"}}, headers=mv("3.11"),
                    expect=202).json()["group_type"]
    vt = admin.get("/types", expect=200).json()["volume_types"][0]
    h = mv("3.13")
    body = {"group": {"name": "g1", "group_type": gt["id"], "volume_types": [vt["id"]]}}
    assert_cinder_error(c.post("/groups", json=body, headers=mv("3.12")), 404)
    g = c.post("/groups", json=body, headers=h, expect=202).json()["group"]
    assert set(g) == {"id", "name"}
    shown = c.get(f"/groups/{g['id']}", headers=h, expect=200).json()["group"]
    assert shown["status"] == "available" and shown["volume_types"] == [vt["id"]]
    assert shown["group_type"] == gt["id"] and "group_snapshot_id" not in shown
    shown = c.get(f"/groups/{g['id']}?list_volume=true", headers=mv("3.58"),
                  expect=200).json()["group"]
    assert shown["volumes"] == [] and shown["replication_status"] == "disabled"
    assert "source_group_id" in shown and "project_id" not in shown
    shown = admin.get(f"/groups/{g['id']}", headers=mv("3.58"), expect=200).json()["group"]
    assert shown["project_id"] == project["id"]
    # a volume created into the group; one added later
    v1 = c.post("/volumes", json={"volume": {"size": 1, "group_id": g["id"]}}, headers=h,
                expect=202).json()["volume"]
    assert v1["group_id"] == g["id"]
    c.wait_volume(v1["id"])
    v2 = c.create_volume(1)
    c.put(f"/groups/{g['id']}", json={"group": {"add_volumes": v2["id"], "name": "g1b"}},
          headers=h, expect=202)
    shown = c.get(f"/groups/{g['id']}?list_volume=true", headers=mv("3.25"),
                  expect=200).json()["group"]
    assert sorted(shown["volumes"]) == sorted([v1["id"], v2["id"]]) and shown["name"] == "g1b"
    # a volume in a group cannot be deleted alone
    assert_cinder_error(c.delete(f"/volumes/{v2['id']}"), 400)
    c.put(f"/groups/{g['id']}", json={"group": {"remove_volumes": v2["id"]}}, headers=h,
          expect=202)
    c.delete(f"/volumes/{v2['id']}", expect=202)
    # group snapshot, its snapshots carry group_snapshot_id
    gs = c.post("/group_snapshots", json={"group_snapshot": {"group_id": g["id"],
                                                             "name": "gs1"}},
                headers=mv("3.14"), expect=202).json()["group_snapshot"]
    assert gs["group_type_id"] == gt["id"]
    gs = wait(c, f"/group_snapshots/{gs['id']}", "group_snapshot", h=mv("3.14"))
    assert gs["group_id"] == g["id"]
    snaps = c.get(f"/snapshots/detail?group_snapshot_id={gs['id']}", headers=mv("3.14"),
                  expect=200).json()["snapshots"]
    assert [s["volume_id"] for s in snaps] == [v1["id"]]
    assert snaps[0]["group_snapshot_id"] == gs["id"]
    # group from the group snapshot, and from the group
    r = c.post("/groups/action", json={"create-from-src": {"group_snapshot_id": gs["id"],
                                                           "name": "from-gs"}},
               headers=mv("3.14"), expect=202).json()["group"]
    g2 = c.get(f"/groups/{r['id']}?list_volume=true", headers=mv("3.25"),
               expect=200).json()["group"]
    assert g2["group_snapshot_id"] == gs["id"] and len(g2["volumes"]) == 1
    r = c.post("/groups/action", json={"create-from-src": {"source_group_id": g["id"]}},
               headers=mv("3.14"), expect=202).json()["group"]
    g3 = c.get(f"/groups/{r['id']}", headers=mv("3.14"), expect=200).json()["group"]
    assert g3["source_group_id"] == g["id"]
    # delete: refused while snapshots/volumes remain, then with delete-volumes
    assert_cinder_error(c.post(f"/groups/{g['id']}/action", json={"delete": {}}, headers=h), 400)
    c.delete(f"/group_snapshots/{gs['id']}", headers=mv("3.14"), expect=202)
    for gid in (g2["id"], g3["id"]):
        for vid in c.get(f"/groups/{gid}?list_volume=true", headers=mv("3.25"),
                         expect=200).json()["group"]["volumes"]:
            c.wait_volume(vid)
    for gid in (g["id"], g2["id"], g3["id"]):
        c.post(f"/groups/{gid}/action", json={"delete": {"delete-volumes": True}},
               headers=h, expect=202)
        assert_cinder_error(c.get(f"/groups/{gid}", headers=h), 404)
    assert_cinder_error(c.get(f"/volumes/{v1['id']}"), 404)
    # reset_status is 3.20 (groups) and 3.19 (group snapshots), admin only
    g = c.post("/groups", json=body, headers=h, expect=202).json()["group"]
    rs = {"reset_status": {"status": "error"}}
    assert_cinder_error(admin.post(f"/groups/{g['id']}/action", json=rs, headers=mv("3.19")),
                        404)
    assert_cinder_error(c.post(f"/groups/{g['id']}/action", json=rs, headers=mv("3.20")), 403)
    admin.post(f"/groups/{g['id']}/action", json=rs, headers=mv("3.20"), expect=202)
    assert c.get(f"/groups/{g['id']}", headers=h, expect=200).json()["group"]["status"] == \
        "error"


def test_group_bad_input(server):
    admin, _ = admin_cinder(server)
    gt = admin.post("/group_types", json={"group_type": {"name": "gt"}}, headers=mv("3.11"),
                    expect=202).json()["group_type"]
    h = mv("3.14")
    for body, field in [({"group": {"group_type": gt["id"]}}, "volume_types"),
                        ({"group": {"volume_types": ["__DEFAULT__"]}}, "group_type"),
                        ({"group": {"group_type": gt["id"], "volume_types": []}},
                         "volume_types"),
                        ({"group": {"group_type": gt["id"], "volume_types": ["__DEFAULT__"],
                                    "x": 1}}, "x")]:
        assert field in assert_cinder_error(admin.post("/groups", json=body, headers=h), 400)
    assert_cinder_error(admin.post("/groups", json={"group": {
        "group_type": "nope", "volume_types": ["__DEFAULT__"]}}, headers=h), 404)
    for body, field in [({"group_snapshot": {}}, "group_id"),
                        ({"group_snapshot": {"group_id": "x"}}, "group_id")]:
        assert field in assert_cinder_error(admin.post("/group_snapshots", json=body,
                                                       headers=h), 400)
    assert_cinder_error(admin.post("/groups/action", json={"create-from-src": {}}, headers=h),
                        400)
