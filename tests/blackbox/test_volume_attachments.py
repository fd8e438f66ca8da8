"""The attachments API (3.27; os-complete 3.44; mode 3.54) and multiattach
volumes: the reserved → attaching → in-use state machine, several
attachments on a multiattach volume, refusals on a plain one, isolation."""

import uuid

from volumehelp import admin_cinder, assert_cinder_error, member_cinder


def mv(v):
    return {"OpenStack-API-Version": f"volume {v}"}


CONNECTOR = {"host": "compute-1", "initiator": "iqn.x", "mountpoint": "/dev/vdb"}


def status(c, vid):
    return c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"]


def test_attachments_need_327(server):
    c, _ = admin_cinder(server)
    vid = c.create_volume(1)["id"]
    body = {"attachment": {"volume_uuid": vid}}
    assert_cinder_error(c.post("/attachments", json=body, headers=mv("3.26")), 404)
    assert_cinder_error(c.get("/attachments", headers=mv("3.26")), 404)
    a = c.post("/attachments", json=body, headers=mv("3.27"), expect=200).json()["attachment"]
    assert a["status"] == "reserved" and a["volume_id"] == vid and a["instance"] is None
    assert a["connection_info"] is None and a["attached_at"] == ""
    assert a["attach_mode"] is None   # no mode before 3.54
    assert status(c, vid) == "reserved"
    # os-complete is 3.44
    assert_cinder_error(c.post(f"/attachments/{a['id']}/action", json={"os-complete": {}},
                               headers=mv("3.43")), 404)
    # mode is 3.54
    body = {"attachment": {"volume_uuid": vid, "mode": "ro"}}
    assert "mode" in assert_cinder_error(c.post("/attachments", json=body,
                                                headers=mv("3.53")), 400)


def test_attach_state_machine(server):
    c, _ = admin_cinder(server)
    vid = c.create_volume(1)["id"]
    server_id = str(uuid.uuid4())
    h = mv("3.54")
    a = c.post("/attachments", json={"attachment": {"volume_uuid": vid,
                                                    "instance_uuid": server_id}},
               headers=h, expect=200).json()["attachment"]
    assert a["instance"] == server_id and a["attach_mode"] == "null"
    assert status(c, vid) == "reserved"
    # a second reservation of a plain volume is refused
    r = c.post("/attachments", json={"attachment": {"volume_uuid": vid,
                                                    "instance_uuid": str(uuid.uuid4())}},
               headers=h)
    assert_cinder_error(r, 400)
    a = c.put(f"/attachments/{a['id']}", json={"attachment": {"connector": CONNECTOR}},
              headers=h, expect=200).json()["attachment"]
    assert a["status"] == "attaching" and a["attach_mode"] == "rw"
    assert a["connection_info"]["data"]["volume_id"] == vid
    assert status(c, vid) == "attaching"
    c.post(f"/attachments/{a['id']}/action", json={"os-complete": {}}, headers=h, expect=204)
    v = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert v["status"] == "in-use"
    (att,) = v["attachments"]
    assert att["attachment_id"] == a["id"] and att["server_id"] == server_id
    a = c.get(f"/attachments/{a['id']}", headers=h, expect=200).json()["attachment"]
    assert a["status"] == "attached" and a["attached_at"]
    lst = c.get(f"/attachments?volume_id={vid}", headers=h, expect=200).json()["attachments"]
    assert [x["id"] for x in lst] == [a["id"]] and set(lst[0]) == {
        "id", "status", "instance", "volume_id"}
    det = c.get("/attachments/detail", headers=h, expect=200).json()["attachments"]
    assert det[0]["connection_info"] is not None
    # a volume with an attachment cannot be deleted
    assert_cinder_error(c.delete(f"/volumes/{vid}"), 400)
    r = c.delete(f"/attachments/{a['id']}", headers=h, expect=200).json()
    assert r == {"attachments": []}
    assert status(c, vid) == "available"
    assert_cinder_error(c.get(f"/attachments/{a['id']}", headers=h), 404)
    # create with a connector and a mode: attaching at once
    a = c.post("/attachments", json={"attachment": {"volume_uuid": vid, "mode": "ro",
                                                    "connector": CONNECTOR}},
               headers=h, expect=200).json()["attachment"]
    assert a["status"] == "attaching" and a["attach_mode"] == "ro"
    c.delete(f"/attachments/{a['id']}", headers=h, expect=200)
    assert status(c, vid) == "available"


def test_multiattach_volume(server):
    admin, ks = admin_cinder(server)
    t = admin.post("/types", json={"volume_type": {
        "name": "multi", "extra_specs": {"multiattach": "<is> True"}}},
        expect=200).json()["volume_type"]
    c, _ = member_cinder(server, ks)
    v = c.create_volume(1, volume_type="multi")
    assert v["multiattach"] is True and v["volume_type"] == t["name"]
    plain = c.create_volume(1)
    assert plain["multiattach"] is False
    h = mv("3.60")
    ids = []
    for n in range(2):
        a = c.post("/attachments", json={"attachment": {
            "volume_uuid": v["id"], "instance_uuid": str(uuid.uuid4()),
            "connector": dict(CONNECTOR, mountpoint=f"/dev/vd{'bc'[n]}")}},
            headers=h, expect=200).json()["attachment"]
        c.post(f"/attachments/{a['id']}/action", json={"os-complete": {}}, headers=h,
               expect=204)
        ids.append(a["id"])
        assert status(c, v["id"]) == "in-use"
    vol = c.get(f"/volumes/{v['id']}", expect=200).json()["volume"]
    assert sorted(x["attachment_id"] for x in vol["attachments"]) == sorted(ids)
    # the legacy flow also takes another attachment on an in-use multiattach volume
    c.action(v["id"], {"os-reserve": {}})
    assert status(c, v["id"]) == "attaching"
    c.action(v["id"], {"os-unreserve": {}})
    assert status(c, v["id"]) == "in-use"
    c.delete(f"/attachments/{ids[0]}", headers=h, expect=200)
    assert status(c, v["id"]) == "in-use"
    c.delete(f"/attachments/{ids[1]}", headers=h, expect=200)
    assert status(c, v["id"]) == "available"
    # the plain one: os-reserve twice is refused
    c.action(plain["id"], {"os-reserve": {}})
    assert_cinder_error(c.post(f"/volumes/{plain['id']}/action", json={"os-reserve": {}}), 400)


def test_attachment_isolation_and_bad_input(server):
    admin, ks = admin_cinder(server)
    c1, _ = member_cinder(server, ks)
    c2, _ = member_cinder(server, ks)
    vid = c1.create_volume(1)["id"]
    h = mv("3.44")
    a = c1.post("/attachments", json={"attachment": {"volume_uuid": vid}}, headers=h,
                expect=200).json()["attachment"]
    assert_cinder_error(c2.get(f"/attachments/{a['id']}", headers=h), 404)
    assert c2.get("/attachments", headers=h, expect=200).json() == {"attachments": []}
    assert_cinder_error(c2.post("/attachments", json={"attachment": {"volume_uuid": vid}},
                                headers=h), 404)
    assert len(admin.get("/attachments?all_tenants=1", headers=h,
                         expect=200).json()["attachments"]) == 1
    for body, field in [({"attachment": {}}, "volume_uuid"),
                        ({"attachment": {"volume_uuid": "nope"}}, "volume_uuid"),
                        ({"attachment": {"volume_uuid": vid, "bogus": 1}}, "bogus"),
                        ({"attachment": {"volume_uuid": vid, "instance_uuid": None}},
                         "instance_uuid"),
                        ({"attachment": {"volume_uuid": vid, "connector": 5}}, "connector"),
                        ({"attachment": {"volume_uuid": vid}, "x": 1}, "x")]:
        assert field in assert_cinder_error(c1.post("/attachments", json=body, headers=h), 400)
    for body, field in [({"attachment": {}}, "connector"),
                        ({"attachment": {"connector": {}}}, "connector"),
                        ({"attachment": {"connector": CONNECTOR, "mode": "rw"}}, "mode")]:
        assert field in assert_cinder_error(
            c1.put(f"/attachments/{a['id']}", json=body, headers=h), 400)
    assert "os-complete" in assert_cinder_error(
        c1.post(f"/attachments/{a['id']}/action", json={"os-bogus": {}}, headers=h), 400)
