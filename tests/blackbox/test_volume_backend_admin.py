"""Admin views of the one backend (os-hosts, scheduler-stats/get_pools,
capabilities), volume image-metadata actions, retype on one backend and
os-update_snapshot_status with progress."""

import uuid

from volumehelp import admin_cinder, assert_cinder_error, member_cinder


def test_hosts_pools_capabilities(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    admin.create_volume(2)
    hosts = admin.get("/os-hosts", expect=200).json()["hosts"]
    assert {h["service"] for h in hosts} == {"cinder-scheduler", "cinder-volume"}
    vol_host = next(h["host_name"] for h in hosts if h["service"] == "cinder-volume")
    detail = admin.get(f"/os-hosts/{vol_host}", expect=200).json()["host"]
    total = next(d["resource"] for d in detail if d["resource"]["project"] == "(total)")
    assert total["volume_count"] == "1" and total["total_volume_gb"] == "2"
    assert_cinder_error(admin.get("/os-hosts/nowhere"), 404)
    assert_cinder_error(member.get("/os-hosts"), 403)
    pools = admin.get("/scheduler-stats/get_pools", expect=200).json()["pools"]
    assert len(pools) == 1 and set(pools[0]) == {"name"}
    pools = admin.get("/scheduler-stats/get_pools?detail=True", expect=200).json()["pools"]
    caps = pools[0]["capabilities"]
    assert caps["vendor_name"] == "Ferrostack" and caps["storage_protocol"] == "qcow2"
    v = admin.get("/volumes/detail", expect=200).json()["volumes"][0]
    assert v["os-vol-host-attr:host"] == pools[0]["name"]
    c = admin.get(f"/capabilities/{vol_host}", expect=200).json()
    assert c["volume_backend_name"] == caps["volume_backend_name"]
    assert c["namespace"].startswith("OS::Storage::Capabilities::")
    assert_cinder_error(member.get(f"/capabilities/{vol_host}"), 403)


def test_image_metadata_actions_retype_and_progress(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    vid = c.create_volume(1)["id"]
    r = c.action(vid, {"os-set_image_metadata": {"metadata": {"a": "1", "b": "2"}}},
                 expect=200).json()
    assert r == {"metadata": {"a": "1", "b": "2"}}
    shown = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert shown["volume_image_metadata"] == {"a": "1", "b": "2"}
    c.action(vid, {"os-unset_image_metadata": {"key": "a"}}, expect=200)
    assert_cinder_error(c.post(f"/volumes/{vid}/action",
                               json={"os-unset_image_metadata": {"key": "a"}}), 404)
    r = c.action(vid, {"os-show_image_metadata": {}}, expect=200).json()
    assert r == {"metadata": {"b": "2"}}
    assert_cinder_error(c.post(f"/volumes/{vid}/action", json={
        "os-set_image_metadata": {"metadata": {"k": 5}}}), 400)
    # retype on one backend
    admin.post("/types", json={"volume_type": {"name": "t2"}}, expect=200)
    admin.post("/types", json={"volume_type": {"name": "far", "extra_specs": {
        "volume_backend_name": "other"}}}, expect=200)
    c.action(vid, {"os-retype": {"new_type": "t2", "migration_policy": "never"}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["volume_type"] == "t2"
    # a type no backend satisfies: accepted, and (as Cinder's scheduler finds
    # no backend) the volume keeps its type and status
    for policy in ("never", "on-demand"):
        c.action(vid, {"os-retype": {"new_type": "far", "migration_policy": policy}})
        v = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
        assert (v["volume_type"], v["status"]) == ("t2", "available"), v
    for body in ({"os-retype": {"new_type": "t2"}},
                 {"os-retype": {"new_type": "t2", "migration_policy": "sometimes"}},
                 {"os-retype": {}}):
        assert_cinder_error(c.post(f"/volumes/{vid}/action", json=body), 400)
    assert_cinder_error(c.post(f"/volumes/{vid}/action",
                               json={"os-retype": {"new_type": "nope"}}), 404)
    # os-update_snapshot_status: creating -> error with a progress
    s = c.create_snapshot(vid)
    admin.post(f"/snapshots/{s['id']}/action", json={"os-reset_status": {"status": "creating"}},
               expect=202)
    c.post(f"/snapshots/{s['id']}/action", json={"os-update_snapshot_status": {
        "status": "error", "progress": "80%"}}, expect=202)
    got = admin.get(f"/snapshots/{s['id']}", expect=200).json()["snapshot"]
    assert got["status"] == "error" and got["os-extended-snapshot-attributes:progress"] == "80%"
    assert_cinder_error(c.post(f"/snapshots/{s['id']}/action", json={
        "os-update_snapshot_status": {"status": "available"}}), 400)


def test_services_enable_disable_freeze(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    svcs = admin.get("/os-services", expect=200).json()["services"]
    vol = next(s for s in svcs if s["binary"] == "cinder-volume")
    assert vol["status"] == "enabled" and vol["frozen"] is False and "cluster" not in vol
    svcs = admin.get("/os-services", headers={"OpenStack-API-Version": "volume 3.49"},
                     expect=200).json()["services"]
    vol = next(s for s in svcs if s["binary"] == "cinder-volume")
    assert vol["cluster"] is None and vol["backend_state"] == "up"
    host = vol["host"]
    assert_cinder_error(member.put("/os-services/disable", json={"host": host}), 403)
    assert_cinder_error(admin.put("/os-services/enable", json={"host": "nowhere",
                                                             "binary": "cinder-volume"}), 404)
    assert_cinder_error(admin.put("/os-services/disable", json={"host": host,
                                                              "binary": "nope"}), 404)
    assert_cinder_error(admin.put("/os-services/disable-log-reason", json={
        "host": host, "binary": "cinder-volume", "disabled_reason": None}), 400)
    assert_cinder_error(admin.put("/os-services/freeze", json={"host": "nowhere"}), 400)
    r = admin.put("/os-services/disable-log-reason", json={
        "host": host, "binary": "cinder-volume", "disabled_reason": "maintenance"},
        expect=200).json()
    assert r["disabled"] is True and r["status"] == "disabled"
    # a disabled volume service takes no new volumes
    v = member.create_volume(1)
    assert v["status"] == "error"
    admin.put("/os-services/enable", json={"host": host, "binary": "cinder-volume"},
              expect=200)
    assert member.create_volume(1)["status"] == "available"
    admin.put("/os-services/freeze", json={"host": host}, expect=200)
    svcs = admin.get("/os-services?binary=cinder-volume", expect=200).json()["services"]
    assert svcs[0]["frozen"] is True
    admin.put("/os-services/thaw", json={"host": host}, expect=200)


def test_quota_class_default(server):
    admin, ks = admin_cinder(server)
    member, project = member_cinder(server, ks)
    admin.post("/types", json={"volume_type": {"name": "qt"}}, expect=200)
    q = admin.get("/os-quota-class-sets/default", expect=200).json()["quota_class_set"]
    assert q["id"] == "default" and q["volumes"] == 10 and q["volumes_qt"] == -1
    assert_cinder_error(member.get("/os-quota-class-sets/default"), 403)
    r = admin.put("/os-quota-class-sets/default", json={"quota_class_set": {
        "volumes": 2, "gigabytes_qt": 7}}, expect=200).json()["quota_class_set"]
    assert r["volumes"] == 2 and r["gigabytes_qt"] == 7 and "id" not in r
    d = admin.get(f"/os-quota-sets/{project['id']}/defaults", expect=200).json()["quota_set"]
    assert d["volumes"] == 2 and d["gigabytes_qt"] == 7
    member.create_volume(1)
    member.create_volume(1)
    assert_cinder_error(member.post("/volumes", json={"volume": {"size": 1}}), 413)
    for bad in ({"quota_class_set": {"bogus": 1}}, {"quota_class_set": {"volumes": -2}},
                {"quota_class_set": {"volumes_nosuchtype": 1}}):
        assert_cinder_error(admin.put("/os-quota-class-sets/default", json=bad), 400)


def test_encryption_types(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    t = admin.post("/types", json={"volume_type": {"name": "enc"}},
                   expect=200).json()["volume_type"]
    assert admin.get(f"/types/{t['id']}/encryption", expect=200).json() == {}
    spec = {"provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256,
            "control_location": "front-end"}
    assert_cinder_error(member.post(f"/types/{t['id']}/encryption",
                                    json={"encryption": spec}), 403)
    e = admin.post(f"/types/{t['id']}/encryption", json={"encryption": spec},
                   expect=200).json()["encryption"]
    assert e["volume_type_id"] == t["id"] and e["key_size"] == 256
    assert_cinder_error(admin.post(f"/types/{t['id']}/encryption",
                                   json={"encryption": spec}), 400)
    shown = admin.get(f"/types/{t['id']}/encryption", expect=200).json()
    assert shown["encryption_id"] == e["encryption_id"] and shown["deleted"] is False
    assert admin.get(f"/types/{t['id']}/encryption/cipher", expect=200).json() == {
        "cipher": "aes-xts-plain64"}
    r = admin.put(f"/types/{t['id']}/encryption/{e['encryption_id']}",
                  json={"encryption": {"key_size": 128, "control_location": "back-end"}},
                  expect=200).json()
    assert r == {"encryption": {"key_size": 128, "control_location": "back-end"}}
    for bad in ({"encryption": {"provider": "p", "control_location": "middle"}},
                {"encryption": {"provider": "p", "bogus": 1}},
                {"encryption": {"key_size": -1}}):
        assert_cinder_error(admin.put(f"/types/{t['id']}/encryption/{e['encryption_id']}",
                                      json=bad), 400)
    # no key manager: volumes of an encrypted type are refused
    assert_cinder_error(member.post("/volumes", json={"volume": {"size": 1,
                                                                 "volume_type": "enc"}}), 400)
    admin.delete(f"/types/{t['id']}/encryption/{e['encryption_id']}", expect=202)
    assert admin.get(f"/types/{t['id']}/encryption", expect=200).json() == {}
    assert member.create_volume(1, volume_type="enc")["status"] == "available"


def test_qos_specs(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    r = admin.post("/qos-specs", json={"qos_specs": {"name": "q1", "consumer": "front-end",
                                                     "read_iops_sec": "100"}},
                   expect=200).json()
    q = r["qos_specs"]
    assert q["consumer"] == "front-end" and q["specs"] == {"read_iops_sec": "100"}
    assert r["links"][0]["rel"] == "self"
    assert_cinder_error(admin.post("/qos-specs", json={"qos_specs": {"name": "q1"}}), 409)
    assert_cinder_error(admin.post("/qos-specs", json={"qos_specs": {
        "name": "q2", "consumer": "middle"}}), 400)
    assert_cinder_error(member.get("/qos-specs"), 403)
    assert [x["id"] for x in admin.get("/qos-specs", expect=200).json()["qos_specs"]] == \
        [q["id"]]
    assert admin.put(f"/qos-specs/{q['id']}", json={"qos_specs": {"a": "1"}},
                     expect=200).json() == {"qos_specs": {"a": "1"}}
    admin.put(f"/qos-specs/{q['id']}/delete_keys", json={"keys": ["a"]}, expect=202)
    assert_cinder_error(admin.put(f"/qos-specs/{q['id']}/delete_keys",
                                  json={"keys": ["a"]}), 404)
    t = admin.post("/types", json={"volume_type": {"name": "qt"}},
                   expect=200).json()["volume_type"]
    admin.get(f"/qos-specs/{q['id']}/associate?vol_type_id={t['id']}", expect=202)
    a = admin.get(f"/qos-specs/{q['id']}/associations", expect=200).json()
    assert a == {"qos_associations": [{"association_type": "volume_type", "id": t["id"],
                                       "name": "qt"}]}
    assert_cinder_error(admin.delete(f"/qos-specs/{q['id']}"), 400)
    admin.get(f"/qos-specs/{q['id']}/disassociate_all", expect=202)
    assert admin.get(f"/qos-specs/{q['id']}/associations",
                     expect=200).json() == {"qos_associations": []}
    admin.delete(f"/qos-specs/{q['id']}", expect=202)
    assert_cinder_error(admin.get(f"/qos-specs/{q['id']}"), 404)


def mv(v):
    return {"OpenStack-API-Version": f"volume {v}"}


def test_empty_answers_without_the_feature(server):
    admin, ks = admin_cinder(server)
    member, _ = member_cinder(server, ks)
    # clusters (3.7)
    assert_cinder_error(admin.get("/clusters", headers=mv("3.6")), 404)
    assert admin.get("/clusters/detail", headers=mv("3.7"), expect=200).json() == {
        "clusters": []}
    assert_cinder_error(member.get("/clusters", headers=mv("3.7")), 403)
    assert_cinder_error(admin.get("/clusters/c1", headers=mv("3.7")), 404)
    assert_cinder_error(admin.put("/clusters/enable", json={"name": "c1"},
                                  headers=mv("3.7")), 404)
    # manageable volumes/snapshots (3.8; 3.17 cluster)
    assert_cinder_error(admin.get("/manageable_volumes?host=ferrostack@qcow2",
                                  headers=mv("3.7")), 404)
    r = admin.get("/manageable_volumes?host=ferrostack@qcow2", headers=mv("3.8"), expect=200)
    assert r.json() == {"manageable-volumes": []}
    r = admin.get("/manageable_snapshots/detail?host=ferrostack@qcow2", headers=mv("3.8"),
                  expect=200)
    assert r.json() == {"manageable-snapshots": []}
    assert_cinder_error(admin.get("/manageable_volumes", headers=mv("3.8")), 400)
    assert_cinder_error(admin.get("/manageable_volumes?host=elsewhere", headers=mv("3.8")),
                        404)
    assert_cinder_error(admin.get("/manageable_volumes?host=ferrostack@qcow2&cluster=c",
                                  headers=mv("3.17")), 400)
    # workers cleanup (3.24)
    r = admin.post("/workers/cleanup", json={}, headers=mv("3.24"), expect=202)
    assert r.json() == {"cleaning": [], "unavailable": []}
    assert_cinder_error(admin.post("/workers/cleanup", json={}, headers=mv("3.23")), 404)
    # group replication (3.38)
    gt = admin.post("/group_types", json={"group_type": {"name": "g"}}, headers=mv("3.11"),
                    expect=202).json()["group_type"]
    g = admin.post("/groups", json={"group": {"group_type": gt["id"],
                                              "volume_types": ["__DEFAULT__"]}},
                   headers=mv("3.13"), expect=202).json()["group"]
    act = f"/groups/{g['id']}/action"
    assert_cinder_error(admin.post(act, json={"enable_replication": {}}, headers=mv("3.37")),
                        404)
    assert_cinder_error(admin.post(act, json={"enable_replication": {}}, headers=mv("3.38")),
                        400)
    assert admin.post(act, json={"list_replication_targets": {}}, headers=mv("3.38"),
                      expect=200).json() == {"replication_targets": []}


def test_force_detach_from_error_and_detach_of_nothing(server):
    admin, ks = admin_cinder(server)
    c, _ = member_cinder(server, ks)
    vid = c.create_volume(1)["id"]
    c.action(vid, {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}})
    vol = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert vol["status"] == "in-use"
    att = vol["attachments"][0]["attachment_id"]
    admin.action(vid, {"os-reset_status": {"status": "error"}})
    assert_cinder_error(c.post(f"/volumes/{vid}/action", json={
        "os-force_detach": {"attachment_id": att}}), 403)
    assert_cinder_error(admin.post(f"/volumes/{vid}/action", json={
        "os-force_detach": {"attachment_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}}), 400)
    # force detach works from error (nothing is really connected)
    admin.action(vid, {"os-force_detach": {"attachment_id": att, "connector": None}})
    vol = c.get(f"/volumes/{vid}", expect=200).json()["volume"]
    assert (vol["status"], vol["attachments"]) == ("available", []), vol
    # a detach of a volume with nothing attached is accepted (Cinder's
    # manager finds nothing to do); naming an attachment it lacks is a 400
    c.action(vid, {"os-detach": {}})
    assert c.get(f"/volumes/{vid}", expect=200).json()["volume"]["status"] == "available"
    assert_cinder_error(c.post(f"/volumes/{vid}/action", json={
        "os-detach": {"attachment_id": att}}), 400)


def test_extensions_list_what_is_served(server):
    """`GET /extensions` (what tempest's api_extensions=all reads): each alias
    once, and a route or attribute of each one answers."""
    admin, _ = admin_cinder(server)
    exts = admin.get("/extensions", expect=200).json()["extensions"]
    aliases = [e["alias"] for e in exts]
    assert len(aliases) == len(set(aliases)), aliases
    assert "Hosts" in {e["name"] for e in exts}
    for e in exts:
        assert set(e) == {"alias", "name", "description", "links", "updated"}, e
    probes = {"backups": "/backups", "os-hosts": "/os-hosts", "qos-specs": "/qos-specs",
              "os-volume-transfer": "/os-volume-transfer", "os-services": "/os-services",
              "scheduler-stats": "/scheduler-stats/get_pools",
              "os-quota-class-sets": "/os-quota-class-sets/default",
              "os-availability-zone": "/os-availability-zone", "os-types-manage": "/types"}
    for alias, path in probes.items():
        assert alias in aliases, alias
        admin.get(path, expect=200)
    vid = admin.create_volume(1)["id"]
    vol = admin.get(f"/volumes/{vid}", expect=200).json()["volume"]
    for alias, attr in {"os-vol-tenant-attr": "os-vol-tenant-attr:tenant_id",
                        "os-vol-host-attr": "os-vol-host-attr:host",
                        "os-vol-mig-status-attr": "os-vol-mig-status-attr:migstat"}.items():
        assert alias in aliases and attr in vol, (alias, vol)
    lim = admin.get("/limits", expect=200).json()["limits"]["absolute"]
    assert "os-used-limits" in aliases and "totalVolumesUsed" in lim
